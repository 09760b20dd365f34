-- sheet: 收入
-- Per region (PO line's) and month (of the cycle's last day): amounts of the 维保/驻场 cycles that
-- ended, accepted, in approval, rejected and outstanding; and closed per-ticket work awaiting a PO
-- (open PO-08 findings, by month of 关单时间).
with final as (
    select
        r.region as "区域",
        r.month as "月份",
        r.ended_amount as "已结束周期金额",
        r.accepted_amount as "已验收金额",
        r.submitted_amount as "审批中金额",
        r.rejected_amount as "已驳回金额",
        r.outstanding_amount as "待验收金额",
        r.awaiting_po_tickets as "已关闭待下PO工单数"
    from mart.revenue(cast(:business_date as date)) as r
)

select * from final
order by "区域", "月份"
