"""Order independence: business dates run forward in one fresh warehouse, backwards in another
and two at a time (separate processes) in a third give, per date, the same findings snapshot,
cycle states, report and pack contents, and byte-identical published outputs — every file of the
date's output folder (workbooks, CSVs, documents.csv with the packs' and reports' store paths and
sha256, resident_reports.csv, GX Data Docs) except run_summary.json (run ids, durations, arrival
times: run facts by design) — straight from each date's own run, with no re-export afterwards; and
no run of one date marks the other date's run, working beside it, as failed."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import uuid
from concurrent.futures import ProcessPoolExecutor

import pytest
import sqlalchemy as sa
from fieldrecon_demo import generate

from fieldrecon import pipeline
from fieldrecon.outputs import documents
from fieldrecon.warehouse import connection, migrate

pytestmark = pytest.mark.system

DATES = [dt.date(2026, 11, 16) + dt.timedelta(days=i) for i in range(3)]
RUN_FACTS = {"run_summary.json"}


def _state(eng, d: dt.date) -> dict[str, list[str]]:
    queries = {
        "findings": "select finding_id, rule_code, severity, region, ticket_no, engineer_id, day, rfc_no, task_no, "
                    "po_no, po_line_no, cycle_start, acceptance_no, month, details::text, is_new, status "
                    "from recon.findings_as_of(:d) order by finding_id",
        "cycles": "select * from mart.cycle_schedule where business_date = :d order by po_no, po_line_no, cycle_start",
        "reports": "select report_kind, ticket_no, engineer_id, period_key, content_hash "
                   "from mart.resident_reports where business_date = :d order by 1, 2, 3, 4",
        "packs": "select r.pack_key, v.content_sha256, v.status from packs.pack_runs r join packs.versions v "
                 "using (pack_key, version_no) where r.business_date = :d order by 1",
    }
    with eng.connect() as c:
        return {name: [repr(tuple(r)) for r in c.execute(sa.text(q), {"d": d}).all()] for name, q in queries.items()}


def _files(outputs, d: dt.date) -> dict[str, str]:
    folder = outputs / d.isoformat()
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name not in RUN_FACTS}


def _run_one(d: dt.date, landing: str, outputs: str) -> None:
    connection.engine.cache_clear()
    try:
        pipeline.run_in_process(d, landing, outputs)
    finally:
        # a multiprocessing child runs no atexit handler and joins its children first: without this its
        # document workers (outputs.documents.pool) keep it, and the test, from ever ending
        documents.shutdown_pool()


def _run(tmp, landing, env, order: list[dt.date] | None = None, concurrent: bool = False):
    db = f"fr_order_{uuid.uuid4().hex[:8]}"
    home = tmp / db
    env(db, home)
    outputs = home / "outputs"
    if concurrent:
        migrate.migrate(connection.engine())  # once, up front (no run of its own)
        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            for f in [pool.submit(_run_one, d, str(landing), str(outputs)) for d in DATES]:
                f.result()
    else:
        for d in order:
            pipeline.run_in_process(d, str(landing), str(outputs))
    eng = connection.engine()
    with eng.connect() as c:
        runs = c.execute(sa.text("select business_date, status, summary ? 'marked_failed_by_next_run' from ops.runs "
                                 "order by run_id")).all()
    assert [tuple(r)[1:] for r in runs] == [("success", False)] * len(runs) and len(runs) == len(DATES), runs
    return {d: _state(eng, d) for d in DATES}, {d: _files(outputs, d) for d in DATES}


@pytest.fixture
def env(monkeypatch):
    created = []

    def use(db, home):
        created.append(db)
        monkeypatch.setenv("FIELDRECON_DB", db)
        for k in ("archive", "packs", "reports"):
            monkeypatch.setenv(f"FIELDRECON_{k.upper()}", str(home / k))
        connection.engine.cache_clear()

    yield use
    connection.engine.cache_clear()
    admin = sa.create_engine(connection.url_for_database("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        for db in created:
            if not os.environ.get("FIELDRECON_KEEP_TEST_DB"):
                c.execute(sa.text(f'drop database if exists "{db}" with (force)'))
    admin.dispose()


def test_forward_backward_and_concurrent_runs_give_identical_outputs(tmp_path, env):
    landing = tmp_path / "landing"
    generate(landing, seed=3, engineers=12, months=2, end_date=DATES[-1])
    forward, forward_files = _run(tmp_path, landing, env, DATES)
    backward, backward_files = _run(tmp_path, landing, env, list(reversed(DATES)))
    both, both_files = _run(tmp_path, landing, env, concurrent=True)
    assert any(forward[d]["findings"] for d in DATES)
    assert any(forward[d]["packs"] for d in DATES) and any(forward[d]["reports"] for d in DATES)
    assert all({"findings.csv", "exceptions.xlsx", "quarantine.xlsx", "acceptance_todo.csv"} <= set(forward_files[d])
               for d in DATES)
    for other in (backward, both):
        for d in DATES:
            for part in forward[d]:
                diff = set(forward[d][part]) ^ set(other[d][part])
                assert not diff, (d, part, sorted(diff)[:6])
    differ = {(d, n) for other_files in (backward_files, both_files) for d in DATES
              for n in forward_files[d].keys() | other_files[d].keys()
              if forward_files[d].get(n) != other_files[d].get(n)}
    assert not differ, sorted(differ)
