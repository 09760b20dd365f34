-- rule: DQ-03
-- severity: warning
-- title: 工号不在人员主数据中
-- explain: 工单FSE、打卡、工时填报、驻场考勤或变更任务实施人/保障人中的工号在人员主数据中找不到。
-- clause: 数据质量
-- Region empty (unknown record). details: rows per column where the ID occurs.
with refs as (
    select
        w.engineer_id,
        'netcare_workorders.engineer_id' as source
    from netcare_workorders as w
    union all
    select
        p.engineer_id,
        'netcare_punches.engineer_id' as source
    from netcare_punches as p
    union all
    select
        e.engineer_id,
        'timesheet_entries.engineer_id' as source
    from timesheet_entries as e
    union all
    select
        a.engineer_id,
        'netcare_resident_attendance.engineer_id' as source
    from netcare_resident_attendance as a
    union all
    select
        t.implementer_id,
        'netcare_rfc_tasks.implementer_id' as source
    from netcare_rfc_tasks as t
    union all
    select
        t.guarantor_id,
        'netcare_rfc_tasks.guarantor_id' as source
    from netcare_rfc_tasks as t
),

unknown as (
    select
        r.engineer_id,
        r.source,
        count(*) as n
    from refs as r
    where r.engineer_id is not null
        and r.engineer_id <> ''
        and not exists (
            select 1 from timesheet_engineers as m
            where m.engineer_id = r.engineer_id
        )
    group by r.engineer_id, r.source
),

final as (
    select
        u.engineer_id,
        jsonb_build_object('rows', jsonb_object_agg(u.source, u.n)) as details
    from unknown as u
    group by u.engineer_id
)

select * from final
