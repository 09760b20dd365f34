-- One row per ticket in the scope of SL-03 / SL-04 (rulebook, SL section): known tickets of every
-- type but POC, not 已取消, with a completion punch. Completion = the ticket's latest 完成 punch
-- (any engineer); for 驻场 its latest 离场 punch (other punch types never complete a ticket).
-- The close request (关单申请时间) is due by the end of the 5th working day after the completion
-- day, the 10th for 巡检: deadline = the end of deadline_day (24:00).
-- * is_late (SL-03): requested later than the deadline, or not requested while as_of is after it;
-- * due_soon (SL-04): not requested, as_of <= deadline (the deadline day is the business date or
--   later) and the deadline day is no later than the 2nd working day after the business date;
-- * decided (KPI closure): requested, or the deadline is before as_of.
-- working_days_used: working days after the completion day up to the request day (or up to the
-- business date while not requested).
with params as (
    select
        cast(:as_of as timestamp) as as_of,
        cast(:business_date as date) as business_date,
        cast(:sl03_close_working_days as integer) as close_days,
        cast(:sl03_inspection_close_working_days as integer) as inspection_close_days,
        cast(:sl04_due_working_days as integer) as due_soon_days
),

completions as (
    select
        w.ticket_no,
        w.region,
        w.ticket_type,
        w.status,
        w.close_requested_at,
        max(p.punched_at) as completed_at
    from netcare_workorders as w
    inner join netcare_punches as p
        on p.ticket_no = w.ticket_no
        and p.punch_type = case when w.ticket_type = '驻场' then '离场' else '完成' end
    where w.ticket_type <> 'POC'
        and w.status <> '已取消'
    group by w.ticket_no, w.region, w.ticket_type, w.status, w.close_requested_at
),

limits as (
    select
        c.*,
        cast(c.completed_at as date) as completed_day,
        case when c.ticket_type = '巡检' then p.inspection_close_days else p.close_days end as limit_days
    from completions as c
    cross join params as p
),

deadline_days as materialized (
    select
        k.completed_day,
        k.limit_days,
        ops.working_days_after(k.completed_day, k.limit_days) as deadline_day
    from (
        select distinct
            l.completed_day,
            l.limit_days
        from limits as l
    ) as k
),

horizon as materialized (
    select ops.working_days_after(p.business_date, p.due_soon_days) as due_soon_until
    from params as p
),

day_range as (
    select
        least(min(l.completed_day), min(cast(l.close_requested_at as date)), p.business_date) as first_day,
        greatest(max(cast(l.close_requested_at as date)), p.business_date) as last_day
    from limits as l
    cross join params as p
    group by p.business_date
),

workday_index as materialized (
    -- running count of working days, to count the working days between two days
    select
        cast(g.d as date) as day,
        sum(case when ops.is_working_day(cast(g.d as date)) then 1 else 0 end) over (order by g.d) as ord
    from day_range as r
    cross join lateral generate_series(r.first_day, r.last_day, interval '1 day') as g (d)
),

final as (
    select
        l.ticket_no,
        l.region,
        l.ticket_type,
        l.status,
        l.completed_at,
        l.completed_day,
        l.limit_days,
        d.deadline_day,
        cast(d.deadline_day + 1 as timestamp) as deadline,
        l.close_requested_at,
        coalesce(
            l.close_requested_at > cast(d.deadline_day + 1 as timestamp),
            p.as_of > cast(d.deadline_day + 1 as timestamp)
        ) as is_late,
        l.close_requested_at is null
        and d.deadline_day >= p.business_date
        and d.deadline_day <= h.due_soon_until as due_soon,
        l.close_requested_at is not null or cast(d.deadline_day + 1 as timestamp) < p.as_of as decided,
        coalesce(l.close_requested_at <= cast(d.deadline_day + 1 as timestamp), false) as on_time,
        cast(e.ord - s.ord as integer) as working_days_used
    from limits as l
    cross join params as p
    cross join horizon as h
    inner join deadline_days as d on d.completed_day = l.completed_day and d.limit_days = l.limit_days
    inner join workday_index as s on s.day = l.completed_day
    inner join workday_index as e on e.day = coalesce(cast(l.close_requested_at as date), p.business_date)
)

select * from final
