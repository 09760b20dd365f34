-- rule: PO-02
-- severity: warning
-- title: 验收周期未提交
-- explain: 维保/驻场PO行的某个月度验收周期已结束，周期结束后第5个工作日已过，仍没有任何有效的验收记录（已通过、审批中或已驳回）覆盖它。
-- clause: 第2部分 二 3
-- State 'due' comes from mart.cycle_schedule; the deadline is the end of the 5th working day after
-- the cycle's last day, "before as_of" = deadline + 1 day (its end) < as_of.
with final as (
    select
        c.region,
        c.po_no,
        c.po_line_no,
        c.cycle_start,
        jsonb_build_object(
            'cycle_end', c.cycle_end,
            'cycle_amount', c.cycle_amount,
            'deadline', c.submit_deadline,
            'remark', c.remark
        ) as details
    from mart.cycle_schedule as c
    where c.business_date = :business_date
        and c.state = 'due'
        and cast(c.submit_deadline + 1 as timestamp) < cast(:as_of as timestamp)
)

select * from final
