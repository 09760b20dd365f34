-- rule: PD-03
-- severity: error
-- title: 工单时间重叠
-- explain: 同一工程师在两个不同工单上的已结束到场时段相互重叠（前一单未离场就到达后一单）。
-- clause: 第5部分 4.1(2) "单个人天工单未离场前，严禁履行其他人天工单"
-- Ended visits only (open visits take part only in PD-07), of every ticket type in the PD scope
-- (Decision: every punched ticket, not only person-day tickets; 驻场 and POC are out of scope).
-- Overlap: a2 < l1 and a1 < l2 (strict). The later visit is the one with the later arrival; for
-- two arrivals at the same instant (ambiguous) the one with the greater ticket_no is taken as the
-- later. Subject: engineer, day of the later arrival, ticket of the later visit; several pairs with
-- one subject give one finding listing the other tickets.
-- Shape: a running max of earlier ends per engineer finds the visits overlapping some earlier one
-- (visits of one ticket never overlap), and only those are joined back to find their partners.
with ended as (
    select
        v.engineer_id,
        v.ticket_no,
        v.arrival_id,
        v.arrived_at,
        v.arrival_day,
        v.ended_at
    from visits as v
    where v.ended_at is not null
),

ordered as (
    select
        e.*,
        max(e.ended_at) over (
            partition by e.engineer_id order by e.arrived_at, e.ticket_no, e.arrival_id
            rows between unbounded preceding and 1 preceding
        ) as earlier_max_end
    from ended as e
),

later_visits as (
    select o.*
    from ordered as o
    where o.earlier_max_end > o.arrived_at
),

pairs as (
    select
        l.engineer_id,
        l.ticket_no,
        l.arrival_day,
        l.arrival_id,
        l.arrived_at,
        l.ended_at,
        e.ticket_no as other_ticket_no,
        e.arrival_id as other_arrival_id,
        e.arrived_at as other_arrived_at,
        e.ended_at as other_ended_at
    from later_visits as l
    inner join ended as e
        on e.engineer_id = l.engineer_id
        and e.ticket_no <> l.ticket_no
        and (e.arrived_at, e.ticket_no, e.arrival_id) < (l.arrived_at, l.ticket_no, l.arrival_id)
        and e.ended_at > l.arrived_at
),

grouped as (
    select
        p.engineer_id,
        p.arrival_day,
        p.ticket_no,
        jsonb_agg(distinct p.other_ticket_no) as other_tickets,
        jsonb_agg(
            jsonb_build_object(
                'arrival_id', p.arrival_id, 'arrived_at', p.arrived_at, 'ended_at', p.ended_at,
                'other_ticket_no', p.other_ticket_no, 'other_arrival_id', p.other_arrival_id,
                'other_arrived_at', p.other_arrived_at, 'other_ended_at', p.other_ended_at
            )
            order by p.arrived_at, p.other_arrived_at, p.other_ticket_no
        ) as pairs
    from pairs as p
    group by p.engineer_id, p.arrival_day, p.ticket_no
),

final as (
    select
        w.region,
        g.ticket_no,
        g.engineer_id,
        g.arrival_day as day,
        jsonb_build_object('other_tickets', g.other_tickets, 'pairs', g.pairs) as details
    from grouped as g
    left join netcare_workorders as w on w.ticket_no = g.ticket_no
)

select * from final
