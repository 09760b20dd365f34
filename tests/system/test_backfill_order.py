"""Backfill correctness: five business dates run forward in one fresh warehouse and backwards in
another give, per date, the same findings snapshot (with details), cycle states, resident-report
and pack contents, and — once the same dates have run — byte-identical findings.csv and
acceptance_todo.csv. Run-time fields (durations, arrival times, run ids) are not compared: they
live only in ops.* and run_summary.json, by design."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid

import pytest
import sqlalchemy as sa
from fieldrecon_demo import generate

from fieldrecon import pipeline
from fieldrecon.warehouse import connection

pytestmark = pytest.mark.system

DATES = [dt.date(2026, 11, 16) + dt.timedelta(days=i) for i in range(5)]


def _state(eng, d: dt.date) -> dict[str, str]:
    queries = {
        "findings": "select finding_id, rule_code, severity, region, ticket_no, engineer_id, day, rfc_no, task_no, "
                    "po_no, po_line_no, cycle_start, acceptance_no, month, details::text from recon.finding_snapshots "
                    "where business_date = :d order by finding_id",
        "cycles": "select * from mart.cycle_schedule where business_date = :d order by po_no, po_line_no, cycle_start",
        # a report's status (late/generated) depends on which earlier dates have run, like first_seen: not compared
        "reports": "select report_kind, ticket_no, engineer_id, period_key, content_hash "
                   "from mart.resident_reports where business_date = :d order by 1, 2, 3, 4",
        "packs": "select r.pack_key, v.content_sha256, v.status from packs.pack_runs r join packs.versions v "
                 "using (pack_key, version_no) where r.business_date = :d order by 1",
    }
    out = {}
    with eng.connect() as c:
        for name, q in queries.items():
            rows = c.execute(sa.text(q), {"d": d}).all()
            out[name] = [repr(tuple(r)) for r in rows]
    return out


def _run_order(tmp, order, landing, monkeypatch_env):
    db = f"fr_order_{uuid.uuid4().hex[:8]}"
    home = tmp / db
    monkeypatch_env(db, home)
    outputs = home / "outputs"
    for d in order:
        pipeline.run_in_process(d, str(landing), str(outputs))
    # once the same dates have run, each date's exports are a function of the warehouse alone
    for d in DATES:
        ctx = pipeline.make_context(d, str(landing), str(outputs))
        pipeline.exports(ctx)
    eng = connection.engine()
    state = {d: _state(eng, d) for d in DATES}
    files = {d: {n: hashlib.sha256((outputs / d.isoformat() / n).read_bytes()).hexdigest()
                 for n in ("findings.csv", "acceptance_todo.csv")} for d in DATES}
    return db, state, files


@pytest.fixture
def env(monkeypatch):
    created = []

    def use(db, home):
        created.append(db)
        monkeypatch.setenv("FIELDRECON_DB", db)
        monkeypatch.setenv("FIELDRECON_ARCHIVE", str(home / "archive"))
        monkeypatch.setenv("FIELDRECON_PACKS", str(home / "packs"))
        monkeypatch.setenv("FIELDRECON_REPORTS", str(home / "reports"))
        connection.engine.cache_clear()

    yield use
    connection.engine.cache_clear()
    admin = sa.create_engine(connection.url_for_database("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        for db in created:
            if not os.environ.get("FIELDRECON_KEEP_TEST_DB"):
                c.execute(sa.text(f'drop database if exists "{db}" with (force)'))


def test_forward_and_backward_give_identical_results(tmp_path, env):
    landing = tmp_path / "landing"
    generate(landing, seed=3, engineers=12, months=2, end_date=DATES[-1])
    _, forward, forward_files = _run_order(tmp_path, DATES, landing, env)
    _, backward, backward_files = _run_order(tmp_path, list(reversed(DATES)), landing, env)
    assert any(forward[d]["findings"] for d in DATES)
    assert any(forward[d]["packs"] for d in DATES) and any(forward[d]["reports"] for d in DATES)
    for d in DATES:
        for part in forward[d]:
            diff = set(forward[d][part]) ^ set(backward[d][part])
            assert not diff, (d, part, sorted(diff)[:6])
        assert forward_files[d] == backward_files[d], d
