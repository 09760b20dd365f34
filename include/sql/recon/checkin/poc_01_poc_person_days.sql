-- rule: POC-01
-- severity: error
-- title: POC人天与派单人天不符
-- explain: POC任务关闭后，已审批工时中不同（工程师, 工作日期）的数量必须等于派单人天。
-- clause: 第7部分 4.5
-- POC tickets with status 已关闭; person-days = distinct (engineer, work date) with 已审批 entries
-- of hours > 0 on the ticket, any engineer. A missing 派单人天 cannot be compared: no finding
-- (reading: "must equal 派单人天" presumes it is set; the contract says it is set for POC).
with tickets as (
    select
        w.ticket_no,
        w.region,
        w.dispatched_person_days
    from netcare_workorders as w
    where w.ticket_type = 'POC'
        and w.status = '已关闭'
        and w.dispatched_person_days is not null
),

person_days as (
    select
        e.ticket_no,
        count(distinct row(e.engineer_id, e.work_date)) as person_days
    from timesheet_entries as e
    inner join tickets as t on t.ticket_no = e.ticket_no
    where e.approval = '已审批'
        and e.hours > 0
    group by e.ticket_no
),

compared as (
    select
        t.*,
        coalesce(p.person_days, 0) as person_days
    from tickets as t
    left join person_days as p on p.ticket_no = t.ticket_no
),

final as (
    select
        c.region,
        c.ticket_no,
        jsonb_build_object('dispatched', c.dispatched_person_days, 'person_days', c.person_days) as details
    from compared as c
    where c.person_days <> c.dispatched_person_days
)

select * from final
