"""Running a rule family: one SQL file per rule under include/sql/recon/<family>/, set-based.

In one transaction the runner materialises the run's staging state (each source as of the run's
as_of, a temp table named after the source) and the family's shared models
(include/sql/recon/<family>/models/NN_name.sql, each a temp table `name`), writes the family's
per-date mart snapshots (snapshots/NN_<table>.sql -> mart.<table>), runs every rule file, and
replaces that date's snapshot rows of those rules.

The rule-file convention (include/sql/recon/README.md says the same at more length):

- File name `<code>_<what>.sql`, e.g. `pd_03_overlapping_visits.sql` for PD-03. One statement: a CTE
  chain ending in `select * from final`; thresholds as bound parameters (`:pd04_min_gap_minutes`).
- A header the runner, the rule catalogue and the exports read:

      -- rule: PD-03
      -- severity: error
      -- title: 工单时间重叠
      -- explain: plain-language explanation for clerks (Chinese)
      -- clause: 第5部分 4.1(2)

  A title or explanation that states a configurable threshold names its parameter instead of
  copying the number: `前后工单间隔不足{pd04_min_gap_minutes:hours}小时` (formats: none, `hours` for
  minutes, `%` for a rate); the catalogue fills it from the run's parameters.

- `final` selects only what the rule knows, by column name (any order):
  the subject keys its rulebook entry names (a subset of SUBJECT_KEYS), `region`, `details`
  (jsonb), and `severity` only where it varies per finding (the header then says e.g.
  `warning / error`). The runner fills the rest of the finding envelope (FINDING_COLUMNS): the
  rule code and severity from the header, every key the rule does not select as null, details
  `{}` when absent, and the finding_id as a hash of the code and all subject keys. A column outside
  the envelope is an error naming the file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from fieldrecon import labels
from fieldrecon.contract import SOURCES
from fieldrecon.dates import as_of
from fieldrecon.settings import SQL_DIR
from fieldrecon.warehouse import asof_state

log = logging.getLogger(__name__)

FAMILIES = ("checkin", "attendance", "changes", "po", "timeliness")
SUBJECT_KEYS = ("ticket_no", "engineer_id", "day", "rfc_no", "task_no", "po_no", "po_line_no",
                "cycle_start", "acceptance_no", "month")
FINDING_COLUMNS = ("rule_code", "severity", "region", *SUBJECT_KEYS, "details")
RULE_COLUMNS = frozenset(("severity", "region", *SUBJECT_KEYS, "details"))  # what a rule may select
SEVERITIES = ("error", "warning", "info")
# PO-06 is a finding per region and month: its region is part of its subject.
REGION_KEYED = frozenset({"PO-06"})

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
    "sl01_hourly_minutes": 10,
    "sl01_office_minutes": 30,
    "sl01_office_start": "08:30",
    "sl01_office_end": "18:00",
    "sl01_off_hours_deadline": "09:00",
    "sl02_dispatch_working_days": 15,
    "sl03_close_working_days": 5,
    "sl03_inspection_close_working_days": 10,
    "sl04_due_working_days": 2,
    "reminder_po02_working_days": 2,
}

HEADER_RE = re.compile(r"^--\s*(rule|severity|title|explain|clause):\s*(.*)$")
PLACEHOLDER_RE = re.compile(r"\{(\w+)(?::(hours|%))?\}")


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


def _continue(text: str, more: str) -> str:
    """A header key repeated on the next line continues its value (Chinese runs on without a space)."""
    if not text or not more:
        return text + more
    return text + ("" if not (text[-1].isascii() and more[0].isascii()) else " ") + more


def _rule_file(path: Path, family: str) -> RuleFile:
    meta: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = HEADER_RE.match(line.strip())
        if m:
            key, value = m.groups()
            meta[key] = _continue(meta[key], value.strip()) if key in meta else value.strip()
        elif line.strip() and not line.startswith("--"):
            break
    code = meta.get("rule") or path.stem.split("_")[0].upper() + "-" + path.stem.split("_")[1]
    return RuleFile(path, family, code, meta.get("severity", ""), meta.get("title", code),
                    meta.get("explain", ""), meta.get("clause", ""))


def rule_files(family: str) -> list[RuleFile]:
    folder = SQL_DIR / "recon" / family
    return [_rule_file(p, family) for p in sorted(folder.glob("*.sql"))]


def fill_thresholds(text: str, params: dict, where: str = "") -> str:
    """A header text with each `{param}` / `{param:hours}` / `{param:%}` replaced by the parameter's
    value as a clerk reads it (60 → 60, 3.0 → 3, 60 minutes:hours → 1, 0.03:% → 3%)."""
    def value(m: re.Match) -> str:
        name, fmt = m.groups()
        if name not in params:
            raise ValueError(f"{where}: unknown parameter {{{name}}} in {text!r}")
        v = params[name]
        if fmt == "hours":
            v = float(v) / 60
        elif fmt == "%":
            return labels.number(float(v) * 100, 6) + "%"
        return labels.number(v, 6) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)

    return PLACEHOLDER_RE.sub(value, text)


def catalogue(overrides: dict | None = None) -> dict[str, RuleFile]:
    """Every rule of every family, by code (titles, explanations and clauses for the exports), its
    thresholds filled from the parameters (the defaults with the run's overrides, or its bound
    parameters)."""
    params = {**DEFAULT_PARAMS, **(overrides or {})}
    out = {}
    for fam in FAMILIES:
        for r in rule_files(fam):
            out[r.code] = dataclasses.replace(r, title=fill_thresholds(r.title, params, r.path.name),
                                              explain=fill_thresholds(r.explain, params, r.path.name))
    return out


def write_catalogue(conn: sa.Connection, business_date: dt.date, overrides: dict | None = None) -> int:
    """recon.rule_catalogue for one business date: what the sheets join for a rule's title, with the
    thresholds of that date's run (another date's run with other parameters keeps its own rows)."""
    rows = [{"d": business_date, "c": code, "f": r.family, "s": r.severity, "t": r.title, "e": r.explain, "k": r.clause}
            for code, r in sorted(catalogue(overrides).items())]
    conn.execute(sa.text("delete from recon.rule_catalogue where business_date = :d and not (rule_code = any(:c))"),
                 {"d": business_date, "c": [r["c"] for r in rows]})
    conn.execute(sa.text(
        "insert into recon.rule_catalogue (business_date, rule_code, rule_family, severity, title, explanation, clause) "
        "values (:d, :c, :f, :s, :t, :e, :k) on conflict (business_date, rule_code) do update set "
        "rule_family = excluded.rule_family, severity = excluded.severity, title = excluded.title, "
        "explanation = excluded.explanation, clause = excluded.clause"), rows)
    return len(rows)


def bind_params(business_date: dt.date, overrides: dict | None = None) -> dict:
    params = dict(DEFAULT_PARAMS)
    params.update(overrides or {})
    params["business_date"] = business_date
    params["as_of"] = as_of(business_date)
    return params


@functools.cache
def sources_named(*folders: str) -> tuple[str, ...]:
    """The sources the SQL files under `folders` (relative to include/sql) name: only those need their
    as-of temp tables (the punches, the biggest, are read by two of the five rule families)."""
    text = "\n".join(p.read_text(encoding="utf-8") for folder in folders for p in sorted((SQL_DIR / folder).rglob("*.sql")))
    return tuple(name for name in SOURCES if re.search(rf"\b{name}\b", text))


def family_sources(family: str) -> tuple[str, ...]:
    """The sources a family's SQL (rules, models, snapshots) names."""
    return sources_named(f"recon/{family}")


def materialise_staging(conn: sa.Connection, as_of: dt.datetime, sources=None, shared: bool = False) -> None:
    """Each source as of the run (or those named), as a temp table named after the source (shadows
    nothing); `shared`: a temp view of the night's shared state instead (`warehouse.asof_state`), computed
    by the first step that needs it. Private tables are for a caller that indexes them or reads data
    of its own transaction."""
    for name in SOURCES if sources is None else sources:
        # first: replacing an outdated shared table drops this session's view of it from an earlier
        # transaction, which must not be locked by this one yet
        table = asof_state.attach(conn, name, as_of) if shared else None
        kind = asof_state.temp_kind(conn, name)
        if kind:
            conn.execute(sa.text(f"drop {'view' if kind == 'v' else 'table'} pg_temp.{name}"))
        if table:
            conn.execute(sa.text(f"create temp view {name} as select * from {table}"))
            continue
        conn.execute(
            sa.text(f"create temp table {name} on commit drop as select * from staging.{name}(cast(:as_of as timestamp))"),
            {"as_of": as_of},
        )
        conn.execute(sa.text(f"analyze pg_temp.{name}"))


def sources_changed(conn: sa.Connection, sources, since: dt.datetime, until: dt.datetime) -> list[str]:
    """The sources whose as-of state differs between `since` and `until` (since < until): a staging
    function reads only the files visible at its as_of (ops.visible_files), so the state changes only
    where a file is visible at `until` and not at `since`."""
    changed = set(conn.execute(sa.text(
        "select s.source from unnest(cast(:s as text[])) as s (source) where exists ("
        "select v.file_id from ops.visible_files(s.source, cast(:until as timestamp)) as v except "
        "select w.file_id from ops.visible_files(s.source, cast(:since as timestamp)) as w)"),
        {"s": list(sources), "since": since, "until": until}).scalars())
    return [name for name in sources if name in changed]


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
    # one writer at a time per family and date: the run of that date, or the next date's run
    # evaluating it as its day before (inside a savepoint it rolls back, which frees the lock)
    conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('mart-snapshots'), hashtext(:f || cast(:business_date as text)))"),
                 {**params, "f": family})
    for path in sorted(folder.glob("*.sql")):
        table = re.sub(r"^\d+_", "", path.stem)
        conn.execute(sa.text(f"delete from mart.{table} where business_date = :business_date"), params)
        body = path.read_text(encoding="utf-8").strip().rstrip(";")
        conn.execute(sa.text(f"insert into mart.{table} select cast(:business_date as date), s.* from ({body}) as s"), params)


def rule_columns(conn: sa.Connection, rule: RuleFile, body: str, params: dict) -> list[str]:
    """The columns a rule's `final` selects (planned, not run), checked against the envelope."""
    cols = list(conn.execute(sa.text(f"select * from ({body}) as f limit 0"), params).keys())
    unknown = [c for c in cols if c not in RULE_COLUMNS]
    if unknown:
        raise ValueError(f"{rule.path.name}: columns outside the finding envelope: {', '.join(unknown)}")
    if "severity" not in cols and rule.severity not in SEVERITIES:
        raise ValueError(f"{rule.path.name}: header severity {rule.severity!r} is not one of {SEVERITIES} "
                         "and the rule selects no severity")
    return cols


def insert_sql(rule: RuleFile, body: str, cols: list[str], target: str = "recon.finding_snapshots") -> str:
    """The statement that writes a rule's findings, its envelope filled by column name."""
    def col(name: str) -> str:
        return f"f.{name}" if name in cols else "null"

    def key(name: str, as_text: bool = False) -> str:
        if name not in cols:
            return "''"
        return f"coalesce(cast(f.{name} as text), '')" if as_text else f"coalesce(f.{name}, '')"

    text_keys = {"day", "po_line_no", "cycle_start"}
    hashed = [":rule_code", key("region") if rule.code in REGION_KEYED else "''"]
    hashed += [key(k, k in text_keys) for k in SUBJECT_KEYS]
    severity = "f.severity" if "severity" in cols else ":rule_severity"
    details = "coalesce(f.details, '{}'::jsonb)" if "details" in cols else "'{}'::jsonb"
    values = ", ".join(col(k) for k in ("region", *SUBJECT_KEYS))
    return f"""
insert into {target} (
    business_date, as_of, finding_id, rule_code, severity, region, {", ".join(SUBJECT_KEYS)}, details
)
select
    cast(:business_date as date), cast(:as_of as timestamp),
    :rule_code || '-' || left(md5(concat_ws('|', {", ".join(hashed)})), 12),
    :rule_code, {severity}, {values}, {details}
from ({body}) as f
"""


def previous_day(conn: sa.Connection, family: str, rules: list[RuleFile], business_date: dt.date,
                 overrides: dict | None) -> None:
    """The family's findings as of the day before, evaluated now on the same data, into
    recon.previous_day_findings under this run's business date: `new` and `resolved` then depend
    on this run alone, never on which other dates have run. The evaluation's own mart snapshot
    rows (of the day before) are rolled back: another date's outputs are not this run's to write."""
    params = bind_params(business_date - dt.timedelta(days=1), overrides)
    rows = []
    with conn.begin_nested() as sp:
        conn.execute(sa.text("create temp table previous_findings (like recon.finding_snapshots) on commit drop"))
        # this run's staging tables are in place: only a source with a file that became visible since
        # the day before is read again (and put back by the rollback)
        materialise_staging(conn, params["as_of"], sources_changed(conn, family_sources(family), params["as_of"],
                                                                   as_of(business_date)), shared=True)
        materialise_models(conn, family, params)
        write_snapshots(conn, family, params)
        for rule in rules:
            body = rule.sql.strip().rstrip(";")
            cols = rule_columns(conn, rule, body, params)
            conn.execute(sa.text(insert_sql(rule, body, cols, "pg_temp.previous_findings")),
                         {**params, "rule_code": rule.code, "rule_severity": rule.severity})
        rows = [dict(r._mapping) for r in conn.execute(sa.text("select * from pg_temp.previous_findings"))]
        sp.rollback()
    conn.execute(sa.text("delete from recon.previous_day_findings where business_date = :d and rule_code = any(:c)"),
                 {"d": business_date, "c": [r.code for r in rules]})
    if rows:
        cols = list(rows[0])
        conn.execute(sa.text(f"insert into recon.previous_day_findings ({', '.join(cols)}) "
                             f"values ({', '.join(':' + c for c in cols)})"),
                     [dict(r, business_date=business_date, details=json.dumps(r["details"])) for r in rows])


def run_family(engine: sa.Engine, family: str, business_date: dt.date, overrides: dict | None = None) -> dict[str, int]:
    """Recompute one family's findings for one business date (and, for `new`, for the day before
    on the same data); returns findings per rule code."""
    params = bind_params(business_date, overrides)
    rules = rule_files(family)
    counts: dict[str, int] = {}
    public_params = {k: v for k, v in params.items() if k not in ("business_date", "as_of")}
    with engine.begin() as conn:
        materialise_staging(conn, params["as_of"], family_sources(family), shared=True)
        previous_day(conn, family, rules, business_date, overrides)
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
            cols = rule_columns(conn, rule, body, params)
            n = conn.execute(sa.text(insert_sql(rule, body, cols)),
                             {**params, "rule_code": rule.code, "rule_severity": rule.severity}).rowcount
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
