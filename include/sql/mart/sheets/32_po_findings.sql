-- sheet: PO与附件规则
-- Open findings of the PO and attachment rules (PO-*, AT-*) of the business date.
with final as (
    select
        f.rule_code as "规则",
        case f.severity when 'error' then '错误' when 'warning' then '警告' else '提示' end as "级别",
        f.region as "区域",
        coalesce(f.po_no, f.details ->> 'po_no') as "PO号",
        coalesce(f.po_line_no, cast(f.details ->> 'po_line_no' as integer)) as "行号",
        f.cycle_start as "周期开始",
        f.acceptance_no as "验收单号",
        f.ticket_no as "工单号",
        f.month as "月份",
        case when f.is_new then '是' else '否' end as "新增",
        f.first_seen_as_of as "首次发现",
        cast(f.details as text) as "详情"
    from recon.findings_as_of(cast(:business_date as date)) as f
    where f.status = 'open'
        and (f.rule_code like 'PO-%' or f.rule_code like 'AT-%')
)

-- findings on an acceptance (PO-03, PO-04) show the PO line of the acceptance but sort by the acceptance
select * from final
order by
    "规则", "区域", case when "验收单号" is null then "PO号" end, case when "验收单号" is null then "行号" end,
    "周期开始", "验收单号", "工单号", "月份"
