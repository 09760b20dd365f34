-- Expected resident reports (rulebook RA-08), one row per report: for each ticket and engineer with
-- resident attendance, every calendar week (Mon-Sun) and calendar month with at least one attendance
-- row, clipped to that engineer's first and last attendance day on the ticket.
-- Due: the next working day on or after the following Monday (weekly) / the 1st of the following
-- month (monthly), from the warehouse calendar (ops.next_working_day); the deadline is the end of
-- that day. A report is generated once its calendar period is over by as_of (period_over).
-- available_on: the first business date whose run could generate it -- the later of the period's
-- calendar end and the earliest extract date (visible now: ops.visible_files) that holds an
-- attendance row of the period; a function of the visible extracts, not of which runs happened
-- (issue 14 item 5).
-- Reads the run's staging temp tables (netcare_resident_attendance, netcare_workorders,
-- timesheet_engineers); materialised by reports.py as the temp table report_periods.
with params as (
    select cast(:business_date as date) as business_date
),

first_visible as (
    select
        r.ticket_no,
        r.engineer_id,
        r.work_date,
        min(r.extract_date) as first_extract_date
    from staging.netcare_resident_attendance_rows as r
    inner join ops.visible_files('netcare_resident_attendance', cast(:as_of as timestamp)) as v
        on r.file_id = v.file_id
    group by r.ticket_no, r.engineer_id, r.work_date
),

spans as (
    select
        a.ticket_no,
        a.engineer_id,
        min(a.work_date) as first_day,
        max(a.work_date) as last_day,
        max(a.engineer_name) as engineer_name
    from netcare_resident_attendance as a
    group by a.ticket_no, a.engineer_id
),

att_periods as (
    select
        cast('weekly' as text) as report_kind,
        a.ticket_no,
        a.engineer_id,
        cast(date_trunc('week', a.work_date) as date) as period_key,
        count(distinct a.work_date) as attendance_days,
        min(fv.first_extract_date) as first_extract_date
    from netcare_resident_attendance as a
    left join first_visible as fv
        on a.ticket_no = fv.ticket_no and a.engineer_id = fv.engineer_id and a.work_date = fv.work_date
    group by a.ticket_no, a.engineer_id, cast(date_trunc('week', a.work_date) as date)

    union all

    select
        cast('monthly' as text) as report_kind,
        a.ticket_no,
        a.engineer_id,
        cast(date_trunc('month', a.work_date) as date) as period_key,
        count(distinct a.work_date) as attendance_days,
        min(fv.first_extract_date) as first_extract_date
    from netcare_resident_attendance as a
    left join first_visible as fv
        on a.ticket_no = fv.ticket_no and a.engineer_id = fv.engineer_id and a.work_date = fv.work_date
    group by a.ticket_no, a.engineer_id, cast(date_trunc('month', a.work_date) as date)
),

calendar_periods as (
    select
        p.*,
        case
            when p.report_kind = 'weekly' then p.period_key + 6
            else cast(p.period_key + interval '1 month' - interval '1 day' as date)
        end as calendar_end,
        case
            when p.report_kind = 'weekly' then p.period_key + 7
            else cast(p.period_key + interval '1 month' as date)
        end as next_period_start
    from att_periods as p
),

due_dates as materialized (
    select
        d.next_period_start,
        ops.next_working_day(d.next_period_start) as due_date
    from (select distinct next_period_start from calendar_periods) as d
),

final as (
    select
        c.report_kind,
        c.ticket_no,
        c.engineer_id,
        c.period_key,
        coalesce(e.engineer_name, s.engineer_name) as engineer_name,
        coalesce(w.region, e.region) as region,
        w.customer_name,
        w.site_address,
        w.po_no,
        greatest(c.period_key, s.first_day) as period_start,
        least(c.calendar_end, s.last_day) as period_end,
        c.calendar_end,
        cast(c.attendance_days as integer) as attendance_days,
        d.due_date,
        c.calendar_end <= p.business_date as period_over,
        greatest(c.calendar_end, coalesce(c.first_extract_date, c.calendar_end)) as available_on
    from calendar_periods as c
    cross join params as p
    inner join spans as s on s.ticket_no = c.ticket_no and s.engineer_id = c.engineer_id
    inner join due_dates as d on d.next_period_start = c.next_period_start
    left join netcare_workorders as w on w.ticket_no = c.ticket_no
    left join timesheet_engineers as e on e.engineer_id = c.engineer_id
)

select * from final
