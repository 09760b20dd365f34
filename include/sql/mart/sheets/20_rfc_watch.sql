-- sheet: RFC跟踪
-- RFC watch list of :business_date (mart.rfc_watch, written by the changes family): every RFC in
-- 客户审批 / 实施 with its overdue-closure deadline (PM审批完成时间 + 31 天, + 34 天 when the extension is
-- approved), days left (negative when overdue), its tasks and what to do; sorted by days left.
with final as (
    select
        w.rfc_no as "RFC单号",
        w.title as "标题",
        w.region as "区域",
        w.customer_name as "客户名称",
        w.status as "状态",
        w.pm_approved_at as "PM审批完成时间",
        coalesce(w.extension, '无') as "延期审批状态",
        case when w.extension_applied then '是（+34天）' else '否' end as "是否已延期",
        w.deadline as "超期关闭期限",
        cast(w.deadline as date) as "期限日期",
        w.days_left as "剩余天数",
        w.n_tasks as "任务数",
        w.task_states as "任务状态",
        w.action as "处理建议"
    from mart.rfc_watch as w
    where w.business_date = cast(:business_date as date)
)

select * from final
order by "剩余天数" nulls last, "RFC单号"
