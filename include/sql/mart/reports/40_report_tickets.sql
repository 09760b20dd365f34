-- 问题处理清单: the tickets at a customer (客户名称) created or closed within a period, with their state
-- as of the end of the period (the work-order extract as a run at the end of period_end saw it), so a
-- later status change does not rewrite a past report. One list per customer and period, shared by the
-- reports of that customer's residents for the period; each report leaves out its own resident ticket
-- (reports.py).
-- The state as of each period end is read from the work orders' versions, not computed once per
-- distinct period end: of each extract date the latest loaded delivery counts (ops.visible_files,
-- as in staging.netcare_workorders), and a ticket's row of extract date d is its state for every period end
-- from d until the next extract date that holds the ticket (newest extract wins; within a file the
-- later row). One sort of the work orders instead of one per period end (hundreds at company scale).
with lists as (
    select distinct
        r.customer_name,
        r.period_start,
        r.period_end
    from report_periods as r
    where r.period_over and r.customer_name is not null
),

file_rows as (
    select distinct on (w.ticket_no, w.extract_date) w.*
    from staging.netcare_workorders_rows as w
    -- the files a run at the end of the latest period end saw (every list's files are among them)
    inner join ops.visible_files(
        'netcare_workorders', cast((select max(l.period_end) from lists as l) + 1 as timestamp)
    ) as v on w.file_id = v.file_id
    order by w.ticket_no asc, w.extract_date asc, w.row_no desc
),

versions as (
    select
        fr.*,
        lead(fr.extract_date) over (partition by fr.ticket_no order by fr.extract_date) as superseded_on
    from file_rows as fr
),

-- a version once per day it was created or closed on, with that day's month: an equality join on
-- customer and month finds the lists it may belong to
version_days as (
    select
        v.*,
        d.day,
        d.is_created,
        cast(date_trunc('month', d.day) as date) as month
    from versions as v
    cross join
        lateral (
            values (cast(v.created_at as date), true), (cast(v.closed_at as date), false)
        ) as d (day, is_created)
    where d.day is not null
),

list_months as (
    select
        l.*,
        cast(m.month as date) as month
    from lists as l
    cross join lateral generate_series(
        date_trunc('month', l.period_start), date_trunc('month', l.period_end), interval '1 month'
    ) as m (month)
),

final as (
    select
        l.customer_name,
        l.period_start,
        l.period_end,
        w.ticket_no,
        w.ticket_type,
        w.status,
        w.engineer_name,
        w.created_at,
        w.closed_at,
        w.created_at >= l.period_start and w.created_at < l.period_end + 1 as opened_in_period,
        coalesce(w.closed_at >= l.period_start and w.closed_at < l.period_end + 1, false) as closed_in_period
    from list_months as l
    inner join version_days as w
        on l.customer_name = w.customer_name
        and l.month = w.month
        and w.day between l.period_start and l.period_end
        -- the version that is the ticket's state at the period end
        and w.extract_date <= l.period_end
        and (w.superseded_on is null or w.superseded_on > l.period_end)
        -- once per ticket: by its creation day when that is in the period, else by its closing day
        and (w.is_created or not coalesce(w.created_at >= l.period_start and w.created_at < l.period_end + 1, false))
)

select * from final
order by customer_name, period_start, period_end, created_at, ticket_no
