-- rule: DQ-01
-- severity: warning
-- title: 工单号不存在
-- explain: 打卡、驻场考勤、工时填报或附件中的工单号在工单导出中找不到。
-- clause: 数据质量
-- Known = present in the run's work-order state (any visible extract). Region: the ticket is
-- unknown, so the region of the engineers whose rows name it (engineer master), the one with most
-- rows (ties: first by name); empty when no engineer is known — then the finding is head office's
-- (总部). details: rows per source.
with refs as (
    select
        p.ticket_no,
        p.engineer_id,
        'netcare_punches' as source
    from netcare_punches as p
    union all
    select
        a.ticket_no,
        a.engineer_id,
        'netcare_resident_attendance' as source
    from netcare_resident_attendance as a
    union all
    select
        e.ticket_no,
        e.engineer_id,
        'timesheet_entries' as source
    from timesheet_entries as e
    where e.ticket_no is not null and e.ticket_no <> ''
    union all
    select
        t.ticket_no,
        t.uploaded_by as engineer_id,
        'netcare_attachments' as source
    from netcare_attachments as t
),

unknown_refs as (
    select r.*
    from refs as r
    where r.ticket_no is not null
        and not exists (
            select 1 from netcare_workorders as w
            where w.ticket_no = r.ticket_no
        )
),

unknown as (
    select
        r.ticket_no,
        r.source,
        count(*) as n
    from unknown_refs as r
    group by r.ticket_no, r.source
),

regions as (
    select distinct on (r.ticket_no)
        r.ticket_no,
        m.region
    from unknown_refs as r
    inner join timesheet_engineers as m on m.engineer_id = r.engineer_id
    where m.region is not null and m.region <> ''
    group by r.ticket_no, m.region
    order by r.ticket_no asc, count(*) desc, m.region
),

final as (
    select
        u.ticket_no,
        g.region,
        jsonb_build_object('rows', jsonb_object_agg(u.source, u.n)) as details
    from unknown as u
    left join regions as g on g.ticket_no = u.ticket_no
    group by u.ticket_no, g.region
)

select * from final
