-- Service timeliness (issue 16): the monthly KPI statistics of each business date, written by
-- include/sql/recon/timeliness/snapshots/10_kpi_monthly.sql and exported as kpi_monthly.csv.
-- region is 全部 for the whole partner, '' for acceptances whose PO line ISC does not have.
create table if not exists mart.kpi_monthly (
    business_date date not null,
    region text not null,
    month text not null,
    kpi text not null check (kpi in ('dispatch', 'arrival', 'closure', 'po_rejection')),
    checked integer not null check (checked > 0),
    on_time integer not null,
    rate numeric not null,
    target numeric,
    met boolean,
    primary key (business_date, region, month, kpi)
);
