-- Resident attendance summary (mart.attendance_summary): per engineer, ticket and month of 考勤日期:
-- scheduled days, counted anomalies by kind, excused days, rows whose flow is still 审批中, the
-- engineer's month and 3-month totals (all tickets, as RA-04 / RA-05 count them), the RA-06 deadline
-- of that month's exception flows and the RA-04 / RA-05 status.
with params as (
    select
        cast(:ra04_max_month_anomalies as integer) as ra04_max,
        cast(:ra05_max_quarter_anomalies as integer) as ra05_max
),

per_row as (
    select
        s.engineer_id,
        s.ticket_no,
        s.work_date,
        s.month,
        max(s.engineer_name) as engineer_name,
        max(s.ra06_deadline) as ra06_deadline,
        bool_or(s.excused) as excused,
        bool_or(s.anomalous and not s.excused and s.exception_flow = '审批中') as pending_flow,
        count(*) filter (where s.judged) as judged_slots,
        count(*) filter (where s.counted and s.kind = 'missing') as missing_count,
        count(*) filter (where s.counted and s.kind = 'late') as late_count,
        count(*) filter (where s.counted and s.kind = 'early') as early_count,
        count(*) filter (where s.counted) as anomalies
    from attendance_slots as s
    group by s.engineer_id, s.ticket_no, s.work_date, s.month
),

per_month as (
    select
        r.engineer_id,
        r.ticket_no,
        r.month,
        max(r.engineer_name) as engineer_name,
        count(*) as scheduled_days,
        sum(r.judged_slots) as judged_slots,
        sum(r.missing_count) as missing_count,
        sum(r.late_count) as late_count,
        sum(r.early_count) as early_count,
        sum(r.anomalies) as anomalies,
        count(*) filter (where r.excused) as excused_days,
        count(*) filter (where r.pending_flow) as pending_flow_days,
        max(r.ra06_deadline) as ra06_deadline
    from per_row as r
    group by r.engineer_id, r.ticket_no, r.month
),

final as (
    select
        m.engineer_id,
        coalesce(e.engineer_name, m.engineer_name) as engineer_name,
        e.region,
        m.ticket_no,
        m.month,
        cast(m.scheduled_days as integer) as scheduled_days,
        cast(m.judged_slots as integer) as judged_slots,
        cast(m.missing_count as integer) as missing_count,
        cast(m.late_count as integer) as late_count,
        cast(m.early_count as integer) as early_count,
        cast(m.anomalies as integer) as anomalies,
        cast(m.excused_days as integer) as excused_days,
        cast(m.pending_flow_days as integer) as pending_flow_days,
        cast(em.anomalies as integer) as engineer_month_anomalies,
        cast(em.anomalies_3m as integer) as engineer_3m_anomalies,
        m.ra06_deadline,
        em.anomalies > p.ra04_max as ra04_exceeded,
        em.anomalies_3m > p.ra05_max as ra05_exceeded
    from per_month as m
    cross join params as p
    inner join engineer_months as em on em.engineer_id = m.engineer_id and em.month = m.month
    left join timesheet_engineers as e on e.engineer_id = m.engineer_id
)

select * from final
