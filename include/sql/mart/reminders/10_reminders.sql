-- Reminders of :business_date — the things falling due, per region (issue 16; part 12 KPI 12
-- "即将超时…提醒", "工作群组每周提醒…持续跟进闭环情况"):
-- * SL-04: closure requests due within the next 2 working days (the rule's findings of the date);
-- * CH-02: RFCs within 7 days of their overdue-closure deadline (the rule's findings of the date);
-- * PO-02: 维保/驻场 cycles in state due whose submission deadline (end of the 5th working day after
--   the cycle) is not yet past and is no later than the end of the :reminder_po02_working_days-th
--   working day after the business date (they become PO-02 after it);
-- * RA-06: resident attendance anomalies whose exception flow is still 审批中 while its deadline (end
--   of the 5th working day of the next month) is not yet past, per ticket, engineer and month
--   (mart.attendance_summary.pending_flow_days); region of the ticket, else of the engineer.
-- deadline is the instant (an end-of-day deadline is the next midnight), deadline_day its day;
-- working_days_left counts the working days after the business date up to the deadline day.
-- Read after every family ran (persisted findings and snapshots only, no temp tables).
with params as (
    select
        cast(:business_date as date) as business_date,
        cast(:as_of as timestamp) as as_of,
        cast(:reminder_po02_working_days as integer) as po02_days
),

horizon as materialized (
    select ops.working_days_after(p.business_date, p.po02_days) as po02_until
    from params as p
),

rule_items as (
    select
        f.rule_code as kind,
        f.region,
        f.ticket_no,
        cast(null as text) as engineer_id,
        f.rfc_no,
        cast(null as text) as po_no,
        cast(null as integer) as po_line_no,
        cast(null as date) as cycle_start,
        cast(null as text) as month,
        cast(f.details ->> 'deadline' as timestamp) as deadline,
        f.details
    from recon.finding_snapshots as f
    cross join params as p
    where f.business_date = p.business_date
        and f.rule_code in ('SL-04', 'CH-02')
),

cycle_items as (
    select
        cast('PO-02' as text) as kind,
        c.region,
        cast(null as text) as ticket_no,
        cast(null as text) as engineer_id,
        cast(null as text) as rfc_no,
        c.po_no,
        c.po_line_no,
        c.cycle_start,
        cast(null as text) as month,
        cast(c.submit_deadline + 1 as timestamp) as deadline,
        jsonb_build_object(
            'service_type', c.service_type,
            'customer_name', c.customer_name,
            'cycle_end', c.cycle_end,
            'cycle_amount', c.cycle_amount,
            'remark', c.remark
        ) as details
    from mart.cycle_schedule as c
    cross join params as p
    cross join horizon as h
    where c.business_date = p.business_date
        and c.state = 'due'
        and c.submit_deadline >= p.business_date
        and c.submit_deadline <= h.po02_until
),

ticket_regions as (
    select
        w.ticket_no,
        w.region
    from params as p
    cross join lateral staging.netcare_workorders(p.as_of) as w
),

flow_items as (
    select
        cast('RA-06' as text) as kind,
        coalesce(t.region, a.region) as region,
        a.ticket_no,
        a.engineer_id,
        cast(null as text) as rfc_no,
        cast(null as text) as po_no,
        cast(null as integer) as po_line_no,
        cast(null as date) as cycle_start,
        a.month,
        cast(a.ra06_deadline + 1 as timestamp) as deadline,
        jsonb_build_object('engineer_name', a.engineer_name, 'pending_days', a.pending_flow_days) as details
    from mart.attendance_summary as a
    cross join params as p
    left join ticket_regions as t on t.ticket_no = a.ticket_no
    where a.business_date = p.business_date
        and a.pending_flow_days > 0
        and a.ra06_deadline >= p.business_date
),

items as (
    select * from rule_items
    union all
    select * from cycle_items
    union all
    select * from flow_items
),

dated as (
    select
        i.*,
        case
            when cast(i.deadline as time) = time '00:00' then cast(i.deadline as date) - 1
            else cast(i.deadline as date)
        end as deadline_day
    from items as i
),

final as (
    select
        d.region,
        d.kind,
        d.ticket_no,
        d.engineer_id,
        d.rfc_no,
        d.po_no,
        d.po_line_no,
        d.cycle_start,
        d.month,
        d.deadline,
        d.deadline_day,
        cast((
            select count(*)
            from generate_series(p.business_date + 1, d.deadline_day, interval '1 day') as g (x)
            where ops.is_working_day(cast(g.x as date))
        ) as integer) as working_days_left,
        d.details
    from dated as d
    cross join params as p
)

select * from final
order by
    region nulls first, deadline_day, kind, ticket_no nulls first, rfc_no nulls first, po_no nulls first,
    po_line_no nulls first, cycle_start nulls first, engineer_id nulls first, month nulls first
