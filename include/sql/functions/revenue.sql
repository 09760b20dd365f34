-- mart.revenue (moved out of V030__cycle_schedule.sql, which is frozen; re-created every run).
-- Revenue by region (the PO line's) and month (of the cycle's last day): amounts of the cycles that
-- ended (state other than future), and of those accepted, submitted, rejected and outstanding
-- (due or rejected: still to be accepted); plus the closed per-ticket work awaiting a PO (open
-- PO-08 findings of the date, by the month of 关单时间).
create or replace function mart.revenue(p_business_date date)
returns table (
    region text,
    month text,
    ended_amount numeric,
    accepted_amount numeric,
    submitted_amount numeric,
    rejected_amount numeric,
    outstanding_amount numeric,
    awaiting_po_tickets bigint
)
language sql stable
as $$
with cycles as (
    select
        c.region,
        to_char(c.cycle_end, 'YYYY-MM') as month,
        sum(c.cycle_amount) filter (where c.state <> 'future') as ended_amount,
        sum(c.cycle_amount) filter (where c.state = 'accepted') as accepted_amount,
        sum(c.cycle_amount) filter (where c.state = 'submitted') as submitted_amount,
        sum(c.cycle_amount) filter (where c.state = 'rejected') as rejected_amount,
        sum(c.cycle_amount) filter (where c.state in ('due', 'rejected')) as outstanding_amount
    from mart.cycle_schedule as c
    where c.business_date = p_business_date
      and c.state <> 'future'
    group by 1, 2
),

awaiting as (
    select
        f.region,
        left(f.details ->> 'closed_at', 7) as month,
        count(*) as awaiting_po_tickets
    from recon.findings_as_of(p_business_date) as f
    where f.status = 'open' and f.rule_code = 'PO-08'
    group by 1, 2
),

final as (
    select
        coalesce(c.region, a.region) as region,
        coalesce(c.month, a.month) as month,
        coalesce(c.ended_amount, 0) as ended_amount,
        coalesce(c.accepted_amount, 0) as accepted_amount,
        coalesce(c.submitted_amount, 0) as submitted_amount,
        coalesce(c.rejected_amount, 0) as rejected_amount,
        coalesce(c.outstanding_amount, 0) as outstanding_amount,
        coalesce(a.awaiting_po_tickets, 0) as awaiting_po_tickets
    from cycles as c
    full outer join awaiting as a
        on a.region is not distinct from c.region and a.month = c.month
)

select * from final
order by region, month
$$;
