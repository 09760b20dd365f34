-- sheet: 验收待办
-- Each 维保/驻场 cycle due or rejected (paste 备注 as is into ISC), and each per-ticket PO line whose
-- referenced tickets are all closed; 状态 is "ready" or "blocked: <open findings>".
with final as (
    select
        case t.item_kind when 'cycle' then '月度周期' else '按单验收' end as "类别",
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
        case t.cycle_state when 'due' then '待提交' when 'rejected' then '已驳回待重提' end as "周期状态",
        array_to_string(t.tickets, '; ') as "工单",
        array_to_string(t.site_issue_tickets, '; ') as "周期内关闭的现场问题处理工单（参考）",
        array_to_string(t.blocking_findings, '; ') as "阻塞问题",
        case when t.status = 'ready' then '可提交' else '阻塞：' || array_to_string(t.blocking_findings, '; ') end
            as "状态"
    from mart.acceptance_todo(cast(:business_date as date)) as t
)

select * from final
order by "区域", "PO号", "行号", "周期开始" nulls first
