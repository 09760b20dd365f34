-- sheet: 变更单规则
-- Open findings of the change-request rules (CH-01 … CH-08) of :business_date for clerks: title
-- (recon.rule_catalogue), level (ref.labels), sentence and action from finding_texts (outputs/sentences.py).
-- A finding without a region reads 总部.
with open_findings as (
    select
        f.*,
        c.title,
        s.label_zh as severity_zh,
        t.region_label,
        t.sentence,
        t.what,
        t.system,
        t.who,
        t.by_when,
        t.first_seen
    from recon.findings_as_of(cast(:business_date as date)) as f
    inner join finding_texts as t on t.finding_id = f.finding_id
    inner join recon.rule_catalogue as c
        on c.rule_code = f.rule_code and c.business_date = cast(:business_date as date)
    left join ref.labels as s on s.kind = 'severity' and s.code = f.severity
    where f.status = 'open'
        and t.family = 'changes'
),

final as (
    select
        f.rule_code as "规则",
        f.title as "问题",
        f.severity_zh as "级别",
        f.region_label as "区域",
        f.rfc_no as "RFC单号",
        f.task_no as "任务单号",
        f.sentence as "问题说明",
        f.what as "处理办法",
        f.system as "处理系统",
        f.who as "责任人",
        f.by_when as "处理期限",
        k.reason as "已说明",
        f.first_seen as "首次发现",
        case when f.is_new then '是' else '否' end as "是否新增"
    from open_findings as f
    left join recon.triage_marks as k on k.finding_id = f.finding_id
)

select * from final
order by "规则", "区域", "RFC单号", "任务单号"
