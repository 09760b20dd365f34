-- sheet: 收入明细
-- Every amount behind 收入 (mart.money_items): one row per PO line, cycle and state, of every service
-- type; 状态 says what the clerk does next (可提交 / 阻塞 items are on 验收待办; the words from ref.labels).
with final as (
    select
        coalesce(m.region, '总部') as "区域",
        m.po_no as "PO号",
        m.po_line_no as "行号",
        m.service_type as "服务类型",
        k.label_zh as "类别",
        m.customer_name as "客户名称",
        m.cycle_start as "周期开始",
        m.cycle_end as "周期结束",
        m.amount as "金额",
        s.label_zh as "状态",
        array_to_string(m.blocking_findings, '; ') as "阻塞问题"
    from mart.money_items(cast(:business_date as date)) as m
    left join ref.labels as k on k.kind = 'item_kind' and k.code = m.item_kind
    left join ref.labels as s
        on s.kind = 'money_state' and s.code = m.state || case
            when m.rejected and m.state in ('ready', 'blocked') then '_rejected' else ''
        end
)

select * from final
order by "区域", "PO号", "行号", "周期开始" nulls first, "状态"
