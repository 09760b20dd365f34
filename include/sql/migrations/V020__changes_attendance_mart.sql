-- Report-ready snapshots of the changes and attendance families (issue 4), one set of rows per
-- business date, written by include/sql/recon/<family>/snapshots/ (column order = select order).

-- RFC watch list: every RFC in 客户审批 / 实施 with its overdue-closure deadline (CH-01 / CH-02).
create table if not exists mart.rfc_watch (
    business_date date not null,
    rfc_no text not null,
    title text,
    region text,
    customer_name text,
    status text not null,
    pm_approved_at timestamp,
    extension text,
    extension_applied boolean not null,
    deadline timestamp,
    days_left numeric,
    n_tasks integer not null,
    task_states text not null,
    state text not null,
    action text not null,
    primary key (business_date, rfc_no)
);

-- Resident attendance summary: per engineer, ticket and month (RA-01, RA-04, RA-05, RA-06).
create table if not exists mart.attendance_summary (
    business_date date not null,
    engineer_id text not null,
    engineer_name text,
    region text,
    ticket_no text not null,
    month text not null,
    scheduled_days integer not null,
    judged_slots integer not null,
    missing_count integer not null,
    late_count integer not null,
    early_count integer not null,
    anomalies integer not null,
    excused_days integer not null,
    pending_flow_days integer not null,
    engineer_month_anomalies integer not null,
    engineer_3m_anomalies integer not null,
    ra06_deadline date,
    ra04_exceeded boolean not null,
    ra05_exceeded boolean not null,
    primary key (business_date, engineer_id, ticket_no, month)
);

-- Latest business date's rows, for ad-hoc queries (the sheets read the run's own date).
create or replace view mart.rfc_watch_latest as
select w.*
from mart.rfc_watch as w
where w.business_date = (select max(business_date) from mart.rfc_watch);

create or replace view mart.attendance_summary_latest as
select a.*
from mart.attendance_summary as a
where a.business_date = (select max(business_date) from mart.attendance_summary);
