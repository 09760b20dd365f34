"""The run log: each step's outcome in `ops.runs.summary` under its own key (so separate task
processes build one run summary) and one row per step in `ops.run_steps`; who runs a run and
whether it is still alive (`this_process`, `mark_dead_runs`)."""

from __future__ import annotations

import json
import os
import socket

import psutil
import sqlalchemy as sa

from fieldrecon import settings
from fieldrecon.warehouse import connection


def this_process() -> dict:
    """Host, pid and the process's start time: what a later run needs to tell whether this one is alive."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "pid_started_at": psutil.Process().create_time()}


def process_alive(pid: int, started_at: float | None) -> bool:
    """The pid runs on this host and is the same process (not a later one that reused the pid)."""
    try:
        proc = psutil.Process(pid)
        return started_at is None or abs(proc.create_time() - started_at) < 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return False


def dead(run, host: str, lease_expired: bool) -> bool:
    """Whether a run still marked running is really dead, never a run another process is working on:
    a run opened in one process (in-process, no Airflow run id) on this host is dead when that process
    is gone; a run on another host, or under Airflow (its steps are separate task processes), when no
    step reported within the lease. A row from before the run's process was recorded (no pid) keeps
    the old reading: killed if of the same date or in-process."""
    if run["pid"] is None:
        return run["same_date"] or run["airflow_run_id"] is None
    if run["airflow_run_id"] is None and run["host"] == host:
        return not process_alive(run["pid"], run["pid_started_at"])
    return lease_expired


def mark_dead_runs(conn: sa.Connection, business_date, airflow_run_id: str | None) -> list[int]:
    """Mark failed the runs still 'running' whose process is dead (see `dead`); returns their ids.
    An attempt of the same Airflow run (a retried prepare) is never its own predecessor."""
    lease = settings.get().run_lease_hours
    rows = conn.execute(sa.text(
        "select run_id, airflow_run_id, host, pid, pid_started_at, business_date = :d as same_date, "
        "coalesce(heartbeat_at, started_at) < now() - make_interval(secs => :lease * 3600) as lease_expired "
        "from ops.runs where status = 'running' and coalesce(airflow_run_id, '') <> coalesce(cast(:r as text), '-') "
        "for update"), {"d": business_date, "r": airflow_run_id, "lease": lease}).mappings().all()
    host = socket.gethostname()
    ids = [r["run_id"] for r in rows if dead(r, host, r["lease_expired"])]
    if ids:
        conn.execute(sa.text(
            "update ops.runs set status = 'failed', finished_at = coalesce(finished_at, now()), "
            "summary = coalesce(summary, '{}'::jsonb) || jsonb_build_object('marked_failed_by_next_run', true) "
            "where run_id = any(:ids)"), {"ids": ids})
    return ids


def record(run_id: int | None, key: str, value, rows_in: int | None = None, rows_out: int | None = None) -> None:
    """Keep a step's outcome in the run summary and the per-step run log (ops.run_steps)."""
    if run_id is None:
        return
    payload = json.dumps(value, default=str, ensure_ascii=False)
    seconds = value.get("seconds") if isinstance(value, dict) else None
    with connection.engine().begin() as conn:
        conn.execute(
            sa.text(
                "update ops.runs set summary = jsonb_set(coalesce(summary, '{}'::jsonb), :path, cast(:v as jsonb)), "
                "heartbeat_at = now() where run_id = :r"
            ),
            {"path": [key], "v": payload, "r": run_id},
        )
        conn.execute(
            sa.text(
                "insert into ops.run_steps (run_id, step, business_date, as_of, started_at, finished_at, status, "
                "rows_in, rows_out, details) select r.run_id, :step, r.business_date, r.as_of, "
                "now() - make_interval(secs => coalesce(cast(:secs as double precision), 0)), now(), 'success', "
                ":rin, :rout, cast(:v as jsonb) from ops.runs r where r.run_id = :r "
                "on conflict (run_id, step) do update set finished_at = excluded.finished_at, status = excluded.status, "
                "rows_in = excluded.rows_in, rows_out = excluded.rows_out, details = excluded.details"
            ),
            {"step": key, "secs": seconds, "rin": rows_in, "rout": rows_out, "v": payload, "r": run_id},
        )
