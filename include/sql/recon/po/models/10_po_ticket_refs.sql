-- Tickets referenced by PO lines: 关联工单号 split on ; or ；, each part NFKC-normalised and trimmed.
with parts as (
    select
        l.po_no,
        l.po_line_no,
        l.service_type,
        btrim(normalize(t.ref, nfkc)) as ticket_no
    from isc_po_lines as l
    cross join lateral regexp_split_to_table(l.ticket_refs, '[;；]') as t (ref)
    where l.ticket_refs is not null
),

final as (
    select distinct
        p.po_no,
        p.po_line_no,
        p.service_type,
        p.ticket_no
    from parts as p
    where p.ticket_no <> ''
)

select * from final
