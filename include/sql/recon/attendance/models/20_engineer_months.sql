-- Counted (unexcused, judged) anomalies per engineer and calendar month, across the engineer's
-- resident tickets, with the 3-month running total (the month and the two before). Months run
-- without gaps from the engineer's first attendance month to the later of the business date's month
-- and the last attendance month, so the window sum sees empty months as 0. RA-05 evaluates only
-- months up to the business date's month (in_ra05_range).
with params as (
    select cast(:business_date as date) as business_date
),

engineers as (
    select
        s.engineer_id,
        cast(date_trunc('month', min(s.work_date)) as date) as first_month,
        cast(date_trunc('month', max(s.work_date)) as date) as last_month
    from attendance_slots as s
    group by s.engineer_id
),

months as (
    select
        e.engineer_id,
        e.first_month,
        cast(m as date) as month_start
    from engineers as e
    cross join params as p
    cross join lateral generate_series(
        e.first_month,
        greatest(e.last_month, cast(date_trunc('month', p.business_date) as date)),
        interval '1 month'
    ) as m
),

counts as (
    select
        s.engineer_id,
        cast(date_trunc('month', s.work_date) as date) as month_start,
        count(*) filter (where s.counted) as anomalies,
        count(*) filter (where s.counted and s.kind = 'missing') as missing_count,
        count(*) filter (where s.counted and s.kind = 'late') as late_count,
        count(*) filter (where s.counted and s.kind = 'early') as early_count
    from attendance_slots as s
    group by s.engineer_id, cast(date_trunc('month', s.work_date) as date)
),

final as (
    select
        m.engineer_id,
        m.month_start,
        to_char(m.month_start, 'YYYY-MM') as month,
        coalesce(c.anomalies, 0) as anomalies,
        coalesce(c.missing_count, 0) as missing_count,
        coalesce(c.late_count, 0) as late_count,
        coalesce(c.early_count, 0) as early_count,
        sum(coalesce(c.anomalies, 0)) over (
            partition by m.engineer_id order by m.month_start rows between 2 preceding and current row
        ) as anomalies_3m,
        m.month_start <= cast(date_trunc('month', p.business_date) as date) as in_ra05_range
    from months as m
    cross join params as p
    left join counts as c on c.engineer_id = m.engineer_id and c.month_start = m.month_start
)

select * from final
