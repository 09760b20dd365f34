-- sheet: 驻场考勤
-- Resident attendance summary of :business_date (mart.attendance_summary, written by the attendance
-- family), one sheet with a 月份 column: per engineer, ticket and month the scheduled days, unexcused
-- anomalies by kind (each punch slot counts once), excused days, the engineer's month and 3-month totals
-- over all tickets (as RA-04 / RA-05 count them), the RA-06 deadline for that month's exception flows
-- and the RA-04 / RA-05 status. No phone numbers.
with final as (
    select
        a.month as "月份",
        a.engineer_id as "工程师工号",
        a.engineer_name as "工程师姓名",
        a.region as "区域",
        a.ticket_no as "工单号",
        a.scheduled_days as "排班天数",
        a.missing_count as "缺卡次数",
        a.late_count as "迟到次数",
        a.early_count as "早退次数",
        a.anomalies as "本工单异常合计",
        a.excused_days as "已豁免天数（请假/电子流）",
        a.pending_flow_days as "电子流审批中天数",
        a.engineer_month_anomalies as "工程师本月异常（全部工单）",
        a.engineer_3m_anomalies as "近3个月异常合计",
        a.ra06_deadline as "异常电子流审批截止日",
        case
            when a.ra04_exceeded then '超过' || cast(:ra04_max_month_anomalies as integer) || '次：需提交改进计划'
            else '正常'
        end as "月度状态(RA-04)",
        case
            when a.ra05_exceeded then '超过' || cast(:ra05_max_quarter_anomalies as integer) || '次：厂商可能要求换人'
            else '正常'
        end as "三个月状态(RA-05)"
    from mart.attendance_summary as a
    where a.business_date = cast(:business_date as date)
)

select * from final
order by "月份" desc, "工程师工号" asc, "工单号" asc
