-- Month-to-date and 3-month running anomaly totals of each report whose period is over, as RA-04 /
-- RA-05 count them (counted slots of attendance_slots, the engineer's rows on every ticket), up to the
-- end of the report's calendar week / month: the month of that day from its 1st, and that month with
-- the two before; against the limits of RA-04 and RA-05.
with periods as (
    select
        r.report_kind,
        r.ticket_no,
        r.engineer_id,
        r.period_key,
        r.calendar_end,
        cast(date_trunc('month', r.calendar_end) as date) as month_start,
        cast(date_trunc('month', r.calendar_end) - interval '2 months' as date) as quarter_start
    from report_periods as r
    where r.period_over
),

final as (
    select
        p.report_kind,
        p.ticket_no,
        p.engineer_id,
        p.period_key,
        to_char(p.month_start, 'YYYY-MM') as month,
        to_char(p.quarter_start, 'YYYY-MM') as first_month_of_3,
        cast(count(*) filter (where s.work_date >= p.month_start) as integer) as month_to_date,
        cast(count(s.engineer_id) as integer) as three_months,
        cast(:ra04_max_month_anomalies as integer) as month_limit,
        cast(:ra05_max_quarter_anomalies as integer) as three_month_limit
    from periods as p
    left join attendance_slots as s
        on s.engineer_id = p.engineer_id
        and s.counted
        and s.work_date between p.quarter_start and p.calendar_end
    group by p.report_kind, p.ticket_no, p.engineer_id, p.period_key, p.month_start, p.quarter_start
)

select * from final
order by report_kind, ticket_no, engineer_id, period_key
