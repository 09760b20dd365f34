"""Benchmark of the check-in rule family (issue 3, item 6).

Generates about one year for 1,500 engineers (≈2,000,000 punches, 400,000 tickets, 400,000
timesheet entries) straight into the staging rows tables of a fresh database — in SQL with
generate_series, since this measures the rules, not the loader — runs the check-in family, and
prints each rule's time (recon.rule_runs), the total, the peak RSS of this Python process and the
ratio of the total to one full read of the punches (COPY … TO STDOUT into a null sink), measured in
the same run. Targets: total ≤ 60 s, ratio ≤ 20, Python peak ≤ 1 GiB.

    .venv/bin/python bench/bench_checkin_rules.py                      # the full size
    .venv/bin/python bench/bench_checkin_rules.py --engineers 100 --months 1   # a quick run
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time
import uuid

import sqlalchemy as sa

from fieldrecon.recon import rules
from fieldrecon.warehouse import connection, migrate, workdays

BUSINESS_DATE = dt.date(2026, 10, 31)
TICKETS_PER_ENGINEER_YEAR = 267  # 1,500 × 267 ≈ 400,000 tickets a year

FILE_SQL = """
insert into ops.files (file_name, source, extract_date, delivery_no, sha256, size_bytes, arrived_at, status,
                       rows_read, rows_loaded, rows_quarantined, rows_duplicate)
values (:n, :s, :d, 1, md5(:n || clock_timestamp()::text), 0, now(), 'loaded', 0, 0, 0, 0)
returning file_id
"""

# :t tickets per engineer over :days days ending :bd; engineer e's j-th ticket falls on day
# (j × days) / t, in one of three slots (08:00, 12:00, 16:00) so two tickets of a day are apart.
# A few violations of each kind are sprinkled in (deterministic: hash-based, not random()).
TICKETS_CTE = """
with t as (
    select
        n,
        n / :t as e,
        n % :t as j,
        cast(:bd as date) - :days + 1 + (n % :t) * :days / :t as day,
        abs(hashint4(n)) % 1000 as h
    from generate_series(0, :engineers * :t - 1) as n
),

tk as (
    select
        t.*,
        'WO' || lpad(t.n::text, 8, '0') as ticket_no,
        'E' || lpad(t.e::text, 5, '0') as engineer_id,
        case
            when t.h < 850 then '单次现场服务' when t.h < 900 then '事件值守' when t.h < 950 then '巡检'
            when t.h < 980 then '现场问题处理' when t.h < 990 then '驻场' else 'POC'
        end as ticket_type,
        120.0 + (t.n % 997) / 1000.0 as site_lng,
        30.0 + (t.n % 991) / 1000.0 as site_lat,
        t.day + make_interval(hours => 8 + (t.j % 3) * 4, mins => t.h % 30) as arrived_at
    from t
)
"""

WORKORDERS_SQL = TICKETS_CTE + """
insert into staging.netcare_workorders_rows (
    file_id, row_no, extract_date, ticket_no, ticket_type, status, region, customer_name, site_lng, site_lat,
    classified, created_at, appointment_at, engineer_id, engineer_name, dispatched_person_days,
    auth_start_at, auth_end_at, close_requested_at, closed_at)
select
    :file_id, tk.n + 2, :bd, tk.ticket_no, tk.ticket_type,
    case when tk.day < cast(:bd as date) - 7 then '已关闭' else '履行中' end,
    (array['浙江', '上海', '江西', '广西', '海南', '甘肃', '宁夏', '天津'])[1 + tk.e % 8],
    '客户' || (tk.n % 5000),
    case when tk.h % 500 = 7 or tk.h % 500 = 8 then null else tk.site_lng end,
    case when tk.h % 500 = 8 then null else tk.site_lat end,
    tk.h % 200 = 3,
    tk.day - 2 + time '09:00',
    tk.day + make_interval(hours => 8 + (tk.j % 3) * 4, mins => case when tk.h between 21 and 23 then 0 else 30 end),
    tk.engineer_id, '工程师' || tk.e,
    case when tk.ticket_type in ('单次现场服务', '事件值守', '高级软件现场支持', 'POC') then 1 end,
    case when tk.h % 10 = 0 then tk.day + time '07:00' end,
    case when tk.h % 10 = 0 then tk.day + time '20:00' end,
    case when tk.day < cast(:bd as date) - 7 then tk.day + 1 + time '10:00' end,
    case when tk.day < cast(:bd as date) - 7 then tk.day + 2 + time '10:00' end
from tk
"""

# 5 punches per NetCare ticket: 出发, 到达, 开始, 完成, 离场 (POC tickets have none). Violations:
# h 0–4 leave next morning (PD-07), 5–7 stay 5 h more (PD-03 with the next slot), 8–9 no leave
# (open), 10–12 a punch 5 km away (PD-05), 13–14 another engineer's punches (PD-02).
PUNCHES_SQL = TICKETS_CTE + """
, visits as (
    select
        tk.*,
        case
            when tk.h < 5 then tk.arrived_at + interval '16 hours'
            when tk.h < 8 then tk.arrived_at + interval '7 hours 30 minutes'
            else tk.arrived_at + interval '2 hours 30 minutes'
        end as left_at
    from tk
    where tk.ticket_type <> 'POC'
)
insert into staging.netcare_punches_rows (
    file_id, row_no, extract_date, punch_id, ticket_no, engineer_id, engineer_name, punch_type, punched_at,
    lng, lat, method)
select
    :file_id, v.n * 5 + k.i + 2, :bd, 'P' || lpad((v.n * 5 + k.i)::text, 9, '0'), v.ticket_no,
    case when v.h between 13 and 14 and k.i >= 3 then 'E' || lpad(((v.e + 1) % :engineers)::text, 5, '0')
         else v.engineer_id end,
    null, k.punch_type,
    case k.i
        when 0 then v.arrived_at - interval '40 minutes'
        when 1 then v.arrived_at
        when 2 then v.arrived_at + interval '5 minutes'
        when 3 then v.left_at - interval '5 minutes'
        else v.left_at
    end,
    v.site_lng + case when k.i = 0 then 0.1 else 0.001 end,
    v.site_lat + case when v.h between 10 and 12 and k.i = 2 then 0.045 else 0.001 end,
    'APP'
from visits as v
cross join (values (0, '出发'), (1, '到达'), (2, '开始'), (3, '完成'), (4, '离场')) as k (i, punch_type)
where not (v.h between 8 and 9 and k.i = 4)
"""

ENTRIES_SQL = TICKETS_CTE + """
insert into staging.timesheet_entries_rows (
    file_id, row_no, extract_date, entry_id, engineer_id, engineer_name, work_date, ticket_no, hours,
    work_kind, approval)
select
    :file_id, tk.n + 2, :bd, 'TS' || lpad(tk.n::text, 9, '0'), tk.engineer_id, null,
    tk.day + case when tk.h between 15 and 16 then 1 else 0 end,  -- filed on the wrong day
    tk.ticket_no, 8,
    case when tk.ticket_type = 'POC' then '其他' else '现场' end,
    case when tk.h between 17 and 18 then '已驳回' when tk.h = 19 then '草稿' else '已审批' end
from tk
where tk.h <> 20
"""

ENGINEERS_SQL = """
insert into staging.timesheet_engineers_rows (
    file_id, row_no, extract_date, engineer_id, engineer_name, region, phone, employment)
select :file_id, e + 2, :bd, 'E' || lpad(e::text, 5, '0'), '工程师' || e,
       (array['浙江', '上海', '江西', '广西', '海南', '甘肃', '宁夏', '天津'])[1 + e % 8], null, '在职'
from generate_series(0, :engineers - 2) as e  -- the last engineer is unknown (DQ-03)
"""


class NullSink:
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, data) -> int:
        self.bytes += len(data)
        return len(data)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def generate(engine: sa.Engine, engineers: int, months: int) -> dict[str, int]:
    days = round(365 * months / 12)
    per_engineer = max(1, round(TICKETS_PER_ENGINEER_YEAR * months / 12))
    params = {"bd": BUSINESS_DATE, "days": days, "t": per_engineer, "engineers": engineers}
    counts = {}
    steps = [("netcare_workorders", WORKORDERS_SQL), ("netcare_punches", PUNCHES_SQL),
             ("timesheet_entries", ENTRIES_SQL), ("timesheet_engineers", ENGINEERS_SQL)]
    with engine.begin() as conn:
        for source, body in steps:
            name = f"{source}_{BUSINESS_DATE:%Y%m%d}.csv"
            file_id = conn.execute(sa.text(FILE_SQL), {"n": name, "s": source, "d": BUSINESS_DATE}).scalar_one()
            counts[source] = conn.execute(sa.text(body), {**params, "file_id": file_id}).rowcount
            conn.execute(sa.text("update ops.files set rows_read = :r, rows_loaded = :r where file_id = :f"),
                         {"r": counts[source], "f": file_id})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for source, _ in steps:
            conn.execute(sa.text(f"vacuum analyze staging.{source}_rows"))
    return counts


def full_read_seconds(engine: sa.Engine) -> tuple[float, int]:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        sink = NullSink()
        t0 = time.monotonic()
        cur.copy_expert("copy (select * from staging.netcare_punches_rows) to stdout", sink)
        secs = time.monotonic() - t0
        raw.rollback()
    finally:
        raw.close()
    return secs, sink.bytes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engineers", type=int, default=1500)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = ap.parse_args(argv)

    name = f"fr_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(connection.url_for_database("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    engine = sa.create_engine(connection.url_for_database(name))
    try:
        migrate.migrate(engine)
        workdays.refresh(engine)
        t0 = time.monotonic()
        counts = generate(engine, args.engineers, args.months)
        print(f"database {name}: generated in {time.monotonic() - t0:.1f} s")
        for source, n in counts.items():
            print(f"  {source:<22} {n:>10,} rows")

        read_secs, read_bytes = full_read_seconds(engine)
        print(f"full read of the punches (COPY to a null sink): {read_secs:.2f} s, {read_bytes / 2**20:.0f} MiB")

        t0 = time.monotonic()
        found = rules.run_family(engine, "checkin", BUSINESS_DATE)
        total = time.monotonic() - t0

        with engine.connect() as conn:
            runs = conn.execute(
                sa.text("select rule_code, findings, seconds from recon.rule_runs where business_date = :d "
                        "and family = 'checkin' order by rule_code"),
                {"d": BUSINESS_DATE},
            ).all()
        print(f"\n{'rule':<8} {'findings':>10} {'seconds':>9}")
        for code, n, secs in runs:
            print(f"{code:<8} {n:>10,} {float(secs):>9.2f}")
        rule_secs = sum(float(s) for _, _, s in runs)
        print(f"{'rules':<8} {sum(found.values()):>10,} {rule_secs:>9.2f}")
        print(f"staging + models + bookkeeping: {total - rule_secs:.2f} s")
        ratio = total / read_secs if read_secs else float("inf")
        peak = peak_rss_mib()
        print(f"\ntotal {total:.2f} s (target ≤ 60) | ratio to full read {ratio:.1f} (target ≤ 20) | "
              f"Python peak RSS {peak:.0f} MiB (target ≤ 1024)")
        ok = total <= 60 and ratio <= 20 and peak <= 1024
        print("targets met" if ok else "targets MISSED")
        return 0
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as c:
                c.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
