-- rule: PO-04
-- severity: warning
-- title: 维保验收备注缺少验收周期
-- explain: 维保验收单的备注必须写明本次验收周期，格式为“验收周期:YYYY-MM-DD至YYYY-MM-DD”（与验收周期开始、结束日期一致）。
-- clause: 第2部分 二 3
-- The colon may be ASCII or full-width; dates zero-padded, no spaces. Reading: an acceptance with
-- no period (start or end empty) cannot carry its period text, so it is a finding too.
with checked as (
    select
        a.acceptance_no,
        a.po_no,
        a.po_line_no,
        a.remark,
        l.region,
        '验收周期:' || to_char(a.period_start, 'YYYY-MM-DD') || '至' || to_char(a.period_end, 'YYYY-MM-DD')
            as expected
    from isc_acceptances as a
    inner join isc_po_lines as l on l.po_no = a.po_no and l.po_line_no = a.po_line_no
    where l.service_type = '维保'
        and a.approval <> '草稿'
),

final as (
    select
        k.region,
        k.acceptance_no,
        jsonb_build_object(
            'po_no', k.po_no, 'po_line_no', k.po_line_no, 'remark', k.remark, 'expected', k.expected
        ) as details
    from checked as k
    where k.expected is null
        or strpos(replace(coalesce(k.remark, ''), '：', ':'), k.expected) = 0
)

select * from final
