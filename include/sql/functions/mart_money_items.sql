-- The money view of a business date: every amount of every PO line that is not cancelled and not
-- in the future, of every service type, one row per (line, cycle, state):
--   * 维保/驻场 cycles that ended (mart.cycle_schedule): accepted, submitted, or — due or rejected —
--     ready / blocked as in the acceptance to-do (mart.acceptance_todo);
--   * every other line (per-ticket 巡检/整改/单次…, and 交付 and any line without cycles): its 已通过
--     and 审批中 acceptance amounts, and the rest of the line amount — ready / blocked when the line
--     is on the to-do (all its tickets closed), open_tickets while a referenced ticket is not closed,
--     awaiting_completion when the line references no ticket (交付: completion is confirmed in eISDP,
--     which the pipeline does not see).
-- rejected marks an outstanding amount that ISC rejected before (a rejected cycle; a line with a
-- 已驳回 acceptance). The sheets 收入 / 收入明细 and the download page read it; region is the PO line's.
set local check_function_bodies = off;

create or replace function mart.money_items(p_business_date date)
returns table (
    item_kind text,
    region text,
    po_no text,
    po_line_no integer,
    service_type text,
    customer_name text,
    contract_no text,
    cycle_start date,
    cycle_end date,
    state text,
    rejected boolean,
    amount numeric,
    blocking_findings text[]
)
language sql stable
as $$
with lines as (
    select l.*
    from staging.isc_po_lines((p_business_date + 1)::timestamp) as l
    where l.po_status is distinct from '已取消'
),

acceptances as (
    select a.*
    from staging.isc_acceptances((p_business_date + 1)::timestamp) as a
    where a.approval <> '草稿'
),

todo as (
    select t.*
    from mart.acceptance_todo(p_business_date) as t
),

cycles as (
    select
        'cycle'::text as item_kind,
        c.region,
        c.po_no,
        c.po_line_no,
        c.service_type,
        c.customer_name,
        c.contract_no,
        c.cycle_start,
        c.cycle_end,
        case
            when c.state in ('accepted', 'submitted') then c.state
            when t.status = 'ready' then 'ready'
            else 'blocked'
        end as state,
        c.state = 'rejected' as rejected,
        c.cycle_amount as amount,
        coalesce(t.blocking_findings, '{}') as blocking_findings
    from mart.cycle_schedule as c
    inner join lines as l on l.po_no = c.po_no and l.po_line_no = c.po_line_no
    left join todo as t
        on t.item_kind = 'cycle'
        and t.po_no = c.po_no
        and t.po_line_no = c.po_line_no
        and t.cycle_start = c.cycle_start
    where c.business_date = p_business_date
      and c.state <> 'future'
),

line_taken as (
    select
        a.po_no,
        a.po_line_no,
        coalesce(sum(a.amount) filter (where a.approval = '已通过'), 0) as accepted,
        coalesce(sum(a.amount) filter (where a.approval = '审批中'), 0) as submitted,
        bool_or(a.approval = '已驳回') as any_rejected
    from acceptances as a
    group by a.po_no, a.po_line_no
),

other_lines as (
    select
        l.*,
        coalesce(k.accepted, 0) as accepted,
        coalesce(k.submitted, 0) as submitted,
        coalesce(k.any_rejected, false) as any_rejected,
        btrim(normalize(coalesce(l.ticket_refs, ''), nfkc), ' ;；') <> '' as has_refs
    from lines as l
    left join line_taken as k on k.po_no = l.po_no and k.po_line_no = l.po_line_no
    where l.service_type not in ('维保', '驻场')
),

line_parts as (
    select
        o.po_no,
        o.po_line_no,
        'accepted'::text as state,
        false as rejected,
        o.accepted as amount
    from other_lines as o
    where o.accepted > 0
    union all
    select
        o.po_no,
        o.po_line_no,
        'submitted'::text as state,
        false as rejected,
        o.submitted as amount
    from other_lines as o
    where o.submitted > 0
    union all
    select
        o.po_no,
        o.po_line_no,
        case
            when t.status = 'ready' then 'ready'
            when t.status is not null then 'blocked'
            when o.has_refs then 'open_tickets'
            else 'awaiting_completion'
        end as state,
        o.any_rejected as rejected,
        o.line_amount - o.accepted - o.submitted as amount
    from other_lines as o
    left join todo as t on t.item_kind = 'per_ticket' and t.po_no = o.po_no and t.po_line_no = o.po_line_no
    where o.line_amount - o.accepted - o.submitted > 0
),

per_line as (
    select
        case when o.has_refs then 'per_ticket' else 'per_line' end as item_kind,
        o.region,
        o.po_no,
        o.po_line_no,
        o.service_type,
        o.customer_name,
        o.contract_no,
        null::date as cycle_start,
        null::date as cycle_end,
        p.state,
        p.rejected,
        p.amount,
        coalesce(t.blocking_findings, '{}') as blocking_findings
    from line_parts as p
    inner join other_lines as o on o.po_no = p.po_no and o.po_line_no = p.po_line_no
    left join todo as t
        on t.item_kind = 'per_ticket'
        and t.po_no = p.po_no
        and t.po_line_no = p.po_line_no
        and p.state in ('ready', 'blocked')
),

final as (
    select * from cycles
    union all
    select * from per_line
)

select * from final
order by region, po_no, po_line_no, cycle_start nulls first, state
$$;

-- Totals of mart.money_items per region and service type, per region, and partner-wide (region
-- '全部', service_type '合计'): the amounts by state, the outstanding total (ready + blocked +
-- open tickets + awaiting completion), and the closed per-ticket work still awaiting a PO (open PO-08
-- findings). Sheet 收入 and the page's money section.
create or replace function mart.money_totals(p_business_date date)
returns table (
    region text,
    service_type text,
    accepted_amount numeric,
    submitted_amount numeric,
    ready_amount numeric,
    blocked_amount numeric,
    rejected_amount numeric,
    open_tickets_amount numeric,
    awaiting_completion_amount numeric,
    outstanding_amount numeric,
    awaiting_po_tickets bigint
)
language sql stable
as $$
with items as (
    select
        coalesce(m.region, '总部') as region,
        m.service_type,
        m.state,
        m.rejected,
        m.amount,
        0 as awaiting_po
    from mart.money_items(p_business_date) as m
    union all
    select
        coalesce(f.region, '总部') as region,
        case
            when f.details ->> 'ticket_type' in ('巡检', '整改') then f.details ->> 'ticket_type'
            else '单次'
        end as service_type,
        'awaiting_po' as state,
        false as rejected,
        0 as amount,
        1 as awaiting_po
    from recon.findings_as_of(p_business_date) as f
    where f.status = 'open' and f.rule_code = 'PO-08'
),

grouped as (
    select
        case when grouping(i.region) = 1 then '全部' else i.region end as region,
        case when grouping(i.service_type) = 1 then '合计' else i.service_type end as service_type,
        grouping(i.region) as g_region,
        grouping(i.service_type) as g_type,
        coalesce(sum(i.amount) filter (where i.state = 'accepted'), 0) as accepted_amount,
        coalesce(sum(i.amount) filter (where i.state = 'submitted'), 0) as submitted_amount,
        coalesce(sum(i.amount) filter (where i.state = 'ready'), 0) as ready_amount,
        coalesce(sum(i.amount) filter (where i.state = 'blocked'), 0) as blocked_amount,
        coalesce(sum(i.amount) filter (where i.rejected and i.state in ('ready', 'blocked')), 0) as rejected_amount,
        coalesce(sum(i.amount) filter (where i.state = 'open_tickets'), 0) as open_tickets_amount,
        coalesce(sum(i.amount) filter (where i.state = 'awaiting_completion'), 0) as awaiting_completion_amount,
        coalesce(sum(i.amount) filter (where i.state in ('ready', 'blocked', 'open_tickets', 'awaiting_completion')), 0)
            as outstanding_amount,
        sum(i.awaiting_po) as awaiting_po_tickets
    from items as i
    group by grouping sets ((i.region, i.service_type), (i.region), ())
),

final as (
    select
        g.region,
        g.service_type,
        g.accepted_amount,
        g.submitted_amount,
        g.ready_amount,
        g.blocked_amount,
        g.rejected_amount,
        g.open_tickets_amount,
        g.awaiting_completion_amount,
        g.outstanding_amount,
        g.awaiting_po_tickets,
        g.g_region,
        g.g_type
    from grouped as g
)

select
    f.region,
    f.service_type,
    f.accepted_amount,
    f.submitted_amount,
    f.ready_amount,
    f.blocked_amount,
    f.rejected_amount,
    f.open_tickets_amount,
    f.awaiting_completion_amount,
    f.outstanding_amount,
    f.awaiting_po_tickets
from final as f
order by f.g_region, f.region, f.g_type, f.service_type
$$;
