-- Acceptance decisions seen in the extracts visible at p_as_of (rulebook PO-06; part 12 KPI 22):
-- the files visible at as_of (ops.visible_files, as in staging.isc_acceptances); in each file only
-- the effective row of an acceptance counts (of two rows of one key in a file the later wins). A
-- decision is an (验收单号, 审批状态) pair with 审批状态 已通过 or 已驳回, dated by the 审批日期 of the
-- newest extract row showing it, with the PO line that row names. Shared by PO-06 and the
-- po_rejection KPI (kpi_monthly).
create or replace function recon.acceptance_decisions(p_as_of timestamp)
returns table (acceptance_no text, approval text, decided_on date, po_no text, po_line_no integer)
language sql stable
as $$
with file_rows as (
    select distinct on (r.file_id, r.acceptance_no) r.*
    from staging.isc_acceptances_rows as r
    inner join ops.visible_files('isc_acceptances', p_as_of) as v on v.file_id = r.file_id
    order by r.file_id, r.acceptance_no, r.row_no desc
),

final as (
    select distinct on (r.acceptance_no, r.approval)
        r.acceptance_no,
        r.approval,
        r.decided_on,
        r.po_no,
        r.po_line_no
    from file_rows as r
    where r.approval in ('已通过', '已驳回')
    order by r.acceptance_no, r.approval, r.extract_date desc, r.row_no desc
)

select * from final
$$;
