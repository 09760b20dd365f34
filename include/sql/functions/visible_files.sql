-- ops.visible_files: the extract files of a source that a run with this as_of sees (rulebook,
-- "Business date and as_of" and "Newest extract wins"): loaded, its extract date over by as_of
-- (extract_date + 1 <= as_of), and of each extract date only the latest delivery. The one place the
-- rule is written: the staging functions, recon.acceptance_decisions, the reports, the packs'
-- quarantined cells, the quality summary and rules.sources_changed read their files through it.
-- Plain SQL, so PostgreSQL inlines it into each caller's plan.
create or replace function ops.visible_files(p_source text, p_as_of timestamp)
returns table (file_id bigint, extract_date date)
language sql stable
as $$
select distinct on (f.extract_date)
    f.file_id,
    f.extract_date
from ops.files as f
where
    f.source = p_source
    and f.status = 'loaded'
    and f.extract_date + 1 <= p_as_of
order by f.extract_date asc, f.delivery_no desc, f.file_id desc
$$;
