-- rule: PD-07
-- severity: error
-- title: 跨天打卡或离场缺失
-- explain: 每次到场必须在到达当天离场：跨天结束、当天结束后仍未离场、或离场卡找不到对应的到达卡，都会报出。
-- clause: 第4部分 4.3(3)4) "在场每日打卡，不能跨天打卡"; 4.2(4)2)
-- Kinds: cross_day (visit ended on a later day), open (no end and the arrival's day is over:
-- day + 1 <= :as_of), orphan_leave (a 离场 that ends no visit; day = the leave's day).
-- Subject: ticket, engineer, day; several causes on one subject give one finding.
with causes as (
    select
        v.ticket_no,
        v.engineer_id,
        v.arrival_day as day,
        'cross_day' as kind,
        v.arrival_id as punch_id,
        v.arrived_at as punched_at,
        v.ended_at
    from visits as v
    where v.ended_at is not null
        and v.end_day > v.arrival_day

    union all

    select
        v.ticket_no,
        v.engineer_id,
        v.arrival_day as day,
        'open' as kind,
        v.arrival_id as punch_id,
        v.arrived_at as punched_at,
        cast(null as timestamp) as ended_at
    from visits as v
    where v.ended_at is null
        and v.arrival_day + 1 <= cast(:as_of as timestamp)

    union all

    select
        o.ticket_no,
        o.engineer_id,
        o.day,
        'orphan_leave' as kind,
        o.punch_id,
        o.punched_at,
        cast(null as timestamp) as ended_at
    from orphan_leaves as o
),

grouped as (
    select
        c.ticket_no,
        c.engineer_id,
        c.day,
        jsonb_agg(distinct c.kind) as kinds,
        jsonb_agg(
            jsonb_build_object(
                'kind', c.kind, 'punch_id', c.punch_id, 'punched_at', c.punched_at, 'ended_at', c.ended_at
            )
            order by c.punched_at, c.punch_id
        ) as causes
    from causes as c
    group by c.ticket_no, c.engineer_id, c.day
),

final as (
    select
        w.region,
        g.ticket_no,
        g.engineer_id,
        g.day,
        jsonb_build_object('kinds', g.kinds, 'causes', g.causes) as details
    from grouped as g
    left join netcare_workorders as w on w.ticket_no = g.ticket_no
)

select * from final
