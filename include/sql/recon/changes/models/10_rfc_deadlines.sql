-- One row per RFC of the run: its overdue-closure deadline (CH-01 / CH-02, part 8, 三 5) 6)) and
-- the state of its tasks. Shared by ch_01, ch_02 and the RFC watch list snapshot (mart.rfc_watch).
-- Deadline = PM审批完成时间 + 31×24 h, + 34×24 h more when 延期审批状态 = 已通过 (the extract holds
-- one extension state per RFC, so an extension counts once). Tasks whose RFC is unknown are ignored.
with params as (
    select
        cast(:as_of as timestamp) as as_of,
        cast(:ch01_deadline_days as integer) as deadline_days,
        cast(:ch01_extension_days as integer) as extension_days,
        cast(:ch02_warning_days as integer) as warning_days
),

task_counts as (
    select
        t.rfc_no,
        count(*) as n_tasks,
        count(*) filter (where t.status = '未开始') as n_not_started,
        count(*) filter (where t.status = '取消') as n_cancelled,
        count(*) filter (where t.status in ('准备', '实施中')) as n_active,
        count(*) filter (where t.status in ('完成', '完成失败')) as n_finished
    from netcare_rfc_tasks as t
    group by t.rfc_no
),

status_counts as (
    select
        t.rfc_no,
        t.status,
        count(*) as n
    from netcare_rfc_tasks as t
    group by t.rfc_no, t.status
),

task_states as (
    select
        s.rfc_no,
        string_agg(
            s.status || '×' || s.n, '、'
            order by array_position(array['未开始', '准备', '实施中', '完成', '完成失败', '取消'], s.status)
        ) as task_states
    from status_counts as s
    group by s.rfc_no
),

deadlines as (
    select
        r.rfc_no,
        r.title,
        r.region,
        r.customer_name,
        r.status,
        r.pm_approved_at,
        r.extension,
        coalesce(r.extension = '已通过', false) as extension_applied,
        coalesce(c.n_tasks, 0) as n_tasks,
        coalesce(c.n_not_started, 0) as n_not_started,
        coalesce(c.n_cancelled, 0) as n_cancelled,
        coalesce(c.n_active, 0) as n_active,
        coalesce(c.n_finished, 0) as n_finished,
        coalesce(s.task_states, '无任务') as task_states,
        -- "all of whose tasks are 未开始 or 取消 (an RFC with no tasks counts)"
        coalesce(c.n_tasks, 0) = coalesce(c.n_not_started, 0) + coalesce(c.n_cancelled, 0) as all_idle,
        r.pm_approved_at + make_interval(
            hours => 24 * (p.deadline_days + case when r.extension = '已通过' then p.extension_days else 0 end)
        ) as deadline,
        p.as_of,
        p.warning_days
    from netcare_rfcs as r
    cross join params as p
    left join task_counts as c on c.rfc_no = r.rfc_no
    left join task_states as s on s.rfc_no = r.rfc_no
),

final as (
    select
        d.rfc_no,
        d.title,
        d.region,
        d.customer_name,
        d.status,
        d.pm_approved_at,
        d.extension,
        d.extension_applied,
        d.n_tasks,
        d.n_not_started,
        d.n_cancelled,
        d.n_active,
        d.n_finished,
        d.task_states,
        d.all_idle,
        d.deadline,
        round(cast(extract(epoch from d.deadline - d.as_of) / 86400.0 as numeric), 2) as days_left,
        -- in scope of CH-01 / CH-02: 客户审批 or 实施, PM approval set, no task started
        (d.status in ('客户审批', '实施') and d.pm_approved_at is not null and d.all_idle) as closure_candidate,
        coalesce(
            d.status in ('客户审批', '实施') and d.pm_approved_at is not null and d.all_idle
            and d.as_of > d.deadline,
            false
        ) as is_overdue,
        coalesce(
            d.status in ('客户审批', '实施') and d.pm_approved_at is not null and d.all_idle
            and d.as_of >= d.deadline - make_interval(hours => 24 * d.warning_days)
            and d.as_of <= d.deadline,
            false
        ) as is_due_soon
    from deadlines as d
)

select * from final
