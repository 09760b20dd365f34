-- sheet: 驻场报告
-- Expected resident weekly / monthly reports of :business_date (rulebook RA-08; mart.resident_reports,
-- written by the reports step): per ticket, engineer and period the due date (end of that day, from
-- the working-day calendar) and the status (outputs/reports.py, report_status): 未到期 (not due), 已生成
-- (could be generated on or before the due date), 补生成 (due before the go-live), 逾期生成 (its
-- attendance visible only after the due date), 缺失 (due date over, nothing generated); 可生成日期 and
-- the content-addressed 版本 depend on the extracts visible for the date only; the words from ref.labels
-- (fieldrecon.labels). No phone numbers.
with final as (
    select
        k.label_zh as "报告类型",
        r.region as "区域",
        r.customer_name as "客户名称",
        r.ticket_no as "工单号",
        r.engineer_id as "工程师工号",
        r.engineer_name as "工程师姓名",
        r.period_start as "周期开始",
        r.period_end as "周期结束",
        r.attendance_days as "考勤天数",
        r.due_date as "应交日期",
        s.label_zh as "状态",
        r.available_on as "可生成日期（业务日期）",
        r.version_label as "版本",
        r.pdf_path as "PDF文件",
        r.xlsx_path as "Excel文件"
    from mart.resident_reports as r
    left join ref.labels as k on k.kind = 'report_kind' and k.code = r.report_kind
    left join ref.labels as s on s.kind = 'report_status' and s.code = r.status
    where r.business_date = cast(:business_date as date)
)

-- weekly reports before monthly ones of the same due date
select * from final
order by
    "应交日期" desc, "区域" asc, "工单号" asc, "工程师工号" asc,
    "报告类型" = (
        select l.label_zh
        from ref.labels as l
        where l.kind = 'report_kind' and l.code = 'weekly'
    ) desc
