-- rule: CH-08
-- severity: error
-- title: 失败变更未按时提交回溯
-- explain: 完成失败的变更单，须在失败日后{ch08_retro_working_days}个工作日内提交回溯；逾期未提交或提交晚了都会标出。
-- clause: 第8部分 三 4.3 3)
-- Failure day = day of the latest 实际完成时间 of the RFC's 完成失败 tasks, else the day of 计划完成时间
-- (neither: not checkable, skipped). Deadline = end of ops.working_days_after(failure day, 5) (Chinese
-- working days). Late: 回溯提交时间 after the deadline. Missing: no 回溯提交时间 and the deadline is past,
-- read strictly (as_of after the end of the deadline day, as PO-02's "before as_of").
-- attendance/cal_01_unknown_calendar_year.sql repeats the failure-day logic for CAL-01.
with params as (
    select
        cast(:as_of as timestamp) as as_of,
        cast(:ch08_retro_working_days as integer) as working_days
),

failed_tasks as (
    select
        t.rfc_no,
        max(t.completed_at) as last_failed_at
    from netcare_rfc_tasks as t
    where t.status = '完成失败'
    group by t.rfc_no
),

failures as (
    select
        r.rfc_no,
        r.region,
        r.retro_submitted_at,
        r.planned_end_at,
        f.last_failed_at,
        cast(coalesce(f.last_failed_at, r.planned_end_at) as date) as failure_day
    from netcare_rfcs as r
    left join failed_tasks as f on f.rfc_no = r.rfc_no
    where r.status = '完成失败'
),

failure_days as (
    select distinct f.failure_day
    from failures as f
    where f.failure_day is not null
),

deadline_days as materialized (
    select
        d.failure_day,
        ops.working_days_after(d.failure_day, p.working_days) as deadline_day
    from failure_days as d
    cross join params as p
),

checked as (
    select
        f.*,
        d.deadline_day,
        cast(d.deadline_day + 1 as timestamp) as deadline_end,
        case
            when f.retro_submitted_at is null and p.as_of > cast(d.deadline_day + 1 as timestamp) then 'missing'
            when f.retro_submitted_at > cast(d.deadline_day + 1 as timestamp) then 'late'
        end as kind
    from failures as f
    inner join deadline_days as d on d.failure_day = f.failure_day
    cross join params as p
),

final as (
    select
        c.region,
        c.rfc_no,
        jsonb_build_object(
            'kind', c.kind,
            'failure_day', c.failure_day,
            'failure_day_from', case when c.last_failed_at is not null then 'failed_task' else 'planned_end' end,
            'deadline', c.deadline_day,
            'retro_submitted_at', c.retro_submitted_at
        ) as details
    from checked as c
    where c.kind is not null
)

select * from final
