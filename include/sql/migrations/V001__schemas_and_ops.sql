-- Layers as schemas: raw (as received) -> staging (typed, as of a business date)
-- -> recon (findings) -> mart (report-ready); ops holds the file registry and run log.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists recon;
create schema if not exists mart;
create schema if not exists ops;

-- File registry: one row per distinct file content (sha256) that reached the archive,
-- plus one row per landing file that was recognised as a repeat or not recognised at all.
create table if not exists ops.files (
    file_id bigserial primary key,
    file_name text not null,
    source text,
    extract_date date,
    delivery_no integer,
    sha256 text not null,
    size_bytes bigint not null,
    arrived_at timestamptz not null,
    archive_path text,
    status text not null check (status in ('pending', 'loaded', 'rejected', 'repeat', 'unrecognised')),
    repeat_of bigint references ops.files (file_id),
    reason text,
    header_row integer,
    extra_columns text[],
    ignored_sheets text[],
    rows_read integer,
    rows_loaded integer,
    rows_quarantined integer,
    rows_duplicate integer,
    loaded_at timestamptz,
    load_seconds numeric
);
create unique index if not exists files_one_content on ops.files (sha256) where status <> 'repeat' and status <> 'unrecognised';
create unique index if not exists files_one_repeat on ops.files (file_name, sha256) where status in ('repeat', 'unrecognised');
create index if not exists files_source_date on ops.files (source, extract_date);

-- Quarantined cells: one row per (row, column) problem; a row with two bad cells has two.
create table if not exists ops.quarantine (
    file_id bigint not null references ops.files (file_id),
    row_no integer not null,
    column_name text not null,
    header text not null,
    value text,
    reason_code text not null,
    reason text not null,
    primary key (file_id, row_no, column_name)
);

-- Run log: one row per (business date, attempt).
create table if not exists ops.runs (
    run_id bigserial primary key,
    business_date date not null,
    as_of timestamp not null,
    airflow_run_id text,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null default 'running',
    summary jsonb
);
create index if not exists runs_business_date on ops.runs (business_date);

-- Working-day calendar (State Council schedule incl. make-up weekends).
create table if not exists ops.calendar_days (
    day date primary key,
    is_working boolean not null,
    source text not null check (source in ('chinesecalendar', 'calendar_file'))
);
