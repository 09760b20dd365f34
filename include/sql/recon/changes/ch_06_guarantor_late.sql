-- rule: CH-06
-- severity: error
-- title: 保障人完成打卡缺失或超时
-- explain: 已完成的变更任务有保障人，但保障人完成时间缺失或晚于实际完成时间{ch06_guarantor_max_hours}小时以上。
-- clause: 第8部分 三 4.3 1) 5)
-- "more than 2 hours after" strict. Without 实际完成时间 only the missing case can be judged.
with params as (
    select cast(:ch06_guarantor_max_hours as numeric) as max_hours
),

checked as (
    select
        t.rfc_no,
        t.task_no,
        r.region,
        t.guarantor_id,
        t.completed_at,
        t.guarantor_completed_at,
        case
            when t.guarantor_completed_at is null then 'missing'
            when t.guarantor_completed_at > t.completed_at + make_interval(secs => p.max_hours * 3600) then 'late'
        end as kind
    from netcare_rfc_tasks as t
    left join netcare_rfcs as r on r.rfc_no = t.rfc_no
    cross join params as p
    where t.status = '完成'
        and nullif(btrim(t.guarantor_id), '') is not null
),

final as (
    select
        c.region,
        c.rfc_no,
        c.task_no,
        jsonb_build_object(
            'kind', c.kind,
            'guarantor_id', c.guarantor_id,
            'completed_at', c.completed_at,
            'guarantor_completed_at', c.guarantor_completed_at,
            'hours_after',
            round(cast(extract(epoch from c.guarantor_completed_at - c.completed_at) / 3600.0 as numeric), 2)
        ) as details
    from checked as c
    where c.kind is not null
)

select * from final
