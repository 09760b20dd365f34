-- Run log per task: one row per (run, step) with its timing, status and row counts.
create table if not exists ops.run_steps (
    run_id bigint not null references ops.runs (run_id),
    step text not null,
    business_date date not null,
    as_of timestamp not null,
    started_at timestamptz,
    finished_at timestamptz not null,
    status text not null,
    rows_in bigint,
    rows_out bigint,
    details jsonb,
    primary key (run_id, step)
);

-- Pipeline health for the data team and the download page: the newest run per business date.
create or replace view ops.pipeline_health as
with latest as (
    select distinct on (business_date) business_date, run_id, status, started_at, finished_at
    from ops.runs
    order by business_date, run_id desc
)

select * from latest;
