-- rule: PO-09
-- severity: error
-- title: 驻场无PO即开工
-- explain: 驻场工单已有考勤记录，但工单没有PO号，或其PO号在ISC中没有驻场PO行（No PO No Work）。
-- clause: 第10部分 3.1；第6部分 4.2(2)
-- A known 驻场 ticket (any status) with at least one attendance row; unknown tickets are DQ-01 only.
with attended as (
    select
        a.ticket_no,
        count(*) as attendance_rows,
        min(a.work_date) as first_day
    from netcare_resident_attendance as a
    group by a.ticket_no
),

final as (
    select
        w.region,
        w.ticket_no,
        jsonb_build_object(
            'ticket_po_no', w.po_no,
            'kind', case when w.po_no is null then 'no_po' else 'no_resident_line' end,
            'attendance_rows', t.attendance_rows,
            'first_day', t.first_day
        ) as details
    from netcare_workorders as w
    inner join attended as t on t.ticket_no = w.ticket_no
    where w.ticket_type = '驻场'
        and (
            w.po_no is null
            or not exists (
                select 1 from isc_po_lines as l
                where l.po_no = w.po_no and l.service_type = '驻场'
            )
        )
)

select * from final
