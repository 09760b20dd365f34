-- sheet: 变更单规则
-- Open findings of the change-request rules (CH-01 … CH-08) of :business_date, readable for clerks.
-- Titles repeat the rule files' headers; 证据 is rendered from details per rule.
with titles (rule_code, title) as (
    values
    ('CH-01', 'RFC超期关闭'),
    ('CH-02', 'RFC即将超期关闭'),
    ('CH-03', '变更评审提前量不足'),
    ('CH-04', '变更方案已过有效期'),
    ('CH-05', '验证时间不足30分钟'),
    ('CH-06', '保障人完成打卡缺失或超时'),
    ('CH-07', '变更任务超出授权时间窗'),
    ('CH-08', '失败变更未按时提交回溯')
),

open_findings as (
    select
        f.*,
        t.title
    from recon.findings_as_of(cast(:business_date as date)) as f
    inner join titles as t on t.rule_code = f.rule_code
    where f.status = 'open'
),

rendered as (
    select
        f.*,
        case f.rule_code
            when 'CH-01'
                then '期限 ' || replace(f.details ->> 'deadline', 'T', ' ')
                    || case when (f.details ->> 'extension_applied') = 'true' then '（含延期34天）' else '' end
                    || '，已超 ' || (f.details ->> 'days_overdue') || ' 天；任务：' || coalesce(f.details ->> 'tasks', '')
            when 'CH-02'
                then '期限 ' || replace(f.details ->> 'deadline', 'T', ' ')
                    || case when (f.details ->> 'extension_applied') = 'true' then '（含延期34天）' else '' end
                    || '，剩余 ' || (f.details ->> 'days_left') || ' 天；任务：' || coalesce(f.details ->> 'tasks', '')
            when 'CH-03'
                then '风险 ' || coalesce(f.details ->> 'risk_score', '-') || ' 分/'
                    || coalesce(f.details ->> 'risk_level', '-')
                    || '（按 ' || (f.details ->> 'effective_level') || '）；提交 '
                    || replace(f.details ->> 'submitted_at', 'T', ' ') || '，计划开始 '
                    || replace(f.details ->> 'planned_start_at', 'T', ' ') || '，提前 ' || (f.details ->> 'lead_days')
                    || ' 天，要求至少 ' || (f.details ->> 'required_days') || ' 天'
            when 'CH-04'
                then '方案审核通过 ' || replace(f.details ->> 'plan_approved_at', 'T', ' ') || '，有效至 '
                    || (f.details ->> 'valid_through') || '，实际开始 ' || replace(f.details ->> 'started_at', 'T', ' ')
            when 'CH-05'
                then '验证 ' || replace(f.details ->> 'verified_at', 'T', ' ') || '，完成 '
                    || replace(f.details ->> 'completed_at', 'T', ' ')
                    || '，间隔 ' || (f.details ->> 'gap_minutes') || ' 分钟'
            when 'CH-06'
                then '保障人 ' || coalesce(f.details ->> 'guarantor_id', '') || case
                        when (f.details ->> 'kind') = 'missing' then ' 无完成时间'
                        else ' 完成 ' || replace(f.details ->> 'guarantor_completed_at', 'T', ' ') || '，晚于实际完成 '
                            || (f.details ->> 'hours_after') || ' 小时'
                    end
            when 'CH-07'
                then '授权 ' || replace(f.details ->> 'auth_start_at', 'T', ' ') || ' 至 '
                    || replace(f.details ->> 'auth_end_at', 'T', ' ') || '；实际开始 '
                    || coalesce(replace(f.details ->> 'started_at', 'T', ' '), '-') || '，实际完成 '
                    || coalesce(replace(f.details ->> 'completed_at', 'T', ' '), '-')
            when 'CH-08' then '失败日 ' || (f.details ->> 'failure_day') || '，回溯截止 ' || (f.details ->> 'deadline')
                || case
                    when (f.details ->> 'kind') = 'missing' then '，未提交回溯'
                    else '，回溯提交于 ' || replace(f.details ->> 'retro_submitted_at', 'T', ' ')
                end
        end as evidence
    from open_findings as f
),

final as (
    select
        r.rule_code as "规则",
        case r.severity when 'error' then '错误' when 'warning' then '警告' else '提示' end as "级别",
        r.region as "区域",
        r.rfc_no as "RFC单号",
        r.task_no as "任务单号",
        r.title as "问题",
        coalesce(r.evidence, r.details::text) as "证据",
        r.first_seen_as_of as "首次发现",
        case when r.is_new then '是' else '否' end as "是否新增"
    from rendered as r
)

select * from final
order by "规则", "区域", "RFC单号", "任务单号"
