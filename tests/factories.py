"""Putting typed rows straight into the staging layer, for rule tests.

`put(engine, source, rows, extract_date)` registers one synthetic loaded file and inserts the
rows (dicts of canonical column names; missing columns are null) as that file's typed rows,
so the staging models see them exactly as they would see a loaded extract.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

import sqlalchemy as sa

from fieldrecon.contract import SOURCES

_counter = itertools.count(1)


def put(engine: sa.Engine, source: str, rows: list[dict], extract_date: dt.date = dt.date(2026, 11, 1),
        delivery_no: int = 1) -> int:
    s = SOURCES[source]
    unknown = {k for r in rows for k in r} - set(s.column_names)
    if unknown:
        raise KeyError(f"{source} has no columns {unknown}")
    n = next(_counter)
    name = f"{source}_{extract_date:%Y%m%d}" + (f"_{delivery_no}" if delivery_no > 1 else "") + ".csv"
    with engine.begin() as conn:
        file_id = conn.execute(
            sa.text(
                "insert into ops.files (file_name, source, extract_date, delivery_no, sha256, size_bytes, arrived_at, "
                "status, rows_read, rows_loaded, rows_quarantined, rows_duplicate) values (:n, :s, :d, :dn, :h, 0, "
                "now(), 'loaded', :r, :r, 0, 0) returning file_id"
            ),
            {"n": name, "s": source, "d": extract_date, "dn": delivery_no,
             "h": hashlib.sha256(f"{name}-{n}-{id(rows)}".encode()).hexdigest(), "r": len(rows)},
        ).scalar_one()
        cols = ["file_id", "row_no", "extract_date", *s.column_names]
        stmt = sa.text(
            f"insert into staging.{source}_rows ({', '.join(cols)}) values ({', '.join(':' + c for c in cols)})"
        )
        payload = [
            {"file_id": file_id, "row_no": i + 2, "extract_date": extract_date, **{c: r.get(c) for c in s.column_names}}
            for i, r in enumerate(rows)
        ]
        if payload:
            conn.execute(stmt, payload)
    return file_id


def clear(engine: sa.Engine) -> None:
    """Empty the staging rows, registry and findings (between independent cases of one module)."""
    with engine.begin() as conn:
        tables = [f"staging.{s}_rows" for s in SOURCES] + [f"raw.{s}" for s in SOURCES]
        conn.execute(sa.text(f"truncate {', '.join(tables)}, ops.quarantine, recon.finding_snapshots, recon.previous_day_findings, recon.rule_runs, ops.files cascade"))


def findings(engine: sa.Engine, business_date: dt.date, rule_code: str | None = None) -> list[dict]:
    q = "select * from recon.finding_snapshots where business_date = :d"
    params: dict = {"d": business_date}
    if rule_code:
        q += " and rule_code = :c"
        params["c"] = rule_code
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(q + " order by finding_id"), params)]
