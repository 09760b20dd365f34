-- rule: CH-01
-- severity: error
-- title: RFC超期关闭
-- explain: 变更单处于客户审批或实施状态、没有任何任务开始，已超过PM审批后31天（延期获批再加34天）的期限，将被超期关闭，后续工作需新建RFC。
-- clause: 第8部分 三 5) 超期关闭；6) 延期申请 ②
-- Deadline and task states come from the rfc_deadlines model; "past its deadline" is as_of strictly
-- after the deadline.
with overdue as (
    select d.*
    from rfc_deadlines as d
    where d.is_overdue
),

final as (
    select
        o.region,
        o.rfc_no,
        jsonb_build_object(
            'status', o.status,
            'pm_approved_at', o.pm_approved_at,
            'extension_applied', o.extension_applied,
            'deadline', o.deadline,
            'days_overdue', -o.days_left,
            'tasks', o.task_states
        ) as details
    from overdue as o
)

select * from final
