-- rule: SL-01
-- severity: warning
-- title: 工单派发超时
-- explain: 现场问题处理、单次现场服务、事件值守、高级软件现场支持工单，FSIP派发时间晚于时限（或至今未派发且已过时限）：
-- explain: 小时级现场问题处理须在MSD派单后10分钟内派发；其余工单在工作时间（08:30–18:00）收到的须30分钟内派发，
-- explain: 18:00后收到的须次日09:00前派发，08:30前收到的须当日09:00前派发。
-- clause: 第2部分 4.1(1) 派发要求; 第5部分 4.1(1); 第12部分 KPI 8
-- Deadlines and lateness come from the dispatch_deadlines model; "later than" is strict, and an
-- undispatched ticket is late once as_of is after the deadline.
with late as (
    select d.*
    from dispatch_deadlines as d
    where d.rule_code = 'SL-01'
        and d.is_late
),

final as (
    select
        l.region,
        l.ticket_no,
        jsonb_build_object(
            'ticket_type', l.ticket_type,
            'sla_class', l.sla_class,
            'received', l.received_at,
            'dispatched', l.dispatched_at,
            'deadline', l.deadline,
            'deadline_kind', l.deadline_kind,
            'minutes_late', l.minutes_late
        ) as details
    from late as l
)

select * from final
