-- The sha256 of a report version's PDF, taken from the bytes when they are written: documents.csv
-- lists it without reading every PDF of the store again each night (a company's year is ~11,000
-- PDFs). Versions rendered before this column keep null and are hashed from their file.
alter table mart.resident_report_versions add column if not exists pdf_sha256 text;
alter table mart.resident_reports add column if not exists pdf_sha256 text;
