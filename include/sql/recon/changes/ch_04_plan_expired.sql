-- rule: CH-04
-- severity: error
-- title: 变更方案已过有效期
-- explain: 任务实际开始日期晚于方案审核通过当天后{ch04_plan_valid_days}个自然日（如10月1日通过，有效至10月31日）。
-- clause: 第8部分 三 4.1 4) "方案有效期 30 自然日"
-- Calendar days on dates: start day > approval day + 30. Tasks whose RFC is unknown, or without
-- 方案审核通过时间 / 实际开始时间, are not checked. Region: the RFC's.
with params as (
    select cast(:ch04_plan_valid_days as integer) as valid_days
),

checked as (
    select
        t.rfc_no,
        t.task_no,
        r.region,
        r.plan_approved_at,
        t.started_at,
        cast(t.started_at as date) - cast(r.plan_approved_at as date) as days_after_approval,
        p.valid_days
    from netcare_rfc_tasks as t
    inner join netcare_rfcs as r on r.rfc_no = t.rfc_no
    cross join params as p
    where t.started_at is not null
        and r.plan_approved_at is not null
),

final as (
    select
        c.region,
        c.rfc_no,
        c.task_no,
        jsonb_build_object(
            'plan_approved_at', c.plan_approved_at,
            'started_at', c.started_at,
            'valid_through', cast(c.plan_approved_at as date) + c.valid_days,
            'days_after_approval', c.days_after_approval
        ) as details
    from checked as c
    where c.days_after_approval > c.valid_days
)

select * from final
