-- rule: CH-03
-- severity: warning
-- title: 变更评审提前量不足
-- explain: 高风险变更（分值8–13）计划开始距提交不足{ch03_high_lead_days}天、致命风险变更（分值≥14）不足{ch03_fatal_lead_days}天。
-- clause: 第8部分 三 4.1 1)
-- Any RFC status. The score decides when present (under 8: no check whatever 风险等级 says), else
-- 风险等级 High / Fatal. 提交时间 stands in for the PSE review submission (Decision). Lead time =
-- 计划开始时间 − 提交时间, "under" strict; a negative lead time is under too. No planned start: no check.
with params as (
    select
        cast(:ch03_high_lead_days as numeric) as high_days,
        cast(:ch03_fatal_lead_days as numeric) as fatal_days
),

classified as (
    select
        r.*,
        case
            when r.risk_score is not null and r.risk_score >= 14 then 'Fatal'
            when r.risk_score is not null and r.risk_score >= 8 then 'High'
            when r.risk_score is not null then null
            when r.risk_level in ('High', 'Fatal') then r.risk_level
        end as effective_level
    from netcare_rfcs as r
),

checked as (
    select
        c.*,
        case when c.effective_level = 'Fatal' then p.fatal_days else p.high_days end as required_days,
        extract(epoch from c.planned_start_at - c.submitted_at) / 3600.0 as lead_hours
    from classified as c
    cross join params as p
    where c.effective_level is not null
        and c.planned_start_at is not null
        and c.submitted_at is not null
),

final as (
    select
        k.region,
        k.rfc_no,
        jsonb_build_object(
            'risk_score', k.risk_score,
            'risk_level', k.risk_level,
            'effective_level', k.effective_level,
            'submitted_at', k.submitted_at,
            'planned_start_at', k.planned_start_at,
            'lead_days', round(cast(k.lead_hours / 24.0 as numeric), 2),
            'required_days', k.required_days
        ) as details
    from checked as k
    where k.lead_hours < k.required_days * 24
)

select * from final
