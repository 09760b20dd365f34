-- The findings a run of p_business_date reports: open = held as of the date (its snapshot);
-- resolved = held as of the day before but no longer; new = open and not held the day before.
-- Both days are evaluated by the run of p_business_date on the same data
-- (recon.previous_day_findings), so the answer never depends on which other dates have run.
create or replace function recon.findings_as_of(p_business_date date)
returns table (
    finding_id text, rule_code text, severity text, region text, ticket_no text, engineer_id text,
    day date, rfc_no text, task_no text, po_no text, po_line_no integer, cycle_start date,
    acceptance_no text, month text, details jsonb, is_new boolean, status text
)
language sql stable
as $$
with current_findings as (
    select s.*
    from recon.finding_snapshots as s
    where s.business_date = p_business_date
),

previous_findings as (
    select p.*
    from recon.previous_day_findings as p
    where p.business_date = p_business_date
),

open_findings as (
    select
        c.finding_id, c.rule_code, c.severity, c.region, c.ticket_no, c.engineer_id, c.day,
        c.rfc_no, c.task_no, c.po_no, c.po_line_no, c.cycle_start, c.acceptance_no, c.month,
        c.details,
        not exists (select 1 from previous_findings as p where p.finding_id = c.finding_id) as is_new,
        'open' as status
    from current_findings as c
),

resolved_findings as (
    select
        p.finding_id, p.rule_code, p.severity, p.region, p.ticket_no, p.engineer_id, p.day,
        p.rfc_no, p.task_no, p.po_no, p.po_line_no, p.cycle_start, p.acceptance_no, p.month,
        p.details,
        false as is_new,
        'resolved' as status
    from previous_findings as p
    where not exists (select 1 from current_findings as c where c.finding_id = p.finding_id)
),

final as (
    select * from open_findings
    union all
    select * from resolved_findings
)

select * from final
$$;
