-- sheet: 收入
-- Money of :business_date (mart.money_totals over mart.money_items): per region and service type,
-- each region's total (服务类型 合计) and the partner-wide total (区域 全部) — every ended 维保/驻场
-- cycle and every other line of every service type (per-ticket lines, 交付, …), by state: accepted,
-- in approval, ready to submit, blocked, (of those) rejected before, tickets not yet all closed,
-- 交付 lines awaiting completion; and the closed per-ticket work still awaiting a PO (PO-08).
with final as (
    select
        m.region as "区域",
        m.service_type as "服务类型",
        m.accepted_amount as "已验收金额",
        m.submitted_amount as "审批中金额",
        m.ready_amount as "可提交金额",
        m.blocked_amount as "阻塞金额",
        m.rejected_amount as "其中已驳回待重提",
        m.open_tickets_amount as "工单未全部关闭金额",
        m.awaiting_completion_amount as "交付等待完工金额",
        m.outstanding_amount as "未验收合计",
        m.awaiting_po_tickets as "已关闭待下PO工单数"
    from mart.money_totals(cast(:business_date as date)) as m
)

select * from final
