-- Findings of every rule family, one snapshot per business date (a rerun replaces its own).
-- History (first seen, new, resolved) is derived from snapshots of dates up to a run's own,
-- so runs in any order give the same answers once the same dates have run.
create table if not exists recon.finding_snapshots (
    business_date date not null,
    as_of timestamp not null,
    finding_id text not null,
    rule_code text not null,
    severity text not null check (severity in ('error', 'warning', 'info')),
    region text,
    ticket_no text,
    engineer_id text,
    day date,
    rfc_no text,
    task_no text,
    po_no text,
    po_line_no integer,
    cycle_start date,
    acceptance_no text,
    month text,
    details jsonb not null default '{}'::jsonb,
    primary key (business_date, finding_id)
);
create index if not exists finding_snapshots_id on recon.finding_snapshots (finding_id, business_date);

-- Which rules ran for which date, with their parameters: a date whose rules ran with other
-- parameters is visible, and a family that has not run is told apart from one with no findings.
create table if not exists recon.rule_runs (
    business_date date not null,
    rule_code text not null,
    family text not null,
    findings integer not null,
    seconds numeric not null,
    params jsonb not null,
    primary key (business_date, rule_code)
);
