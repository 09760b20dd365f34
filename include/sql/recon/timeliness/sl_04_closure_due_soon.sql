-- rule: SL-04
-- severity: info
-- title: 关单申请即将到期
-- explain: 工单已完成但尚未提交关单申请，关单时限将在今后{sl04_due_working_days}个工作日内到期，请尽快提交关单申请。
-- clause: 第12部分 KPI 12 "工作群组每周提醒…持续跟进闭环情况"
-- Not requested, as_of <= deadline and deadline <= end of the :sl04_due_working_days-th working day
-- after the business date (closure_deadlines.due_soon).
with due_soon as (
    select c.*
    from closure_deadlines as c
    where c.due_soon
),

final as (
    select
        s.region,
        s.ticket_no,
        jsonb_build_object(
            'ticket_type', s.ticket_type,
            'completed_at', s.completed_at,
            'deadline', s.deadline,
            'deadline_day', s.deadline_day,
            'working_days_allowed', s.limit_days,
            'working_days_used', s.working_days_used
        ) as details
    from due_soon as s
)

select * from final
