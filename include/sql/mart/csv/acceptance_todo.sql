-- acceptance_todo.csv: the clerks' acceptance to-do of the business date (mart.acceptance_todo in
-- functions/acceptance_todo.sql, evaluated once into the temp table acceptance_todo by
-- outputs.exports.sheet_session): due or rejected 维保/驻场 cycles with the exact ISC remark, and
-- per-ticket PO lines whose tickets are all closed; status "ready" or "blocked: …".
with final as (
    select
        t.item_kind,
        t.po_no,
        t.po_line_no,
        t.service_type,
        t.region,
        t.customer_name,
        t.contract_no,
        t.cycle_start,
        t.cycle_end,
        t.amount,
        t.remark,
        t.cycle_state,
        array_to_string(t.tickets, ';') as tickets,
        array_to_string(t.site_issue_tickets, ';') as site_issue_tickets,
        array_to_string(t.blocking_findings, ';') as blocking_findings,
        t.status
    from acceptance_todo as t
)

select * from final
order by region, po_no, po_line_no, cycle_start nulls first
