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

closers as (
    select
        e.engineer_id,
        e.ticket_no,
        e.arrival_ord,
        min(e.punched_at) filter (where e.punch_type = '离场') as leave_at,
        (array_agg(e.punch_id order by e.punched_at, e.punch_id) filter (where e.punch_type = '离场'))[1] as leave_id,
        max(e.punched_at) filter (where e.punch_type = '完成') as complete_at,
        (array_agg(e.punch_id order by e.punched_at desc, e.punch_id desc) filter (where e.punch_type = '完成'))[1]
            as complete_id
    from events as e
    where e.punch_type <> '到达'
      and e.arrival_ord > 0
      and (e.next_arrival_at is null or e.punched_at < e.next_arrival_at)
    group by e.engineer_id, e.ticket_no, e.arrival_ord
),

final as (
    select
        a.engineer_id,
        a.ticket_no,
        a.arrival_ord,
        a.punch_id as arrival_id,
        a.punched_at as arrived_at,
        cast(a.punched_at as date) as arrival_day,
        coalesce(c.leave_id, c.complete_id) as end_id,
        case when c.leave_id is not null then '离场' when c.complete_id is not null then '完成' end as end_type,
        case when c.leave_id is not null then c.leave_at else c.complete_at end as ended_at,
        cast(case when c.leave_id is not null then c.leave_at else c.complete_at end as date) as end_day
    from events as a
    left join closers as c
        on c.engineer_id = a.engineer_id
        and c.ticket_no = a.ticket_no
        and c.arrival_ord = a.arrival_ord
    where a.punch_type = '到达'
)

select * from final
