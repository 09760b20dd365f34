-- rule: RA-07
-- severity: error
-- title: 入场早于PO开始日期
-- explain: 驻场工程师在该工单上的首个考勤日早于工单PO中驻场行的服务开始日期。
-- clause: 第6部分 4.2(2) "入场日期不能早于 PO 开始时间"
-- Resident PO line = the 驻场 line of the ticket's PO号 with the earliest 服务开始日期 (lines without a
-- start date are ignored). A ticket without PO号 or without a 驻场 line is PO-09, not RA-07. The first
-- attendance day is the earliest attendance row of the engineer on the ticket (any row, scheduled).
with first_days as (
    select
        a.ticket_no,
        a.engineer_id,
        min(a.work_date) as first_day
    from netcare_resident_attendance as a
    group by a.ticket_no, a.engineer_id
),

resident_lines as (
    select distinct on (l.po_no)
        l.po_no,
        l.po_line_no,
        l.service_start
    from isc_po_lines as l
    where l.service_type = '驻场'
        and l.service_start is not null
    order by l.po_no, l.service_start, l.po_line_no
),

checked as (
    select
        f.*,
        w.region,
        w.po_no,
        r.po_line_no,
        r.service_start
    from first_days as f
    inner join netcare_workorders as w on w.ticket_no = f.ticket_no
    inner join resident_lines as r on r.po_no = w.po_no
    where f.first_day < r.service_start
),

final as (
    select
        c.region,
        c.ticket_no,
        c.engineer_id,
        jsonb_build_object(
            'first_day', c.first_day,
            'po_no', c.po_no,
            'po_line_no', c.po_line_no,
            'service_start', c.service_start,
            'days_early', c.service_start - c.first_day
        ) as details
    from checked as c
)

select * from final
