-- Visits (rulebook, "Visit"), for the punches in scope of the PD rules: punches on known tickets
-- of every type except 驻场 and POC. For one engineer on one ticket each 到达 opens a visit; it is
-- ended by the first later 离场 of that engineer on that ticket before their next 到达 there,
-- failing that by the last 完成 between the two arrivals, otherwise it stays open (ended_at null).
-- 暂停 does not end a visit; punches of other types play no part here.
-- Reading of "later" / "before" / "between": strict in time. A 离场 or 完成 at the very instant of
-- an arrival belongs to neither that visit nor the previous one (it is not later than the one and
-- not before the other); such a 离场 is an orphan leave. Two arrivals at the same instant are
-- taken in punch_id order (the first then has an empty window and stays open).
-- Done with windows only: events sorted per (engineer, ticket) by time, non-arrivals before
-- arrivals at the same instant, then punch_id; arrival_ord counts the arrivals so far (the
-- visit a leave/complete may belong to) and next_arrival_at is the time of the next arrival.
with pd_tickets as (
    select w.ticket_no
    from netcare_workorders as w
    where w.ticket_type not in ('驻场', 'POC')
),

events as (
    select
        p.punch_id,
        p.ticket_no,
        p.engineer_id,
        p.punch_type,
        p.punched_at,
        count(*) filter (where p.punch_type = '到达') over w_upto as arrival_ord,
        min(p.punched_at) filter (where p.punch_type = '到达') over w_after as next_arrival_at
    from netcare_punches as p
    inner join pd_tickets as t on t.ticket_no = p.ticket_no
    where p.punch_type in ('到达', '离场', '完成')
    window
        w as (partition by p.engineer_id, p.ticket_no order by p.punched_at, p.punch_type = '到达', p.punch_id),
        w_upto as (w rows between unbounded preceding and current row),
        w_after as (w rows between 1 following and unbounded following)
),

visits as (
    -- one group per arrival: the arrival itself and the leaves/completes sorted after it up to
    -- the next arrival; "valid" ones lie strictly before that next arrival. The first valid
    -- leave (ties: smallest punch_id) ends the visit, failing that the last valid complete.
    select
        e.engineer_id,
        e.ticket_no,
        e.arrival_ord,
        min(e.punch_id) filter (where e.punch_type = '到达') as arrival_id,
        min(e.punched_at) filter (where e.punch_type = '到达') as arrived_at,
        min(e.punched_at) filter (where e.punch_type = '离场' and e.is_valid) as leave_at,
        substr(min(e.end_key) filter (where e.punch_type = '离场' and e.is_valid), 21) as leave_id,
        max(e.punched_at) filter (where e.punch_type = '完成' and e.is_valid) as complete_at,
        substr(max(e.end_key) filter (where e.punch_type = '完成' and e.is_valid), 21) as complete_id
    from (
        select
            ev.*,
            (ev.next_arrival_at is null or ev.punched_at < ev.next_arrival_at) as is_valid,
            case
                when ev.punch_type <> '到达'
                    then to_char(ev.punched_at, 'YYYYMMDDHH24MISSUS') || (ev.punch_id collate "C")  -- noqa: RF03
            end as end_key
        from events as ev
        where ev.arrival_ord > 0
    ) as e
    group by e.engineer_id, e.ticket_no, e.arrival_ord
),

final as (
    select
        v.engineer_id,
        v.ticket_no,
        v.arrival_ord,
        v.arrival_id,
        v.arrived_at,
        cast(v.arrived_at as date) as arrival_day,
        coalesce(v.leave_id, v.complete_id) as end_id,
        case when v.leave_id is not null then '离场' when v.complete_id is not null then '完成' end as end_type,
        coalesce(v.leave_at, v.complete_at) as ended_at,
        cast(coalesce(v.leave_at, v.complete_at) as date) as end_day
    from visits as v
)

select * from final
