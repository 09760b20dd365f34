-- Quarantined input cells of every PO and ticket, one query for all of a night's packs: each cell of
-- a visible file (ops.visible_files: a later delivery of a date replaces the earlier) with the keys
-- a pack matches it by (match_po: its PO号; match_ticket: its 工单号), where it was seen (file,
-- extract date, row) and the newest visible extract date of its source.
-- The builder (outputs/packs.py, Prefetch.excluded) keeps per pack the problems still in the newest
-- extract, each with the first file that had it.
-- Parameters: business_date.
with visible as (
    select
        f.file_id,
        f.file_name,
        f.source,
        f.extract_date
    from (select distinct s.source from ops.files as s) as sources
    cross join
        lateral ops.visible_files(sources.source, cast(cast(:business_date as date) + 1 as timestamp)) as v
    inner join ops.files as f on v.file_id = f.file_id
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
        r.po_no || '-' || coalesce(r.po_line_no, '?') as row_key,
        btrim(r.po_no) as match_po,
        cast(null as text) as match_ticket
    from raw.isc_po_lines as r
    where r.disposition = 'quarantined'
    union all
    select
        'isc_acceptances' as source,
        r.file_id,
        r.row_no,
        coalesce(r.acceptance_no, '?') as row_key,
        btrim(r.po_no) as match_po,
        cast(null as text) as match_ticket
    from raw.isc_acceptances as r
    where r.disposition = 'quarantined'
    union all
    select
        'netcare_workorders' as source,
        r.file_id,
        r.row_no,
        coalesce(r.ticket_no, '?') as row_key,
        btrim(r.po_no) as match_po,
        btrim(r.ticket_no) as match_ticket
    from raw.netcare_workorders as r
    where r.disposition = 'quarantined'
    union all
    select
        'netcare_punches' as source,
        r.file_id,
        r.row_no,
        coalesce(r.ticket_no, '?') || ' ' || coalesce(r.punch_id, '') as row_key,
        cast(null as text) as match_po,
        btrim(r.ticket_no) as match_ticket
    from raw.netcare_punches as r
    where r.disposition = 'quarantined'
    union all
    select
        'netcare_resident_attendance' as source,
        r.file_id,
        r.row_no,
        coalesce(r.ticket_no, '?') || ' ' || coalesce(r.work_date, '') as row_key,
        cast(null as text) as match_po,
        btrim(r.ticket_no) as match_ticket
    from raw.netcare_resident_attendance as r
    where r.disposition = 'quarantined'
    union all
    select
        'netcare_attachments' as source,
        r.file_id,
        r.row_no,
        coalesce(r.ticket_no, '?') || ' ' || coalesce(r.kind, '') as row_key,
        cast(null as text) as match_po,
        btrim(r.ticket_no) as match_ticket
    from raw.netcare_attachments as r
    where r.disposition = 'quarantined'
    union all
    select
        'timesheet_entries' as source,
        r.file_id,
        r.row_no,
        coalesce(r.entry_id, '?') as row_key,
        btrim(r.po_no) as match_po,
        btrim(r.ticket_no) as match_ticket
    from raw.timesheet_entries as r
    where r.disposition = 'quarantined'
),

final as (
    select
        b.source,
        b.row_key,
        b.match_po,
        b.match_ticket,
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
)

select * from final
order by source, row_key, header, reason, value, extract_date, file_name, row_no
