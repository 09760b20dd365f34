-- rule: SL-02
-- severity: warning
-- title: 巡检/整改工单派发超过{sl02_dispatch_working_days}个工作日
-- explain: 巡检、整改工单自MSD派单当日起，须在第{sl02_dispatch_working_days}个工作日（按国家法定节假日及调休）结束前由FSIP派发；派发晚于该时限或至今未派发且已过时限的会标出。
-- clause: 第3部分 4.1(1)2); 第4部分 4.1(1)2)
-- "FSIP 末次派发 − MSD 首次派发 ≤ 15 个工作日" on the extract's one value of each: deadline = end of
-- ops.working_days_after(day received, :sl02_dispatch_working_days) (dispatch_deadlines model).
with late as (
    select d.*
    from dispatch_deadlines as d
    where d.rule_code = 'SL-02'
        and d.is_late
),

final as (
    select
        l.region,
        l.ticket_no,
        jsonb_build_object(
            'ticket_type', l.ticket_type,
            'received', l.received_at,
            'dispatched', l.dispatched_at,
            'deadline', l.deadline,
            'deadline_day', l.deadline_day,
            'minutes_late', l.minutes_late
        ) as details
    from late as l
)

select * from final
