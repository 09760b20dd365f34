-- sheet: 打卡核对
-- The check-in family's open findings (PD, POC-01, DQ) of :business_date for clerks: the rule's
-- title (recon.rule_catalogue), its level (ref.labels), one sentence from the evidence and what to
-- do, in which system, by whom and by when — from finding_texts (outputs/sentences.py, written by
-- the exports before the sheets run).
-- A finding without a region reads 总部. No phone numbers.
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
        and t.family = 'checkin'
),

final as (
    select
        f.rule_code as "规则",
        f.title as "问题",
        f.severity_zh as "级别",
        f.region_label as "区域",
        f.ticket_no as "工单号",
        f.engineer_id as "工程师工号",
        e.engineer_name as "工程师姓名",
        f.day as "日期",
        f.sentence as "问题说明",
        f.what as "处理办法",
        f.system as "处理系统",
        f.who as "责任人",
        f.by_when as "处理期限",
        k.reason as "已说明",
        f.first_seen as "首次发现",
        case when f.is_new then '是' else '否' end as "是否新增"
    from open_findings as f
    left join timesheet_engineers as e on e.engineer_id = f.engineer_id
    left join recon.triage_marks as k on k.finding_id = f.finding_id
)

select * from final
order by "规则", "区域", "工单号", "工程师工号", "日期"
