-- rule: DQ-01
-- severity: warning
-- title: 工单号不存在
-- explain: 打卡、驻场考勤、工时填报或附件中的工单号在工单导出中找不到。
-- clause: 数据质量
-- Known = present in the run's work-order state (any visible extract). Region empty (unknown
-- record). details: rows per source.
with refs as (
    select
        p.ticket_no,
        'netcare_punches' as source
    from netcare_punches as p
    union all
    select
        a.ticket_no,
        'netcare_resident_attendance' as source
    from netcare_resident_attendance as a
    union all
    select
        e.ticket_no,
        'timesheet_entries' as source
    from timesheet_entries as e
    where e.ticket_no is not null and e.ticket_no <> ''
    union all
    select
        t.ticket_no,
        'netcare_attachments' as source
    from netcare_attachments as t
),

unknown as (
    select
        r.ticket_no,
        r.source,
        count(*) as n
    from refs as r
    where r.ticket_no is not null
        and not exists (
            select 1 from netcare_workorders as w
            where w.ticket_no = r.ticket_no
        )
    group by r.ticket_no, r.source
),

final as (
    select
        u.ticket_no,
        jsonb_build_object('rows', jsonb_object_agg(u.source, u.n)) as details
    from unknown as u
    group by u.ticket_no
)

select * from final
