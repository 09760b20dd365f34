-- rule: PD-06
-- severity: error
-- title: 打卡超出授权时间窗
-- explain: 工单同时有授权开始和结束时间时，“开始”和“离场”打卡必须落在授权时间窗内（含两端）。
-- clause: 第4部分 4.3(3)4); 第3部分 4.2(3)
-- PD scope (known ticket, not 驻场/POC); window bounds inclusive. Subject: ticket, engineer, day
-- of the punch.
with tickets as (
    select
        w.ticket_no,
        w.region,
        w.auth_start_at,
        w.auth_end_at
    from netcare_workorders as w
    where w.ticket_type not in ('驻场', 'POC')
        and w.auth_start_at is not null
        and w.auth_end_at is not null
),

outside as (
    select
        p.ticket_no,
        p.engineer_id,
        cast(p.punched_at as date) as day,
        t.region,
        t.auth_start_at,
        t.auth_end_at,
        jsonb_agg(
            jsonb_build_object('punch_id', p.punch_id, 'punch_type', p.punch_type, 'punched_at', p.punched_at)
            order by p.punched_at, p.punch_id
        ) as punches
    from netcare_punches as p
    inner join tickets as t on t.ticket_no = p.ticket_no
    where p.punch_type in ('开始', '离场')
        and (p.punched_at < t.auth_start_at or p.punched_at > t.auth_end_at)
    group by p.ticket_no, p.engineer_id, cast(p.punched_at as date), t.region, t.auth_start_at, t.auth_end_at
),

final as (
    select
        o.region,
        o.ticket_no,
        o.engineer_id,
        o.day,
        jsonb_build_object(
            'auth_start_at', o.auth_start_at, 'auth_end_at', o.auth_end_at, 'punches', o.punches
        ) as details
    from outside as o
)

select * from final
