-- The 3-month trend of each monthly report whose month is over: the month and the two before, for
-- the engineer on the ticket: scheduled (attendance) days and counted anomalies on the ticket, the
-- engineer's anomalies on all tickets and their 3-month running total (engineer_months, the RA-04 /
-- RA-05 model), and timesheet hours on the ticket (as 30_report_timesheet selects them).
with months as (
    select
        r.ticket_no,
        r.engineer_id,
        r.period_key,
        r.po_no,
        cast(m as date) as month_start
    from report_periods as r
    cross join lateral generate_series(r.period_key - interval '2 months', r.period_key, interval '1 month') as m
    where r.report_kind = 'monthly'
        and r.period_over
),

ticket_days as (
    select
        m.ticket_no,
        m.engineer_id,
        m.period_key,
        m.month_start,
        count(distinct s.work_date) as attendance_days,
        count(*) filter (where s.counted) as ticket_anomalies
    from months as m
    inner join attendance_slots as s
        on s.ticket_no = m.ticket_no
        and s.engineer_id = m.engineer_id
        and s.work_date >= m.month_start
        and s.work_date < cast(m.month_start + interval '1 month' as date)
    group by m.ticket_no, m.engineer_id, m.period_key, m.month_start
),

ticket_hours as (
    select
        m.ticket_no,
        m.engineer_id,
        m.period_key,
        m.month_start,
        sum(t.hours) as hours
    from months as m
    inner join timesheet_entries as t
        on t.engineer_id = m.engineer_id
        and t.work_date >= m.month_start
        and t.work_date < cast(m.month_start + interval '1 month' as date)
        and (t.ticket_no = m.ticket_no or (t.ticket_no is null and m.po_no is not null and t.po_no = m.po_no))
        and t.approval <> '已驳回'
        and t.hours > 0
    group by m.ticket_no, m.engineer_id, m.period_key, m.month_start
),

final as (
    select
        m.ticket_no,
        m.engineer_id,
        m.period_key,
        to_char(m.month_start, 'YYYY-MM') as month,
        cast(coalesce(d.attendance_days, 0) as integer) as attendance_days,
        cast(coalesce(d.ticket_anomalies, 0) as integer) as ticket_anomalies,
        cast(coalesce(em.anomalies, 0) as integer) as engineer_anomalies,
        cast(coalesce(em.anomalies_3m, 0) as integer) as engineer_3m_anomalies,
        coalesce(h.hours, 0) as hours
    from months as m
    left join ticket_days as d
        on d.ticket_no = m.ticket_no and d.engineer_id = m.engineer_id
        and d.period_key = m.period_key and d.month_start = m.month_start
    left join ticket_hours as h
        on h.ticket_no = m.ticket_no and h.engineer_id = m.engineer_id
        and h.period_key = m.period_key and h.month_start = m.month_start
    left join engineer_months as em
        on em.engineer_id = m.engineer_id and em.month_start = m.month_start
)

-- month is month_start as YYYY-MM: the same order
select * from final
order by ticket_no, engineer_id, period_key, month
