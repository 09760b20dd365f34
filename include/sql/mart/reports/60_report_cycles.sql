-- The resident PO cycle(s) of each monthly report whose month is over: the 驻场 lines of the
-- ticket's PO号, cycles of mart.cycle_schedule (this business date's snapshot, written by the PO
-- family) that intersect the calendar month, with amount and state.
with final as (
    select
        r.ticket_no,
        r.engineer_id,
        r.period_key,
        c.po_no,
        c.po_line_no,
        c.cycle_no,
        c.cycle_start,
        c.cycle_end,
        c.cycle_amount,
        c.line_amount,
        c.remark,
        c.state,
        c.submit_deadline
    from report_periods as r
    inner join mart.cycle_schedule as c
        on c.business_date = cast(:business_date as date)
        and c.po_no = r.po_no
        and c.service_type = '驻场'
        and c.cycle_start <= r.calendar_end
        and c.cycle_end >= r.period_key
    where r.report_kind = 'monthly'
        and r.period_over
)

select * from final
order by ticket_no, engineer_id, period_key, po_no, po_line_no, cycle_start
