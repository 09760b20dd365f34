-- rule: PO-06
-- severity: warning
-- title: 月度验收驳回率超过{po06_max_reject_rate:%}
-- explain: 按区域和审批月份统计，已驳回验收单数÷（已通过+已驳回）超过{po06_max_reject_rate:%}；同一验收单先驳回后通过，驳回和通过分别计入各自审批月份。
-- clause: 第12部分 二 2.2 KPI 22
-- Decisions come from the history of the visible extracts, not only the current state
-- (recon.acceptance_decisions, include/sql/functions/, shared with the po_rejection KPI): an
-- (验收单号, 审批状态) pair with 审批状态 已通过 or 已驳回, dated by the 审批日期 of the newest extract row
-- showing it; its region is that of the PO line the row names (empty when ISC does not have the
-- line). A decision without 审批日期 has no month and is not counted. Subject: region, month.
-- details also carry the partner-wide month (partner_decided, partner_rejected, partner_rate):
-- the KPI's own figure, beside the region's.
with params as (
    select cast(:po06_max_reject_rate as numeric) as max_rate
),

decisions as (
    select d.*
    from recon.acceptance_decisions(cast(:as_of as timestamp)) as d
),

monthly as (
    select
        l.region,
        to_char(d.decided_on, 'YYYY-MM') as month,
        count(*) as decided,
        count(*) filter (where d.approval = '已驳回') as rejected,
        array_agg(d.acceptance_no order by d.acceptance_no) filter (where d.approval = '已驳回') as rejected_acceptances
    from decisions as d
    left join isc_po_lines as l on l.po_no = d.po_no and l.po_line_no = d.po_line_no
    where d.decided_on is not null
    group by l.region, to_char(d.decided_on, 'YYYY-MM')
),

partner as (
    -- the KPI itself is partner-wide: every region's decisions of the month, shown beside the region's
    select
        m.month,
        sum(m.decided) as decided,
        sum(m.rejected) as rejected
    from monthly as m
    group by m.month
),

final as (
    select
        m.region,
        m.month,
        jsonb_build_object(
            'decided', m.decided,
            'rejected', m.rejected,
            'rate', round(cast(m.rejected as numeric) / m.decided, 4),
            'rejected_acceptances', m.rejected_acceptances,
            'partner_decided', w.decided,
            'partner_rejected', w.rejected,
            'partner_rate', round(cast(w.rejected as numeric) / w.decided, 4)
        ) as details
    from monthly as m
    inner join partner as w on w.month = m.month
    cross join params as p
    where cast(m.rejected as numeric) > p.max_rate * m.decided
)

select * from final
