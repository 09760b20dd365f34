-- Quarantined input rows that still concern a PO (its PO号, or one of the given tickets): rows of
-- the newest visible extract date of their source, so a problem fixed in a later delivery drops
-- out. One row per (source, key, column, reason, value), with the first file that had it, so
-- the same problem delivered again the next night does not change the pack.
-- Parameters: business_date, po_no, tickets (text[]).
with visible as (
    select
        f.file_id,
        f.file_name,
        f.source,
        f.extract_date
    from ops.files as f
    where f.status = 'loaded'
        and f.extract_date <= cast(:business_date as date)
),

newest as (
    select
        v.source,
        max(v.extract_date) as extract_date
    from visible as v
    group by v.source
),

bad as (
    select
        'isc_po_lines' as source,
        r.file_id,
        r.row_no,
        r.po_no || '-' || coalesce(r.po_line_no, '?') as row_key
    from raw.isc_po_lines as r
    where r.disposition = 'quarantined' and btrim(r.po_no) = :po_no
    union all
    select
        'isc_acceptances' as source,
        r.file_id,
        r.row_no,
        coalesce(r.acceptance_no, '?') as row_key
    from raw.isc_acceptances as r
    where r.disposition = 'quarantined' and btrim(r.po_no) = :po_no
    union all
    select
        'netcare_workorders' as source,
        r.file_id,
        r.row_no,
        coalesce(r.ticket_no, '?') as row_key
    from raw.netcare_workorders as r
    where r.disposition = 'quarantined'
        and (btrim(r.po_no) = :po_no or btrim(r.ticket_no) = any(cast(:tickets as text[])))
    union all
    select
        'netcare_punches' as source,
        r.file_id,
        r.row_no,
        coalesce(r.ticket_no, '?') || ' ' || coalesce(r.punch_id, '') as row_key
    from raw.netcare_punches as r
    where r.disposition = 'quarantined' and btrim(r.ticket_no) = any(cast(:tickets as text[]))
    union all
    select
        'netcare_resident_attendance' as source,
        r.file_id,
        r.row_no,
        coalesce(r.ticket_no, '?') || ' ' || coalesce(r.work_date, '') as row_key
    from raw.netcare_resident_attendance as r
    where r.disposition = 'quarantined' and btrim(r.ticket_no) = any(cast(:tickets as text[]))
    union all
    select
        'netcare_attachments' as source,
        r.file_id,
        r.row_no,
        coalesce(r.ticket_no, '?') || ' ' || coalesce(r.kind, '') as row_key
    from raw.netcare_attachments as r
    where r.disposition = 'quarantined' and btrim(r.ticket_no) = any(cast(:tickets as text[]))
    union all
    select
        'timesheet_entries' as source,
        r.file_id,
        r.row_no,
        coalesce(r.entry_id, '?') as row_key
    from raw.timesheet_entries as r
    where r.disposition = 'quarantined'
        and (btrim(r.po_no) = :po_no or btrim(r.ticket_no) = any(cast(:tickets as text[])))
),

cells as (
    select
        b.source,
        b.row_key,
        q.header,
        q.value,
        q.reason,
        v.file_name,
        v.extract_date,
        b.row_no,
        n.extract_date as newest_date
    from bad as b
    inner join visible as v on v.file_id = b.file_id
    inner join newest as n on n.source = v.source
    inner join ops.quarantine as q on q.file_id = b.file_id and q.row_no = b.row_no
),

current_problems as (
    select distinct
        c.source,
        c.row_key,
        c.header,
        c.value,
        c.reason
    from cells as c
    where c.extract_date = c.newest_date
),

final as (
    select distinct on (p.source, p.row_key, p.header, p.reason, p.value)
        p.source,
        p.row_key,
        p.header,
        p.value,
        p.reason,
        c.file_name as first_file,
        c.row_no as first_row_no
    from current_problems as p
    inner join cells as c
        on c.source = p.source and c.row_key = p.row_key and c.header = p.header
        and c.reason = p.reason and c.value is not distinct from p.value
    order by p.source, p.row_key, p.header, p.reason, p.value, c.extract_date, c.file_name, c.row_no
)

select * from final
order by source, row_key, header, reason, value
