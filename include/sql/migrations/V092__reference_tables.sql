-- Facts the Python holds once and the SQL joins, rewritten from their one definition every run:
-- ref.labels (fieldrecon.labels: the Chinese words of codes, for the sheets),
-- ref.required_attachments (contract.REQUIRED_ATTACHMENTS: what AT-01 checks, what the packs list),
-- recon.rule_catalogue (the rule files' headers, with each threshold read from the run's parameters)
-- per business date, so runs of different dates with different parameters never see each other's.
create schema if not exists ref;

create table if not exists ref.labels (
    kind text not null,
    code text not null,
    label_zh text not null,
    primary key (kind, code)
);

create table if not exists ref.required_attachments (
    ticket_type text not null,
    kind text not null,
    list_order integer not null,
    primary key (ticket_type, kind)
);

create table if not exists recon.rule_catalogue (
    business_date date not null,
    rule_code text not null,
    rule_family text not null,
    severity text not null,
    title text not null,
    explanation text not null,
    clause text not null,
    primary key (business_date, rule_code)
);
