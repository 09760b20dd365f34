"""The run log: each step's outcome in `ops.runs.summary` under its own key (so separate task
processes build one run summary) and one row per step in `ops.run_steps`."""

from __future__ import annotations

import json

import sqlalchemy as sa

from fieldrecon.warehouse import connection


def record(run_id: int | None, key: str, value, rows_in: int | None = None, rows_out: int | None = None) -> None:
    """Keep a step's outcome in the run summary and the per-step run log (ops.run_steps)."""
    if run_id is None:
        return
    payload = json.dumps(value, default=str, ensure_ascii=False)
    seconds = value.get("seconds") if isinstance(value, dict) else None
    with connection.engine().begin() as conn:
        conn.execute(
            sa.text(
                "update ops.runs set summary = jsonb_set(coalesce(summary, '{}'::jsonb), :path, cast(:v as jsonb)) "
                "where run_id = :r"
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
