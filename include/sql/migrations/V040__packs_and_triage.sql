-- Acceptance packages (issue 6): the version index of the pack store, which version each run of a
-- business date produced, and the clerks' triage marks on findings.
--
-- A pack's identity (pack_key) is its to-do item: `<po_no>-<po_line_no>` for a per-ticket line,
-- `<po_no>-<po_line_no>_<YYYYMMDD>-<YYYYMMDD>` for a cycle. Its content hash (content_sha256) is
-- the sha256 of everything the pack shows except the preparation date; the same content is always
-- the same version (and the same bytes), a different content a new version.
create schema if not exists packs;

create table if not exists packs.versions (
    pack_key text not null,
    version_no integer not null,
    content_sha256 text not null,
    zip_sha256 text not null,
    zip_path text not null,              -- relative to the pack store
    file_name text not null,
    item_kind text not null check (item_kind in ('cycle', 'per_ticket')),
    region text,
    po_no text not null,
    po_line_no integer not null,
    service_type text,
    customer_name text,
    cycle_start date,
    cycle_end date,
    amount numeric,
    status text not null check (status in ('ready', 'blocked')),
    reasons text[] not null default '{}',
    first_business_date date not null,    -- the preparation date printed on the 验收单
    source_files jsonb not null default '[]'::jsonb,  -- extract files of the first run: [{name, sha256}]
    changes jsonb not null default '[]'::jsonb,       -- what changed against the previous version, in Chinese
    content_rows jsonb not null default '[]'::jsonb,  -- the rows it covers: [{source, key, sha256}]
    summary jsonb not null default '{}'::jsonb,       -- values compared for "what changed" (amount, tickets, …)
    primary key (pack_key, version_no),
    unique (pack_key, content_sha256)
);
create index if not exists versions_region on packs.versions (region, po_no);

-- Which version of each pack a run of a business date produced (a rerun replaces its own rows).
create table if not exists packs.pack_runs (
    business_date date not null,
    pack_key text not null,
    version_no integer not null,
    primary key (business_date, pack_key),
    foreign key (pack_key, version_no) references packs.versions (pack_key, version_no)
);

-- Triage: a clerk marks a finding as explained. Kept by finding_id across runs; an explained
-- finding no longer blocks a pack (the pack lists it with its explanation).
create table if not exists recon.triage_marks (
    finding_id text primary key,
    reason text not null check (btrim(reason) <> ''),
    filing_ref text,                      -- 备案 reference, optional
    marked_by text not null,
    marked_at timestamptz not null
);

-- Every mark and unmark, for audit.
create table if not exists recon.triage_log (
    log_id bigserial primary key,
    finding_id text not null,
    action text not null check (action in ('mark', 'unmark')),
    reason text,
    filing_ref text,
    actor text not null,
    at timestamptz not null
);
create index if not exists triage_log_finding on recon.triage_log (finding_id, log_id);
