-- Resident report statuses as a function of the extracts visible for the business date and the
-- configuration only (issue 14 item 5, issue 18): never of which dates ran before.
--
-- available_on: the first business date on which the report could be generated -- its calendar
-- period over and an attendance row of the period visible (the earliest visible extract date that
-- holds one), replacing first_generated_on (the earliest run that happened to produce it).
-- version_label: the version as printed and in the store path, from the content hash (content-
-- addressed), replacing the registry's running number in every output.
-- backfilled (补生成): due before the system's go-live (FIELDRECON_GO_LIVE), so rendered afterwards
-- by the pipeline's install, never late.
alter table mart.resident_reports rename column first_generated_on to available_on;
alter table mart.resident_reports add column version_label text;
alter table mart.resident_reports add column go_live date;
alter table mart.resident_reports drop constraint resident_reports_status_check;
alter table mart.resident_reports add constraint resident_reports_status_check
check (status in ('not due', 'generated', 'backfilled', 'late', 'missing'));

drop view if exists mart.resident_reports_latest;
create view mart.resident_reports_latest as
select r.*
from mart.resident_reports as r
where r.business_date = (select max(business_date) from mart.resident_reports);
