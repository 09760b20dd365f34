-- Working tables of the quality step (ingest.gx_checks): each source's typed as-of state, materialised
-- once per run for Great Expectations' metric queries (unlogged, named per business date, dropped after
-- the checkpoint). GX queries through connections of its own, so temporary tables will not do.
create schema if not exists gx_work;
