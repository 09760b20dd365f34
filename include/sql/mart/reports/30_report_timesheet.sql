-- Timesheet entries (工时填报) of every report whose period is over: the engineer's entries dated in
-- the period on the report's ticket, or without a ticket on the ticket's PO号; any approval state but
-- 已驳回 (as PD-09 counts them); with the work kind and the work note (工作内容).
with final as (
    select
        r.report_kind,
        r.ticket_no,
        r.engineer_id,
        r.period_key,
        t.work_date,
        coalesce(t.work_kind, '其他') as work_kind,
        t.hours,
        t.work_note,
        t.entry_id
    from report_periods as r
    inner join timesheet_entries as t
        on t.engineer_id = r.engineer_id
        and t.work_date between r.period_start and r.period_end
        and (t.ticket_no = r.ticket_no or (t.ticket_no is null and r.po_no is not null and t.po_no = r.po_no))
    where r.period_over
        and t.approval <> '已驳回'
        and t.hours > 0
)

select * from final
order by report_kind, ticket_no, engineer_id, period_key, work_date, entry_id
