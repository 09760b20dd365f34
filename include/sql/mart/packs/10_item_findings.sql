-- The open findings that concern each acceptance to-do item of the business date (the same
-- selection as mart.acceptance_todo's blocking list: the line's PO-* findings except PO-02/PO-08,
-- and error findings plus AT-02 on the item's tickets), with the clerks' triage mark if any.
-- A finding with a mark is explained: the pack lists it but is not blocked by it.
-- acceptance_todo: mart.acceptance_todo of :business_date, evaluated once (outputs.exports.acceptance_todo_table).
with items as (
    select
        t.po_no,
        t.po_line_no,
        t.cycle_start,
        t.tickets
    from acceptance_todo as t
),

open_findings as (
    select f.*
    from recon.findings_as_of(cast(:business_date as date)) as f
    where f.status = 'open'
),

matched as (
    select
        i.po_no as item_po_no,
        i.po_line_no as item_po_line_no,
        i.cycle_start as item_cycle_start,
        f.finding_id
    from items as i
    inner join open_findings as f on f.po_no = i.po_no and f.po_line_no = i.po_line_no
    where f.rule_code like 'PO-%' and f.rule_code not in ('PO-02', 'PO-08')
    union
    select
        i.po_no,
        i.po_line_no,
        i.cycle_start,
        f.finding_id
    from items as i
    cross join lateral unnest(i.tickets) as t (ticket_no)
    inner join open_findings as f on f.ticket_no = t.ticket_no
    where f.severity = 'error' or f.rule_code = 'AT-02'
),

final as (
    select
        m.item_po_no,
        m.item_po_line_no,
        m.item_cycle_start,
        f.finding_id,
        f.rule_code,
        f.severity,
        f.region,
        f.ticket_no,
        f.engineer_id,
        f.day,
        f.acceptance_no,
        f.cycle_start,
        f.details,
        f.is_new,
        k.reason as triage_reason,
        k.filing_ref as triage_filing_ref,
        k.marked_by as triage_by,
        k.marked_at as triage_at
    from matched as m
    inner join open_findings as f on f.finding_id = m.finding_id
    left join recon.triage_marks as k on k.finding_id = f.finding_id
)

select * from final
order by item_po_no, item_po_line_no, item_cycle_start nulls first, rule_code, finding_id
