-- rule: DQ-03
-- severity: warning
-- title: 工号不在人员主数据中
-- explain: 工单FSE、打卡、工时填报、驻场考勤或变更任务实施人/保障人中的工号在人员主数据中找不到。
-- clause: 数据质量
-- Region: the engineer is unknown, so the region of the tickets (RFCs for task columns) of the rows
-- naming the ID, the one with most rows (ties: first by name); empty when none is known — then the
-- finding is head office's (总部). details: rows per column where the ID occurs.
with refs as (
    select
        w.engineer_id,
        w.region,
        'netcare_workorders.engineer_id' as source
    from netcare_workorders as w
    union all
    select
        p.engineer_id,
        w.region,
        'netcare_punches.engineer_id' as source
    from netcare_punches as p
    left join netcare_workorders as w on w.ticket_no = p.ticket_no
    union all
    select
        e.engineer_id,
        w.region,
        'timesheet_entries.engineer_id' as source
    from timesheet_entries as e
    left join netcare_workorders as w on w.ticket_no = e.ticket_no
    union all
    select
        a.engineer_id,
        w.region,
        'netcare_resident_attendance.engineer_id' as source
    from netcare_resident_attendance as a
    left join netcare_workorders as w on w.ticket_no = a.ticket_no
    union all
    select
        t.implementer_id,
        r.region,
        'netcare_rfc_tasks.implementer_id' as source
    from netcare_rfc_tasks as t
    left join netcare_rfcs as r on r.rfc_no = t.rfc_no
    union all
    select
        t.guarantor_id,
        r.region,
        'netcare_rfc_tasks.guarantor_id' as source
    from netcare_rfc_tasks as t
    left join netcare_rfcs as r on r.rfc_no = t.rfc_no
),

unknown_refs as (
    select r.*
    from refs as r
    where r.engineer_id is not null
        and r.engineer_id <> ''
        and not exists (
            select 1 from timesheet_engineers as m
            where m.engineer_id = r.engineer_id
        )
),

unknown as (
    select
        r.engineer_id,
        r.source,
        count(*) as n
    from unknown_refs as r
    group by r.engineer_id, r.source
),

regions as (
    select distinct on (r.engineer_id)
        r.engineer_id,
        r.region
    from unknown_refs as r
    where r.region is not null and r.region <> ''
    group by r.engineer_id, r.region
    order by r.engineer_id asc, count(*) desc, r.region
),

final as (
    select
        u.engineer_id,
        g.region,
        jsonb_build_object('rows', jsonb_object_agg(u.source, u.n)) as details
    from unknown as u
    left join regions as g on g.engineer_id = u.engineer_id
    group by u.engineer_id, g.region
)

select * from final
