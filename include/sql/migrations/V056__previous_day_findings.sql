-- Order-independent history (issue 14): a run of business date D evaluates every rule twice on
-- the same data, as of D and as of D-1, and keeps the D-1 result here (business_date = D, the
-- run's own date). `new` = present as of D, absent as of D-1; `resolved` = the reverse. Nothing
-- depends on which other dates have run, or in what order.
create table if not exists recon.previous_day_findings (
    like recon.finding_snapshots including defaults including constraints
);
alter table recon.previous_day_findings add primary key (business_date, finding_id);

-- first_seen_as_of / last_seen_as_of (from whichever snapshots happened to exist) are gone from
-- findings_as_of; functions/findings_as_of.sql re-creates it with the new columns.
drop function if exists recon.findings_as_of(date);
