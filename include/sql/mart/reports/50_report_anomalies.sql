-- Month-to-date and 3-month running anomaly totals of each report whose period is over, as RA-04 /
-- RA-05 count them (counted slots of attendance_slots, the engineer's rows on every ticket). The month
-- is the one of the report's last attendance day (a week from Mon 10-26 to Sun 11-01 with attendance
-- up to Fri 10-30 reports October, where its anomalies fall, not an empty November): counted from
-- that month's 1st up to the end of the report's calendar period or of that month, whichever is first;
-- the 3 months are that month and the two before; against the limits of RA-04 and RA-05.
with anchors as (
    select
        r.report_kind,
        r.ticket_no,
        r.engineer_id,
        r.period_key,
        r.calendar_end,
        max(a.work_date) as last_attendance_day
    from report_periods as r
    inner join netcare_resident_attendance as a
        on a.ticket_no = r.ticket_no
        and a.engineer_id = r.engineer_id
        and a.work_date between r.period_key and r.calendar_end
    where r.period_over
    group by r.report_kind, r.ticket_no, r.engineer_id, r.period_key, r.calendar_end
),

periods as (
    select
        x.report_kind,
        x.ticket_no,
        x.engineer_id,
        x.period_key,
        cast(date_trunc('month', x.last_attendance_day) as date) as month_start,
        cast(date_trunc('month', x.last_attendance_day) - interval '2 months' as date) as quarter_start,
        least(
            x.calendar_end,
            cast(date_trunc('month', x.last_attendance_day) + interval '1 month' - interval '1 day' as date)
        ) as count_end
    from anchors as x
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
        and s.work_date between p.quarter_start and p.count_end
    group by p.report_kind, p.ticket_no, p.engineer_id, p.period_key, p.month_start, p.quarter_start
)

select * from final
order by report_kind, ticket_no, engineer_id, period_key
