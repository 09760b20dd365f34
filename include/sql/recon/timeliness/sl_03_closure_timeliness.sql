-- rule: SL-03
-- severity: warning
-- title: 关单申请超时
-- explain: 工单完成（最后一次“完成”打卡；驻场为最后一次“离场”打卡）后，须在第5个工作日结束前提交关单申请（巡检为第10个工作日）；关单申请晚于时限或至今未申请且已过时限的会标出。POC工单不检查。
-- clause: 第2部分 4.3(2)3); 第3部分 4.3(2)3); 第4部分 4.3(2)3); 第5部分 4.4 1); 第6部分 4.3(2)3); 第12部分 KPI 12
-- Deadline = end of ops.working_days_after(completion day, 5 or 10 for 巡检) (closure_deadlines model).
with late as (
    select c.*
    from closure_deadlines as c
    where c.is_late
),

final as (
    select
        l.region,
        l.ticket_no,
        jsonb_build_object(
            'ticket_type', l.ticket_type,
            'completed_at', l.completed_at,
            'deadline', l.deadline,
            'deadline_day', l.deadline_day,
            'close_requested_at', l.close_requested_at,
            'working_days_allowed', l.limit_days,
            'working_days_used', l.working_days_used
        ) as details
    from late as l
)

select * from final
