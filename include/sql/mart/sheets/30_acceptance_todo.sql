-- sheet: 验收待办
-- Each 维保/驻场 cycle due or rejected (paste 备注 as is into ISC), and each per-ticket PO line whose
-- referenced tickets are all closed; 状态 is "ready" or "blocked: <open findings>" (words from ref.labels).
-- acceptance_todo: mart.acceptance_todo of :business_date, evaluated once (outputs.exports.sheet_session).
with final as (
    select
        k.label_zh as "类别",
        t.region as "区域",
        t.po_no as "PO号",
        t.po_line_no as "行号",
        t.service_type as "服务类型",
        t.customer_name as "客户名称",
        t.contract_no as "合同号",
        t.cycle_start as "周期开始",
        t.cycle_end as "周期结束",
        t.amount as "验收金额",
        t.remark as "备注（粘贴到ISC）",
        c.label_zh as "周期状态",
        array_to_string(t.tickets, '; ') as "工单",
        array_to_string(t.site_issue_tickets, '; ') as "周期内关闭的现场问题处理工单（参考）",
        array_to_string(t.blocking_findings, '; ') as "阻塞问题",
        case
            when t.status = 'ready' then s.label_zh
            else s.label_zh || '：' || array_to_string(t.blocking_findings, '; ')
        end as "状态"
    from acceptance_todo as t
    left join ref.labels as k on k.kind = 'item_kind' and k.code = t.item_kind
    left join ref.labels as c on c.kind = 'cycle_state' and c.code = t.cycle_state
    left join ref.labels as s
        on s.kind = 'pack_status' and s.code = case when t.status = 'ready' then 'ready' else 'blocked' end
)

select * from final
order by "区域", "PO号", "行号", "周期开始" nulls first
