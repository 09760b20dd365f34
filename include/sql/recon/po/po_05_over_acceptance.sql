-- rule: PO-05
-- severity: error
-- title: 超额验收
-- explain: 同一PO行已通过与审批中的验收金额合计超过行金额（容差{po05_tolerance}元）。
-- clause: 派生规则
-- Lines of any service type; acceptances of a line ISC does not have cannot be compared.
with params as (
    select cast(:po05_tolerance as numeric) as tolerance
),

sums as (
    select
        a.po_no,
        a.po_line_no,
        coalesce(sum(a.amount) filter (where a.approval = '已通过'), 0) as accepted,
        coalesce(sum(a.amount) filter (where a.approval = '审批中'), 0) as submitted,
        array_agg(a.acceptance_no order by a.acceptance_no) as acceptances
    from isc_acceptances as a
    where a.approval in ('已通过', '审批中')
    group by a.po_no, a.po_line_no
),

final as (
    select
        l.region,
        l.po_no,
        l.po_line_no,
        jsonb_build_object(
            'line_amount', l.line_amount,
            'accepted', s.accepted,
            'submitted', s.submitted,
            'excess', s.accepted + s.submitted - l.line_amount,
            'acceptances', s.acceptances
        ) as details
    from sums as s
    inner join isc_po_lines as l on l.po_no = s.po_no and l.po_line_no = s.po_line_no
    cross join params as p
    where s.accepted + s.submitted - l.line_amount > p.tolerance
)

select * from final
