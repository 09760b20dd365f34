-- rule: PO-08
-- severity: info
-- title: 已关闭工单待下PO
-- explain: 巡检、整改、单次现场服务、事件值守、高级软件现场支持工单关闭超过{po08_awaiting_days}天，仍没有任何ISC PO行引用它（关联工单号或工单PO号）。
-- clause: 第3–5、7部分（关单后下PO）
-- Not POC (settled quarterly / half-yearly before a PO is asked for). "More than 30×24 h before
-- as_of" is strict. A ticket is on a PO when a line's 关联工单号 lists it (any line, any status) or
-- its own PO号 is the PO号 of any ISC line.
with params as (
    select cast(:as_of as timestamp) - cast(:po08_awaiting_days as integer) * interval '1 day' as cutoff
),

final as (
    select
        w.region,
        w.ticket_no,
        jsonb_build_object(
            'ticket_type', w.ticket_type, 'closed_at', w.closed_at, 'ticket_po_no', w.po_no
        ) as details
    from netcare_workorders as w
    cross join params as p
    where w.ticket_type in ('巡检', '整改', '单次现场服务', '事件值守', '高级软件现场支持')
        and w.status = '已关闭'
        and w.closed_at < p.cutoff
        and not exists (
            select 1 from po_ticket_refs as r
            where r.ticket_no = btrim(normalize(w.ticket_no, nfkc))  -- noqa: RF03
        )
        and not exists (
            select 1 from isc_po_lines as l
            where l.po_no = w.po_no
        )
)

select * from final
