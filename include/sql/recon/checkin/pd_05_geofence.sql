-- rule: PD-05
-- severity: error
-- title: 打卡位置超出{pd05_max_distance_km}公里或为空
-- explain: 非涉密且有经纬度的局点，除“出发”外的每条打卡都必须有坐标，且距局点不超过{pd05_max_distance_km}公里。
-- clause: 第5部分 4.2(2) "打卡地址需在客户地址3KM范围内，不允许为空"
-- Sites: PD-scope tickets (not 驻场/POC) not classified (empty 是否涉密 = 否) with both site
-- coordinates. Haversine on WGS-84, radius :earth_radius_km; distance > :pd05_max_distance_km is
-- a finding (3.0 itself passes). A punch lacking either coordinate is "missing".
-- Subject: ticket, engineer, day of the punch; the punches of one subject are listed in details.
with params as (
    select
        cast(:pd05_max_distance_km as double precision) as max_km,
        cast(:earth_radius_km as double precision) as radius_km,
        degrees(0.999 * cast(:pd05_max_distance_km as double precision) / cast(:earth_radius_km as double precision))
            as bound_deg
),

sites as (
    select
        w.ticket_no,
        w.region,
        cast(w.site_lng as double precision) as site_lng,
        cast(w.site_lat as double precision) as site_lat
    from netcare_workorders as w
    where w.ticket_type not in ('驻场', 'POC')
        and coalesce(w.classified, false) = false
        and w.site_lng is not null
        and w.site_lat is not null
),

-- Speed only, not a rule: the great-circle distance is at most R·(|Δφ| + |Δλ|) (a path along
-- the meridian, then along a parallel, which is no longer than R·|Δλ|), so a punch whose bound
-- is within 99.9 % of the limit passes for sure and skips the trigonometry; every other punch
-- gets the exact haversine below.
candidates as (
    select
        p.punch_id,
        p.ticket_no,
        p.engineer_id,
        p.punch_type,
        p.punched_at,
        s.region,
        cast(p.lng as double precision) as lng,
        cast(p.lat as double precision) as lat,
        s.site_lng,
        s.site_lat
    from netcare_punches as p
    inner join sites as s on s.ticket_no = p.ticket_no
    cross join params as pr
    where p.punch_type <> '出发'
        and (
            p.lng is null
            or p.lat is null
            or abs(cast(p.lat as double precision) - s.site_lat) + abs(cast(p.lng as double precision) - s.site_lng)
            > pr.bound_deg
        )
),

measured as (
    select
        c.*,
        case
            when c.lng is not null and c.lat is not null then
                2 * pr.radius_km * asin(least(1.0, sqrt(
                    power(sin(radians(c.lat - c.site_lat) / 2), 2)
                    + cos(radians(c.site_lat)) * cos(radians(c.lat)) * power(sin(radians(c.lng - c.site_lng) / 2), 2)
                )))
        end as distance_km
    from candidates as c
    cross join params as pr
),

bad as (
    select m.*
    from measured as m
    cross join params as pr
    where coalesce(m.distance_km > pr.max_km, true)
),

grouped as (
    select
        b.ticket_no,
        b.engineer_id,
        cast(b.punched_at as date) as day,
        b.region,
        jsonb_agg(
            jsonb_build_object(
                'punch_id', b.punch_id,
                'punch_type', b.punch_type,
                'punched_at', b.punched_at,
                'distance_km', case when b.distance_km is null then to_jsonb(cast('missing' as text))
                    else to_jsonb(round(cast(b.distance_km as numeric), 3))
                end
            )
            order by b.punched_at, b.punch_id
        ) as punches
    from bad as b
    group by b.ticket_no, b.engineer_id, cast(b.punched_at as date), b.region
),

final as (
    select
        g.region,
        g.ticket_no,
        g.engineer_id,
        g.day,
        jsonb_build_object('punches', g.punches) as details
    from grouped as g
)

select * from final
