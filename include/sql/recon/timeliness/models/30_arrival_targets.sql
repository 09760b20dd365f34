-- One row per ticket counted by the arrival KPI (rulebook, KPI statistics, `arrival`, part 12 KPI 11):
-- tickets in PD scope (known, every type but 驻场 and POC; never 已取消) with an FSE and a target
-- time — 预约到达时间, else 要求到达时间 (PD-08's reading). first_arrived_at is the FSE's first 到达
-- punch on the ticket. decided: the FSE arrived, or the target time is before as_of; on time: the
-- first arrival no later than the target. Counted in the month of the target time.
with params as (
    select cast(:as_of as timestamp) as as_of
),

tickets as (
    select
        w.ticket_no,
        w.region,
        w.engineer_id,
        coalesce(w.appointment_at, w.required_arrival_at) as target_at
    from netcare_workorders as w
    where w.ticket_type not in ('驻场', 'POC')
        and w.status <> '已取消'
        and nullif(btrim(w.engineer_id), '') is not null
        and coalesce(w.appointment_at, w.required_arrival_at) is not null
),

arrivals as (
    select
        p.ticket_no,
        p.engineer_id,
        min(p.punched_at) as first_arrived_at
    from netcare_punches as p
    where p.punch_type = '到达'
    group by p.ticket_no, p.engineer_id
),

final as (
    select
        t.ticket_no,
        t.region,
        t.engineer_id,
        t.target_at,
        a.first_arrived_at,
        a.first_arrived_at is not null or t.target_at < p.as_of as decided,
        coalesce(a.first_arrived_at <= t.target_at, false) as on_time
    from tickets as t
    cross join params as p
    left join arrivals as a on a.ticket_no = t.ticket_no and a.engineer_id = t.engineer_id
)

select * from final
