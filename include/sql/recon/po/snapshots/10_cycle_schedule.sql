-- Cycle schedule of every 维保 and 驻场 PO line (rulebook, PO section "Cycles"), as of the run.
-- Lines without both service dates, or ending before they start, have no cycles (PO-03 then flags
-- every acceptance of them as misaligned).
-- Final 驻场 acceptance (part 6, 四 4.3(4)2)): the last acceptance of a resident line states the whole
-- service period, so a 驻场 acceptance whose period is exactly the line's service period covers the
-- line's last cycle only; every earlier cycle needs its own acceptance.
with params as (
    select
        cast(:cycle_amount_convention as text) as convention,
        cast(:po02_submit_working_days as integer) as submit_days,
        cast(:as_of as timestamp) as as_of
),

lines as (
    select
        l.po_no,
        l.po_line_no,
        l.service_type,
        l.region,
        l.contract_no,
        l.customer_name,
        l.line_amount,
        l.service_start,
        l.service_end,
        (l.service_end - l.service_start + 1) as days_in_period,
        -- Shorter than one month: same day-of-month one month later, clamped to that month's
        -- last day (PostgreSQL's date + interval '1 month' clamps), minus one day.
        l.service_end < cast(l.service_start + interval '1 month' as date) - 1 as under_a_month
    from isc_po_lines as l
    where l.service_type in ('维保', '驻场')
        and l.service_start is not null
        and l.service_end is not null
        and l.service_end >= l.service_start
),

months as (
    select
        l.*,
        m.k - 1 as k,
        count(*) over (partition by l.po_no, l.po_line_no) as n_months,
        greatest(cast(m.month_start as date), l.service_start) as part_start,
        least(cast(m.month_start + interval '1 month' as date) - 1, l.service_end) as part_end
    from lines as l
    cross join lateral generate_series(
        date_trunc('month', l.service_start), date_trunc('month', l.service_end), interval '1 month'
    ) with ordinality as m (month_start, k)
),

grouped as (
    -- Cycle index of each calendar month: 维保 keeps every month; 驻场 merges a partial first month
    -- into the next cycle and a partial last month into the previous one (clamping the index into
    -- [lo, hi]; when nothing full is left, everything is one cycle); a period shorter than one
    -- month is one cycle whatever the type.
    select
        m.*,
        case
            when m.under_a_month then 0
            when m.service_type = '维保' then m.k
            else least(greatest(m.k, b.lo), greatest(b.hi, b.lo))
        end as g
    from months as m
    cross join lateral (  -- noqa: ST05
        select
            case when m.service_start > cast(date_trunc('month', m.service_start) as date) then 1 else 0 end as lo,
            cast(m.n_months as integer) - 1
            - case
                when m.service_end < cast(date_trunc('month', m.service_end) + interval '1 month' as date) - 1
                    then 1
                else 0
            end as hi
    ) as b
),

cycles as (
    select
        g.po_no,
        g.po_line_no,
        g.service_type,
        g.region,
        g.contract_no,
        g.customer_name,
        g.line_amount,
        g.service_start,
        g.service_end,
        g.days_in_period,
        min(g.part_start) as cycle_start,
        max(g.part_end) as cycle_end
    from grouped as g
    group by
        g.po_no, g.po_line_no, g.service_type, g.region, g.contract_no, g.customer_name,
        g.line_amount, g.service_start, g.service_end, g.days_in_period, g.g
),

numbered as (
    select
        c.*,
        cast(row_number() over w as integer) as cycle_no,
        count(*) over (partition by c.po_no, c.po_line_no) as n_cycles,
        c.cycle_end - c.cycle_start + 1 as days_in_cycle
    from cycles as c
    window w as (partition by c.po_no, c.po_line_no order by c.cycle_start)
),

rounded as (
    -- Pro-rata by days (Decision, default) or equal shares per cycle ('months': every cycle the
    -- same share of the line, whatever its length), rounded half-up to 0.01 (numeric round of a
    -- non-negative amount is half-up); the last cycle takes the remainder.
    select
        n.*,
        round(
            case
                when p.convention = 'months' then n.line_amount / n.n_cycles
                else n.line_amount * n.days_in_cycle / n.days_in_period
            end,
            2
        ) as share
    from numbered as n
    cross join params as p
),

amounts as (
    select
        r.*,
        case
            when r.cycle_no = r.n_cycles
                then r.line_amount - coalesce(sum(r.share) over (
                        partition by r.po_no, r.po_line_no order by r.cycle_no
                        rows between unbounded preceding and 1 preceding
                    ), 0)
            else r.share
        end as cycle_amount
    from rounded as r
),

deadlines as materialized (
    -- PO-02's deadline, computed once per distinct last day (the calendar function is per call).
    select
        e.cycle_end,
        ops.working_days_after(e.cycle_end, p.submit_days) as submit_deadline
    from (select distinct a.cycle_end from amounts as a) as e
    cross join params as p
),

acceptances as (
    -- 草稿 acceptances are ignored everywhere; an acceptance covers the cycles lying wholly
    -- inside its period.
    select a.*
    from isc_acceptances as a
    where a.approval <> '草稿'
        and a.period_start is not null
        and a.period_end is not null
),

covered as (
    select
        c.po_no,
        c.po_line_no,
        c.cycle_start,
        array_agg(a.acceptance_no order by a.acceptance_no) filter (where a.approval = '已通过') as accepted,
        array_agg(a.acceptance_no order by a.acceptance_no) filter (where a.approval = '审批中') as submitted,
        array_agg(a.acceptance_no order by a.acceptance_no) filter (where a.approval = '已驳回') as rejected
    from amounts as c
    inner join acceptances as a
        on a.po_no = c.po_no
        and a.po_line_no = c.po_line_no
        and a.period_start <= c.cycle_start
        and a.period_end >= c.cycle_end
        and not (
            c.service_type = '驻场'
            and a.period_start = c.service_start
            and a.period_end = c.service_end
            and c.cycle_no < c.n_cycles
        )
    group by c.po_no, c.po_line_no, c.cycle_start
),

final as (
    select
        c.po_no,
        c.po_line_no,
        c.service_type,
        c.region,
        c.contract_no,
        c.customer_name,
        c.cycle_no,
        c.cycle_start,
        c.cycle_end,
        c.days_in_cycle,
        c.days_in_period,
        c.line_amount,
        c.cycle_amount,
        '验收周期:' || to_char(c.cycle_start, 'YYYY-MM-DD') || '至' || to_char(c.cycle_end, 'YYYY-MM-DD') as remark,
        case
            -- future: the end of its last day is after as_of
            when cast(c.cycle_end + 1 as timestamp) > p.as_of then 'future'
            when v.accepted is not null then 'accepted'
            when v.submitted is not null then 'submitted'
            when v.rejected is not null then 'rejected'
            else 'due'
        end as state,
        coalesce(v.accepted, '{}') as accepted_acceptances,
        coalesce(v.submitted, '{}') as submitted_acceptances,
        coalesce(v.rejected, '{}') as rejected_acceptances,
        d.submit_deadline
    from amounts as c
    cross join params as p
    inner join deadlines as d on d.cycle_end = c.cycle_end
    left join covered as v
        on v.po_no = c.po_no and v.po_line_no = c.po_line_no and v.cycle_start = c.cycle_start
)

select * from final
