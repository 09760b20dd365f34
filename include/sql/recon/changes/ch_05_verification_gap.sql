-- rule: CH-05
-- severity: error
-- title: 验证时间不足{ch05_min_verify_minutes}分钟
-- explain: 已完成的变更任务，实际完成时间距验证时间不足{ch05_min_verify_minutes}分钟。
-- clause: 第8部分 三 4.3 1)
-- Status 完成 with both times set; "under" strict (a negative gap is under too). Region: the RFC's
-- (empty when the RFC is unknown).
with params as (
    select cast(:ch05_min_verify_minutes as numeric) as min_minutes
),

checked as (
    select
        t.rfc_no,
        t.task_no,
        r.region,
        t.verified_at,
        t.completed_at,
        extract(epoch from t.completed_at - t.verified_at) / 60.0 as gap_minutes,
        p.min_minutes
    from netcare_rfc_tasks as t
    left join netcare_rfcs as r on r.rfc_no = t.rfc_no
    cross join params as p
    where t.status = '完成'
        and t.verified_at is not null
        and t.completed_at is not null
),

final as (
    select
        c.region,
        c.rfc_no,
        c.task_no,
        jsonb_build_object(
            'verified_at', c.verified_at,
            'completed_at', c.completed_at,
            'gap_minutes', round(cast(c.gap_minutes as numeric), 1)
        ) as details
    from checked as c
    where c.gap_minutes < c.min_minutes
)

select * from final
