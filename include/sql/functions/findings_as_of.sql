-- Every finding known to the run of p_business_date: open when its own snapshot holds it,
-- resolved when only an earlier snapshot did. first_seen_as_of / last_seen_as_of come only from
-- snapshots of dates up to p_business_date; new = absent from the previous date's snapshot.
create or replace function recon.findings_as_of(p_business_date date)
returns table (
    finding_id text, rule_code text, severity text, region text, ticket_no text, engineer_id text,
    day date, rfc_no text, task_no text, po_no text, po_line_no integer, cycle_start date,
    acceptance_no text, month text, details jsonb, first_seen_as_of timestamp,
    last_seen_as_of timestamp, is_new boolean, status text
)
language sql stable
as $$
with history as (
    select
        s.finding_id,
        min(s.as_of) as first_seen_as_of,
        max(s.as_of) as last_seen_as_of,
        max(s.business_date) as last_business_date
    from recon.finding_snapshots as s
    where s.business_date <= p_business_date
    group by s.finding_id
),

latest as (
    select distinct on (s.finding_id) s.*
    from recon.finding_snapshots as s
    where s.business_date <= p_business_date
    order by s.finding_id, s.business_date desc
),

final as (
    select
        l.finding_id, l.rule_code, l.severity, l.region, l.ticket_no, l.engineer_id, l.day,
        l.rfc_no, l.task_no, l.po_no, l.po_line_no, l.cycle_start, l.acceptance_no, l.month,
        l.details, h.first_seen_as_of, h.last_seen_as_of,
        not exists (
            select 1 from recon.finding_snapshots as p
            where p.business_date = p_business_date - 1 and p.finding_id = l.finding_id
        ) as is_new,
        case when h.last_business_date = p_business_date then 'open' else 'resolved' end as status
    from latest as l
    inner join history as h on h.finding_id = l.finding_id
)

select * from final
$$;
