-- rule: PD-02
-- severity: error
-- title: 一人一单：非派单工程师打卡
-- explain: 工单已指定FSE，但有其他工程师在该工单上打卡。
-- clause: 第5部分 4.1(2) "一人一单"
-- Every punch type counts (出发 included). PD scope: known tickets, type not 驻场/POC.
with tickets as (
    select
        w.ticket_no,
        w.region,
        w.engineer_id as fse_id
    from netcare_workorders as w
    where w.ticket_type not in ('驻场', 'POC')
        and w.engineer_id is not null
        and w.engineer_id <> ''
),

others as (
    select
        t.ticket_no,
        t.region,
        t.fse_id,
        p.engineer_id,
        count(*) as punches,
        min(p.punched_at) as first_punch_at,
        max(p.punched_at) as last_punch_at,
        jsonb_agg(p.punch_id order by p.punched_at, p.punch_id) as punch_ids
    from netcare_punches as p
    inner join tickets as t on t.ticket_no = p.ticket_no
    where p.engineer_id <> t.fse_id
    group by t.ticket_no, t.region, t.fse_id, p.engineer_id
),

final as (
    select
        o.region,
        o.ticket_no,
        o.engineer_id,
        jsonb_build_object(
            'fse', o.fse_id,
            'punches', o.punches,
            'first_punch_at', o.first_punch_at,
            'last_punch_at', o.last_punch_at,
            'punch_ids', o.punch_ids
        ) as details
    from others as o
)

select * from final
