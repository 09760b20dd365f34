-- Resident (驻场) weekly and monthly reports (issue 7, rulebook RA-08), written by
-- src/fieldrecon/reports.py after the rule families of a business date.
--
-- A report is identified by (report_kind, ticket_no, engineer_id, period_key): period_key is the
-- Monday of the calendar week or the 1st of the calendar month; the period shown (period_start ..
-- period_end) is that week / month clipped to the engineer's first and last attendance day on the
-- ticket.

-- Every content a report has had: one row per version. A version is a distinct content (content_hash
-- over the report's data and format version); generated_on is the business date of the earliest run
-- that produced it (never the wall clock), so reruns and backfills in any order agree on it.
create table if not exists mart.resident_report_versions (
    report_kind text not null check (report_kind in ('weekly', 'monthly')),
    ticket_no text not null,
    engineer_id text not null,
    period_key date not null,
    version integer not null,
    content_hash text not null,
    period_start date not null,
    period_end date not null,
    generated_on date not null,
    html_path text,
    pdf_path text,
    xlsx_path text,
    primary key (report_kind, ticket_no, engineer_id, period_key, version),
    unique (report_kind, ticket_no, engineer_id, period_key, content_hash)
);

-- The expected reports as a run of business_date sees them (one snapshot per business date), with
-- the due date (end of that day) and the status of that date:
--   not due    the due date is not over (and nothing was generated yet: the period is still running,
--              or its generation failed);
--   generated  a version exists, the first one generated on or before the due date;
--   late       a version exists, the first one generated after the due date;
--   missing    the due date is over and no version was generated on or before business_date.
create table if not exists mart.resident_reports (
    business_date date not null,
    report_kind text not null check (report_kind in ('weekly', 'monthly')),
    ticket_no text not null,
    engineer_id text not null,
    period_key date not null,
    engineer_name text,
    region text,
    customer_name text,
    site_address text,
    period_start date not null,
    period_end date not null,
    attendance_days integer not null,
    due_date date not null,
    period_over boolean not null,
    status text not null check (status in ('not due', 'generated', 'late', 'missing')),
    first_generated_on date,
    version integer,
    version_generated_on date,
    content_hash text,
    html_path text,
    pdf_path text,
    xlsx_path text,
    primary key (business_date, report_kind, ticket_no, engineer_id, period_key)
);

create index if not exists resident_reports_status on mart.resident_reports (business_date, status);

create or replace view mart.resident_reports_latest as
select r.*
from mart.resident_reports as r
where r.business_date = (select max(business_date) from mart.resident_reports);
