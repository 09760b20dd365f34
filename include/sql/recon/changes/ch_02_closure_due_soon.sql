-- rule: CH-02
-- severity: warning
-- title: RFC即将超期关闭
-- explain: 变更单没有任何任务开始，距超期关闭期限不足7天，请立即开始任务或取消变更单。
-- clause: 由第8部分 三 5) 超期关闭推导
-- deadline − 7×24 h ≤ as_of ≤ deadline, both inclusive (rfc_deadlines.is_due_soon).
with due_soon as (
    select d.*
    from rfc_deadlines as d
    where d.is_due_soon
),

final as (
    select
        s.region,
        s.rfc_no,
        jsonb_build_object(
            'status', s.status,
            'pm_approved_at', s.pm_approved_at,
            'extension_applied', s.extension_applied,
            'deadline', s.deadline,
            'days_left', s.days_left,
            'tasks', s.task_states
        ) as details
    from due_soon as s
)

select * from final
