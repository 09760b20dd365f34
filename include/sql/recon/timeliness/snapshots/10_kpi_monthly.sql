-- Monthly KPI statistics (rulebook, "KPI statistics"; part 12 KPIs 8, 11, 12, 22) -> mart.kpi_monthly,
-- exported as kpi_monthly.csv. One row per region, month and kpi, plus region 全部 (the whole
-- partner); only rows with checked > 0.
-- * dispatch: tickets in SL-01 / SL-02 scope, decided; on time = dispatched no later than the
--   deadline; month of the deadline's day (an end-of-day deadline belongs to the day it ends);
-- * arrival: arrival_targets, decided; on time = first arrival no later than the target; month of
--   the target time;
-- * closure: tickets in SL-03 scope, decided; on time = close request no later than the deadline;
--   month of the deadline's day;
-- * po_rejection: PO-06's decisions (recon.acceptance_decisions) with 审批日期, in its month, region of
--   the PO line (empty when ISC lacks the line); on_time holds the rejected ones; target 3 %, met
--   when rejected / decided <= target (exact ratio).
-- rate = on_time / checked rounded to 4 decimals; target and met empty where there is no target.
with params as (
    select cast(:po06_max_reject_rate as numeric) as max_reject_rate
),

items as (
    select
        d.region,
        to_char(d.deadline_day, 'YYYY-MM') as month,
        'dispatch' as kpi,
        d.on_time
    from dispatch_deadlines as d
    where d.decided

    union all

    select
        a.region,
        to_char(a.target_at, 'YYYY-MM') as month,
        'arrival' as kpi,
        a.on_time
    from arrival_targets as a
    where a.decided

    union all

    select
        c.region,
        to_char(c.deadline_day, 'YYYY-MM') as month,
        'closure' as kpi,
        c.on_time
    from closure_deadlines as c
    where c.decided

    union all

    select
        coalesce(l.region, '') as region,
        to_char(d.decided_on, 'YYYY-MM') as month,
        'po_rejection' as kpi,
        d.approval = '已驳回' as on_time
    from recon.acceptance_decisions(cast(:as_of as timestamp)) as d
    left join isc_po_lines as l on l.po_no = d.po_no and l.po_line_no = d.po_line_no
    where d.decided_on is not null
),

counted as (
    select
        case when grouping(i.region) = 1 then '全部' else i.region end as region,
        i.month,
        i.kpi,
        count(*) as checked,
        count(*) filter (where i.on_time) as on_time
    from items as i
    group by grouping sets ((i.region, i.month, i.kpi), (i.month, i.kpi))
),

final as (
    select
        c.region,
        c.month,
        c.kpi,
        cast(c.checked as integer) as checked,
        cast(c.on_time as integer) as on_time,
        round(cast(c.on_time as numeric) / c.checked, 4) as rate,
        case when c.kpi = 'po_rejection' then p.max_reject_rate end as target,
        case when c.kpi = 'po_rejection' then cast(c.on_time as numeric) <= p.max_reject_rate * c.checked end
            as met
    from counted as c
    cross join params as p
    where c.checked > 0
)

select * from final
