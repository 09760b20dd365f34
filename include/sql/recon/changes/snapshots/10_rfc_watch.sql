-- RFC watch list (mart.rfc_watch): every RFC in 客户审批 or 实施 with its overdue-closure deadline,
-- days left (negative when overdue), whether an extension applied, its tasks and what to do.
-- Same deadline and task logic as CH-01 / CH-02 (model rfc_deadlines).
with watched as (
    select d.*
    from rfc_deadlines as d
    where d.status in ('客户审批', '实施')
),

final as (
    select
        w.rfc_no,
        w.title,
        w.region,
        w.customer_name,
        w.status,
        w.pm_approved_at,
        w.extension,
        w.extension_applied,
        w.deadline,
        w.days_left,
        w.n_tasks,
        w.task_states,
        case
            when w.pm_approved_at is null then 'no_pm_approval'
            when not w.all_idle then 'started'
            when w.is_overdue then 'overdue'
            when w.is_due_soon then 'due_soon'
            else 'open'
        end as state,
        case
            when w.pm_approved_at is null then '无PM审批完成时间，无法计算期限；请核对NetCare'
            when not w.all_idle then '已有任务开始（不会超期关闭），按计划实施'
            when w.is_overdue then '已过期限：预计被超期关闭，后续工作需新建RFC'
            when w.is_due_soon then '7天内到期：立即开始任务，或不再需要时取消RFC'
            else '期限前开始任务；不再需要时取消RFC'
        end as action
    from watched as w
)

select * from final
