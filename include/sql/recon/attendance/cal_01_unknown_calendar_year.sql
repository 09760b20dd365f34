-- rule: CAL-01
-- severity: warning
-- title: 工作日历缺少年份
-- explain: 计算工作日期限时用到了工作日历中没有的年份，已按周一至周五估算；请运维补充该年的节假日安排。
-- clause: 共享定义：工作日（国务院节假日安排，含调休）
-- Once per year (subject month 'YYYY-01') that a working-day computation of this run looked at
-- (the days strictly after the start day up to the computed deadline) and that ops.calendar_days does
-- not know. Scope (this family runs CAL-01, so only these computations are covered):
-- * RA-06 deadlines: every month with an anomaly RA-06 governs (a judged anomalous slot on a row not
--   excused by leave, whatever its flow state);
-- * CH-08 deadlines: every 完成失败 RFC with a failure day (same failure-day logic as
--   changes/ch_08_retrospective_missing.sql).
-- Not covered: PO-02 cycle deadlines (po family, mart.cycle_schedule) and RA-08 report due dates.
with params as (
    select
        cast(:ra06_flow_working_days as integer) as ra06_days,
        cast(:ch08_retro_working_days as integer) as ch08_days
),

ra06_uses as materialized (
    select distinct
        cast('RA-06' as text) as used_by,
        s.month_end as from_day,
        s.ra06_deadline as deadline_day
    from attendance_slots as s
    where s.anomalous
        and not s.leave_excused
),

failed_tasks as (
    select
        t.rfc_no,
        max(t.completed_at) as last_failed_at
    from netcare_rfc_tasks as t
    where t.status = '完成失败'
    group by t.rfc_no
),

failure_days as (
    select distinct cast(coalesce(f.last_failed_at, r.planned_end_at) as date) as failure_day
    from netcare_rfcs as r
    left join failed_tasks as f on f.rfc_no = r.rfc_no
    where r.status = '完成失败'
        and coalesce(f.last_failed_at, r.planned_end_at) is not null
),

ch08_uses as materialized (
    select
        cast('CH-08' as text) as used_by,
        d.failure_day as from_day,
        ops.working_days_after(d.failure_day, p.ch08_days) as deadline_day
    from failure_days as d
    cross join params as p
),

uses as (
    select * from ra06_uses
    union all
    select * from ch08_uses
),

years_used as (
    select
        cast(y.y as integer) as year,
        u.used_by,
        u.from_day,
        u.deadline_day
    from uses as u
    cross join
        lateral generate_series(
            cast(extract(year from u.from_day + 1) as integer),
            cast(extract(year from u.deadline_day) as integer)
        ) as y (y)
    where u.deadline_day is not null
),

unknown_years as (
    select
        y.year,
        jsonb_agg(distinct y.used_by) as used_by,
        min(y.from_day) as first_start_day,
        max(y.deadline_day) as last_deadline_day,
        count(*) as computations
    from years_used as y
    where not exists (
            select 1 from ops.calendar_years as c
            where c.year = y.year
        )
    group by y.year
),

final as (
    select
        u.year || '-01' as month,
        jsonb_build_object(
            'year', u.year,
            'assumed', 'Mon-Fri',
            'used_by', u.used_by,
            'computations', u.computations,
            'first_start_day', u.first_start_day,
            'last_deadline_day', u.last_deadline_day
        ) as details
    from unknown_years as u
)

select * from final
