-- rule: PO-01
-- severity: warning
-- title: 维保PO行未止于7月31日
-- explain: 维保年度为8月1日至次年7月31日，维保PO行（年度PO或年中新增）的服务结束日期应为7月31日。
-- clause: 第2部分 二 1–2
-- A 维保 line without 服务结束日期 does not end on 31 Jul either: it is a finding.
with final as (
    select
        l.region,
        l.po_no,
        l.po_line_no,
        jsonb_build_object('service_start', l.service_start, 'service_end', l.service_end) as details
    from isc_po_lines as l
    where l.service_type = '维保'
        and (
            l.service_end is null
            or extract(month from l.service_end) <> 7
            or extract(day from l.service_end) <> 31
        )
)

select * from final
