-- mart.acceptance_todo (moved out of V030__cycle_schedule.sql, which is frozen; re-created every run).
-- The clerks' acceptance to-do of a business date (computed at export time, after every family
-- ran, so it reads the findings of all families):
--   * every 维保/驻场 cycle in state due or rejected, with the exact ISC remark;
--   * every per-ticket PO line (any service type but 维保/驻场) with 关联工单号, not cancelled, with an
--     amount still to submit (line amount - 已通过 - 审批中 > 0), whose referenced tickets are all
--     known and 已关闭.
-- Blocking: open findings of this date on the line (rule PO-*, except PO-02, which is the to-do
-- itself, and PO-02 / PO-08 of other subjects), and open error findings (plus AT-02, a naming
-- problem the vendor rejects) on the item's tickets: the referenced tickets of a per-ticket line,
-- the 驻场 tickets whose PO号 is the line's for a 驻场 cycle.
-- For a 维保 cycle, site_issue_tickets lists (information only) the 现场问题处理 tickets of the line's
-- 合同号 closed (关单时间) within the cycle.
create or replace function mart.acceptance_todo(p_business_date date)
returns table (
    item_kind text,
    po_no text,
    po_line_no integer,
    service_type text,
    region text,
    customer_name text,
    contract_no text,
    cycle_start date,
    cycle_end date,
    amount numeric,
    remark text,
    cycle_state text,
    tickets text[],
    site_issue_tickets text[],
    blocking_findings text[],
    status text
)
language sql stable
as $$
with as_of as (
    select (p_business_date + 1)::timestamp as ts
),

lines as (
    select l.* from staging.isc_po_lines((select ts from as_of)) as l
),

workorders as (
    select w.* from staging.netcare_workorders((select ts from as_of)) as w
),

acceptances as (
    select a.* from staging.isc_acceptances((select ts from as_of)) as a
    where a.approval <> '草稿'
),

open_findings as (
    -- a finding a clerk marked as explained (recon.triage_marks, V040) no longer blocks an item
    select f.*
    from recon.findings_as_of(p_business_date) as f
    where f.status = 'open'
      and not exists (select 1 from recon.triage_marks as k where k.finding_id = f.finding_id)
),

due_cycles as materialized (
    select c.*
    from mart.cycle_schedule as c
    inner join lines as l on l.po_no = c.po_no and l.po_line_no = c.po_line_no
    where c.business_date = p_business_date
      and c.state in ('due', 'rejected')
      and l.po_status <> '已取消'
),

line_refs as materialized (
    select
        l.po_no,
        l.po_line_no,
        btrim(normalize(t.ref, nfkc)) as ticket_no
    from lines as l
    cross join lateral regexp_split_to_table(l.ticket_refs, '[;；]') as t (ref)
    where l.service_type not in ('维保', '驻场')
      and l.po_status <> '已取消'
      and btrim(normalize(t.ref, nfkc)) <> ''
),

line_ticket_state as (
    select
        r.po_no,
        r.po_line_no,
        array_agg(distinct r.ticket_no order by r.ticket_no) as tickets,
        bool_and(coalesce(w.status = '已关闭', false)) as all_closed
    from line_refs as r
    left join workorders as w on w.ticket_no = r.ticket_no
    group by r.po_no, r.po_line_no
),

line_accepted as (
    select
        a.po_no,
        a.po_line_no,
        sum(a.amount) filter (where a.approval in ('已通过', '审批中')) as taken
    from acceptances as a
    group by a.po_no, a.po_line_no
),

ticket_items as (
    select
        'per_ticket'::text as item_kind,
        l.po_no,
        l.po_line_no,
        l.service_type,
        l.region,
        l.customer_name,
        l.contract_no,
        null::date as cycle_start,
        null::date as cycle_end,
        l.line_amount - coalesce(a.taken, 0) as amount,
        null::text as remark,
        null::text as cycle_state,
        s.tickets,
        null::text[] as site_issue_tickets
    from lines as l
    inner join line_ticket_state as s on s.po_no = l.po_no and s.po_line_no = l.po_line_no
    left join line_accepted as a on a.po_no = l.po_no and a.po_line_no = l.po_line_no
    where s.all_closed
      and l.line_amount - coalesce(a.taken, 0) > 0
),

resident_tickets as (
    select w.po_no, array_agg(w.ticket_no order by w.ticket_no) as tickets
    from workorders as w
    where w.ticket_type = '驻场' and w.po_no is not null
    group by w.po_no
),

site_issues as (
    select
        c.po_no,
        c.po_line_no,
        c.cycle_start,
        array_agg(w.ticket_no order by w.ticket_no) as tickets
    from due_cycles as c
    inner join workorders as w
        on w.contract_no = c.contract_no
        and w.closed_at >= c.cycle_start
        and w.closed_at < c.cycle_end + 1
    where c.service_type = '维保'
      and w.ticket_type = '现场问题处理'
      and w.status = '已关闭'
    group by c.po_no, c.po_line_no, c.cycle_start
),

cycle_items as (
    select
        'cycle'::text as item_kind,
        c.po_no,
        c.po_line_no,
        c.service_type,
        c.region,
        c.customer_name,
        c.contract_no,
        c.cycle_start,
        c.cycle_end,
        c.cycle_amount as amount,
        c.remark,
        c.state as cycle_state,
        case when c.service_type = '驻场' then r.tickets end as tickets,
        s.tickets as site_issue_tickets
    from due_cycles as c
    left join resident_tickets as r on r.po_no = c.po_no
    left join site_issues as s
        on s.po_no = c.po_no and s.po_line_no = c.po_line_no and s.cycle_start = c.cycle_start
),

items as (
    select * from cycle_items
    union all
    select * from ticket_items
),

item_findings as (
    select i.po_no, i.po_line_no, i.cycle_start, f.rule_code, f.ticket_no, f.acceptance_no
    from items as i
    inner join open_findings as f
        on f.po_no = i.po_no
        and f.po_line_no = i.po_line_no
    where f.rule_code like 'PO-%'
      and f.rule_code not in ('PO-02', 'PO-08')
    union
    select i.po_no, i.po_line_no, i.cycle_start, f.rule_code, f.ticket_no, f.acceptance_no
    from items as i
    cross join lateral unnest(i.tickets) as t (ticket_no)
    inner join open_findings as f on f.ticket_no = t.ticket_no
    where f.severity = 'error' or f.rule_code = 'AT-02'
),

blocking as (
    select
        b.po_no,
        b.po_line_no,
        b.cycle_start,
        array_agg(b.label order by b.label) as findings
    from (
        select distinct
            x.po_no,
            x.po_line_no,
            x.cycle_start,
            x.rule_code || coalesce(' ' || x.ticket_no, '') || coalesce(' ' || x.acceptance_no, '') as label
        from item_findings as x
    ) as b
    group by b.po_no, b.po_line_no, b.cycle_start
),

final as (
    select
        i.item_kind,
        i.po_no,
        i.po_line_no,
        i.service_type,
        i.region,
        i.customer_name,
        i.contract_no,
        i.cycle_start,
        i.cycle_end,
        i.amount,
        i.remark,
        i.cycle_state,
        i.tickets,
        i.site_issue_tickets,
        coalesce(b.findings, '{}') as blocking_findings,
        case
            when b.findings is null then 'ready'
            else 'blocked: ' || array_to_string(b.findings, ', ')
        end as status
    from items as i
    left join blocking as b
        on b.po_no = i.po_no
        and b.po_line_no = i.po_line_no
        and b.cycle_start is not distinct from i.cycle_start
)

select * from final
order by region, po_no, po_line_no, cycle_start nulls first
$$;
