-- 问题处理清单: tickets at the report's customer (same 客户名称, the resident ticket itself excluded)
-- created or closed within the report's period, with their state as of the end of the period (the
-- work-order extract as a run at the end of period_end saw it), so a later status change does not
-- rewrite a past report.
with ends as (
    select distinct r.period_end
    from report_periods as r
    where r.period_over and r.customer_name is not null
),

period_workorders as materialized (
    select
        e.period_end,
        w.*
    from ends as e
    cross join lateral staging.netcare_workorders(cast(e.period_end + 1 as timestamp)) as w
),

final as (
    select
        r.report_kind,
        r.ticket_no as report_ticket_no,
        r.engineer_id,
        r.period_key,
        w.ticket_no,
        w.ticket_type,
        w.status,
        w.engineer_name,
        w.created_at,
        w.closed_at,
        w.created_at >= r.period_start and w.created_at < r.period_end + 1 as opened_in_period,
        coalesce(w.closed_at >= r.period_start and w.closed_at < r.period_end + 1, false) as closed_in_period
    from report_periods as r
    inner join period_workorders as w
        on w.period_end = r.period_end
        and w.customer_name = r.customer_name
        and w.ticket_no <> r.ticket_no
        and (
            (w.created_at >= r.period_start and w.created_at < r.period_end + 1)
            or (w.closed_at >= r.period_start and w.closed_at < r.period_end + 1)
        )
    where r.period_over
)

select * from final
order by report_kind, report_ticket_no, engineer_id, period_key, created_at, ticket_no
