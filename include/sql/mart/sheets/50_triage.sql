-- sheet: 已说明问题
-- Findings of this date that a clerk marked as explained on the download page (recon.triage_marks):
-- they stay in the findings list, but no longer block an acceptance package.
with open_findings as (
    select f.*
    from recon.findings_as_of(cast(:business_date as date)) as f
    where f.status = 'open'
),

final as (
    select
        f.rule_code as 规则,
        f.region as 区域,
        coalesce(f.ticket_no, f.rfc_no, f.acceptance_no, f.po_no, f.engineer_id, f.month) as 对象,
        f.day as 日期,
        k.reason as 说明,
        k.filing_ref as 备案号,
        k.marked_by as 标记人,
        to_char(k.marked_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') as 标记时间,
        f.finding_id as 问题编号
    from open_findings as f
    inner join recon.triage_marks as k on k.finding_id = f.finding_id
    order by f.rule_code, f.finding_id
)

select * from final
