-- sheet: 收入明细
-- Every amount behind 收入 (mart.money_items): one row per PO line, cycle and state, of every service
-- type; 状态 says what the clerk does next (可提交 / 阻塞 items are on 验收待办).
with final as (
    select
        coalesce(m.region, '总部') as "区域",
        m.po_no as "PO号",
        m.po_line_no as "行号",
        m.service_type as "服务类型",
        case m.item_kind when 'cycle' then '月度周期' when 'per_ticket' then '按单验收' else '按行验收' end as "类别",
        m.customer_name as "客户名称",
        m.cycle_start as "周期开始",
        m.cycle_end as "周期结束",
        m.amount as "金额",
        case m.state
            when 'accepted' then '已验收'
            when 'submitted' then '审批中'
            when 'ready' then case when m.rejected then '已驳回，可重新提交' else '可提交' end
            when 'blocked' then case when m.rejected then '已驳回，阻塞' else '阻塞' end
            when 'open_tickets' then '工单未全部关闭'
            when 'awaiting_completion' then '等待完工（以 eISDP 完工报告为准）'
        end as "状态",
        array_to_string(m.blocking_findings, '; ') as "阻塞问题"
    from mart.money_items(cast(:business_date as date)) as m
)

select * from final
order by "区域", "PO号", "行号", "周期开始" nulls first, "状态"
