-- rule: CH-07
-- severity: error
-- title: 变更任务超出授权时间窗
-- explain: 任务的实际开始或实际完成时间不在授权开始至授权结束时间之内。
-- clause: 第8部分 三 4.2 3)
-- Window inclusive, checked only when both ends are set; the completion is held to the same window
-- (Decision). One finding per task, both causes in details.
with checked as (
    select
        t.rfc_no,
        t.task_no,
        r.region,
        t.auth_start_at,
        t.auth_end_at,
        t.started_at,
        t.completed_at,
        (t.started_at < t.auth_start_at or t.started_at > t.auth_end_at) as start_outside,
        (t.completed_at < t.auth_start_at or t.completed_at > t.auth_end_at) as completion_outside
    from netcare_rfc_tasks as t
    left join netcare_rfcs as r on r.rfc_no = t.rfc_no
    where t.auth_start_at is not null
        and t.auth_end_at is not null
),

final as (
    select
        c.region,
        c.rfc_no,
        c.task_no,
        jsonb_build_object(
            'auth_start_at', c.auth_start_at,
            'auth_end_at', c.auth_end_at,
            'started_at', c.started_at,
            'completed_at', c.completed_at,
            'outside', to_jsonb(array_remove(array[
                case when coalesce(c.start_outside, false) then 'start' end,
                case when coalesce(c.completion_outside, false) then 'completion' end
            ], null))
        ) as details
    from checked as c
    where coalesce(c.start_outside, false) or coalesce(c.completion_outside, false)
)

select * from final
