-- rule: PD-01
-- severity: error
-- title: 打卡人天与派单人天不符
-- explain: 人天工单上派单工程师的打卡人天必须等于派单人天；多打卡随时报出，少打卡在提交关单申请（或待审核、已关闭）后报出。
-- clause: 第5部分 4.1(2) "打卡人天=派单人天"; 4.5
-- Person-day tickets: 单次现场服务, 事件值守, 高级软件现场支持 with 派单人天 set, and an FSE.
-- Punched = the FSE's punched person-days on the ticket (0 when none), compared as numbers;
-- details.days lists them (the clerk's sentence names the days).
with tickets as (
    select
        w.ticket_no,
        w.region,
        w.engineer_id,
        w.dispatched_person_days,
        w.status,
        w.close_requested_at
    from netcare_workorders as w
    where w.ticket_type in ('单次现场服务', '事件值守', '高级软件现场支持')
        and w.dispatched_person_days is not null
        and w.engineer_id is not null
        and w.engineer_id <> ''
),

punched as (
    select
        d.ticket_no,
        d.engineer_id,
        count(*) as punched_days,
        array_agg(d.day order by d.day) as punched_on
    from punched_person_days as d
    group by d.ticket_no, d.engineer_id
),

compared as (
    select
        t.*,
        coalesce(p.punched_days, 0) as punched_days,
        coalesce(p.punched_on, '{}') as punched_on
    from tickets as t
    left join punched as p on p.ticket_no = t.ticket_no and p.engineer_id = t.engineer_id
),

final as (
    select
        c.region,
        c.ticket_no,
        c.engineer_id,
        jsonb_build_object(
            'dispatched', c.dispatched_person_days,
            'punched', c.punched_days,
            'days', to_jsonb(c.punched_on),
            'kind', case when c.punched_days > c.dispatched_person_days then 'more' else 'fewer' end
        ) as details
    from compared as c
    where c.punched_days > c.dispatched_person_days
        or (
            c.punched_days < c.dispatched_person_days
            and (c.close_requested_at is not null or c.status in ('待审核', '已关闭'))
        )
)

select * from final
