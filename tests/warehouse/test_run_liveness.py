"""prepare marks failed only the runs that are really dead (issue 14): a killed in-process run on
this host, a run silent beyond the lease; never a run of another date that another process is
working on at the same time (backfills run two dates at once)."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys

import psutil
import pytest
import sqlalchemy as sa

from fieldrecon import pipeline
from fieldrecon.warehouse import connection

pytestmark = pytest.mark.db

DAY = dt.date(2026, 11, 3)
OTHER = dt.date(2026, 11, 2)


def _run(engine, day, *, host=None, pid=None, started=None, airflow=None, silent_hours=0.0) -> int:
    with engine.begin() as c:
        return c.execute(sa.text(
            "insert into ops.runs (business_date, as_of, airflow_run_id, started_at, summary, host, pid, "
            "pid_started_at, heartbeat_at) values (:d, :d, :a, now(), '{}'::jsonb, :h, :p, :s, "
            "now() - make_interval(secs => :silent * 3600)) returning run_id"),
            {"d": day, "a": airflow, "h": host, "p": pid, "s": started, "silent": silent_hours}).scalar_one()


def test_only_dead_runs_are_marked_failed(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDRECON_DB", engine.url.database)
    monkeypatch.setenv("FIELDRECON_GX", "false")
    monkeypatch.setenv("FIELDRECON_RUN_LEASE_HOURS", "2")
    connection.engine.cache_clear()
    here = socket.gethostname()
    alive = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    try:
        alive_started = psutil.Process(alive.pid).create_time()
        runs = {
            "other date, alive here": _run(engine, OTHER, host=here, pid=alive.pid, started=alive_started),
            "other date, process gone": _run(engine, OTHER, host=here, pid=gone.pid, started=alive_started - 5),
            "pid reused by another process": _run(engine, OTHER, host=here, pid=alive.pid, started=alive_started - 60),
            "other host, reporting": _run(engine, OTHER, host="elsewhere", pid=1, started=0.0, silent_hours=1),
            "other host, silent beyond the lease": _run(engine, OTHER, host="elsewhere", pid=1, started=0.0,
                                                        silent_hours=3),
            "airflow, same date, reporting": _run(engine, DAY, host=here, pid=gone.pid, airflow="manual__a"),
            "airflow, silent beyond the lease": _run(engine, OTHER, host=here, pid=gone.pid, airflow="scheduled__b",
                                                     silent_hours=3),
            "before pids were recorded, same date": _run(engine, DAY),
        }
        ctx = pipeline.prepare(pipeline.make_context(DAY, str(tmp_path / "landing"), str(tmp_path / "out")))
        with engine.connect() as c:
            status = dict(c.execute(sa.text("select run_id, status from ops.runs")).all())
        assert {name: status[rid] for name, rid in runs.items()} == {
            "other date, alive here": "running",
            "other date, process gone": "failed",
            "pid reused by another process": "failed",
            "other host, reporting": "running",
            "other host, silent beyond the lease": "failed",
            "airflow, same date, reporting": "running",
            "airflow, silent beyond the lease": "failed",
            "before pids were recorded, same date": "failed",
        }
        assert status[ctx.run_id] == "running"
        with engine.connect() as c:
            me = c.execute(sa.text("select host, pid from ops.runs where run_id = :r"), {"r": ctx.run_id}).one()
        assert tuple(me) == (here, psutil.Process().pid)
    finally:
        alive.stdin.close()
        alive.wait()
        connection.engine.cache_clear()
