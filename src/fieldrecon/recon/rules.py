"""Running a rule family: one SQL file per rule under include/sql/recon/<family>/, set-based.

In one transaction the runner materialises the run's staging state (each source as of the run's
as_of, a temp table named after the source) and the family's shared models
(include/sql/recon/<family>/models/NN_name.sql, each a temp table `name`), writes the family's
per-date mart snapshots (snapshots/NN_<table>.sql -> mart.<table>), runs every rule file (a
`select` returning the finding columns), and replaces that date's snapshot rows of those rules. A rule file starts
with a header the exports read:

    -- rule: PD-03
    -- severity: error
    -- title: 工单时间重叠
    -- explain: plain-language explanation for clerks (Chinese)
    -- clause: 第5部分 4.1(2)

Rule output columns: rule_code, severity, region, ticket_no, engineer_id, day, rfc_no, task_no,
po_no, po_line_no, cycle_start, acceptance_no, month, details (jsonb). A rule fills only the
subject keys its rulebook entry names (plus region): the finding_id hashes all of them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from fieldrecon.contract import SOURCES
from fieldrecon.dates import as_of
from fieldrecon.settings import SQL_DIR

log = logging.getLogger(__name__)

FAMILIES = ("checkin", "attendance", "changes", "po")
FINDING_COLUMNS = (
    "rule_code", "severity", "region", "ticket_no", "engineer_id", "day", "rfc_no", "task_no",
    "po_no", "po_line_no", "cycle_start", "acceptance_no", "month", "details",
)
SUBJECT_KEYS = ("ticket_no", "engineer_id", "day", "rfc_no", "task_no", "po_no", "po_line_no",
                "cycle_start", "acceptance_no", "month")

# Thresholds and decisions the rulebook marks configurable, with its defaults.
DEFAULT_PARAMS: dict[str, object] = {
    "pd04_min_gap_minutes": 60,
    "pd05_max_distance_km": 3.0,
    "earth_radius_km": 6371.0088,
    "ch01_deadline_days": 31,
    "ch01_extension_days": 34,
    "ch02_warning_days": 7,
    "ch03_high_lead_days": 7,
    "ch03_fatal_lead_days": 10,
    "ch04_plan_valid_days": 30,
    "ch05_min_verify_minutes": 30,
    "ch06_guarantor_max_hours": 2,
    "ch08_retro_working_days": 5,
    "ra04_max_month_anomalies": 4,
    "ra05_max_quarter_anomalies": 12,
    "ra06_flow_working_days": 5,
    "po02_submit_working_days": 5,
    "po05_tolerance": 0.01,
    "po06_max_reject_rate": 0.03,
    "po08_awaiting_days": 30,
    "cycle_amount_convention": "days",
}

HEADER_RE = re.compile(r"^--\s*(rule|severity|title|explain|clause):\s*(.*)$")


@dataclass
class RuleFile:
    path: Path
    family: str
    code: str
    severity: str
    title: str
    explain: str
    clause: str

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _rule_file(path: Path, family: str) -> RuleFile:
    meta: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = HEADER_RE.match(line.strip())
        if m:
            key, value = m.groups()
            meta[key] = (meta[key] + " " + value).strip() if key in meta else value.strip()
        elif line.strip() and not line.startswith("--"):
            break
    code = meta.get("rule") or path.stem.split("_")[0].upper() + "-" + path.stem.split("_")[1]
    return RuleFile(path, family, code, meta.get("severity", ""), meta.get("title", code),
                    meta.get("explain", ""), meta.get("clause", ""))


def rule_files(family: str) -> list[RuleFile]:
    folder = SQL_DIR / "recon" / family
    return [_rule_file(p, family) for p in sorted(folder.glob("*.sql"))]


def catalogue() -> dict[str, RuleFile]:
    """Every rule of every family, by code (titles, explanations and clauses for the exports)."""
    return {r.code: r for fam in FAMILIES for r in rule_files(fam)}


def bind_params(business_date: dt.date, overrides: dict | None = None) -> dict:
    params = dict(DEFAULT_PARAMS)
    params.update(overrides or {})
    params["business_date"] = business_date
    params["as_of"] = as_of(business_date)
    return params


def materialise_staging(conn: sa.Connection, as_of: dt.datetime) -> None:
    """Each source as of the run, as a temp table named after the source (shadows nothing)."""
    for name in SOURCES:
        conn.execute(sa.text(f"drop table if exists pg_temp.{name}"))
        conn.execute(
            sa.text(f"create temp table {name} on commit drop as select * from staging.{name}(cast(:as_of as timestamp))"),
            {"as_of": as_of},
        )
        conn.execute(sa.text(f"analyze pg_temp.{name}"))


def materialise_models(conn: sa.Connection, family: str, params: dict) -> None:
    folder = SQL_DIR / "recon" / family / "models"
    for path in sorted(folder.glob("*.sql")):
        name = re.sub(r"^\d+_", "", path.stem)
        conn.execute(sa.text(f"drop table if exists pg_temp.{name}"))
        conn.execute(sa.text(f"create temp table {name} on commit drop as {path.read_text(encoding='utf-8')}"), params)
        conn.execute(sa.text(f"analyze pg_temp.{name}"))


def write_snapshots(conn: sa.Connection, family: str, params: dict) -> None:
    """Per-date mart snapshots a family owns: include/sql/recon/<family>/snapshots/NN_<table>.sql is a
    select whose rows replace that business date's rows of mart.<table> (first column business_date)."""
    folder = SQL_DIR / "recon" / family / "snapshots"
    for path in sorted(folder.glob("*.sql")):
        table = re.sub(r"^\d+_", "", path.stem)
        conn.execute(sa.text(f"delete from mart.{table} where business_date = :business_date"), params)
        body = path.read_text(encoding="utf-8").strip().rstrip(";")
        conn.execute(sa.text(f"insert into mart.{table} select cast(:business_date as date), s.* from ({body}) as s"), params)


INSERT_SQL = """
insert into recon.finding_snapshots (
    business_date, as_of, finding_id, rule_code, severity, region, ticket_no, engineer_id, day,
    rfc_no, task_no, po_no, po_line_no, cycle_start, acceptance_no, month, details
)
select
    cast(:business_date as date), cast(:as_of as timestamp),
    f.rule_code || '-' || left(md5(concat_ws('|',
        f.rule_code,
        case when f.rule_code = 'PO-06' then coalesce(f.region, '') else '' end,
        coalesce(f.ticket_no, ''), coalesce(f.engineer_id, ''), coalesce(cast(f.day as text), ''),
        coalesce(f.rfc_no, ''), coalesce(f.task_no, ''), coalesce(f.po_no, ''),
        coalesce(cast(f.po_line_no as text), ''), coalesce(cast(f.cycle_start as text), ''),
        coalesce(f.acceptance_no, ''), coalesce(f.month, '')
    )), 12),
    f.rule_code, f.severity, f.region, f.ticket_no, f.engineer_id, f.day, f.rfc_no, f.task_no,
    f.po_no, f.po_line_no, f.cycle_start, f.acceptance_no, f.month, coalesce(f.details, '{}'::jsonb)
from ({rule_sql}) as f
"""


def run_family(engine: sa.Engine, family: str, business_date: dt.date, overrides: dict | None = None) -> dict[str, int]:
    """Recompute one family's findings for one business date; returns findings per rule code."""
    params = bind_params(business_date, overrides)
    rules = rule_files(family)
    counts: dict[str, int] = {}
    public_params = {k: v for k, v in params.items() if k not in ("business_date", "as_of")}
    with engine.begin() as conn:
        materialise_staging(conn, params["as_of"])
        materialise_models(conn, family, params)
        write_snapshots(conn, family, params)
        codes = [r.code for r in rules]
        conn.execute(
            sa.text("delete from recon.finding_snapshots where business_date = :d and rule_code = any(:c)"),
            {"d": business_date, "c": codes},
        )
        conn.execute(
            sa.text("delete from recon.rule_runs where business_date = :d and rule_code = any(:c)"),
            {"d": business_date, "c": codes},
        )
        for rule in rules:
            t0 = time.monotonic()
            body = rule.sql.strip().rstrip(";")
            n = conn.execute(sa.text(INSERT_SQL.replace("{rule_sql}", body)), params).rowcount
            secs = round(time.monotonic() - t0, 3)
            counts[rule.code] = n
            conn.execute(
                sa.text(
                    "insert into recon.rule_runs (business_date, rule_code, family, findings, seconds, params) "
                    "values (:d, :c, :f, :n, :s, cast(:p as jsonb))"
                ),
                {"d": business_date, "c": rule.code, "f": family, "n": n, "s": secs,
                 "p": json.dumps(public_params, default=str)},
            )
            log.info("%s %s: %d findings in %.2fs", business_date, rule.code, n, secs)
    return counts
