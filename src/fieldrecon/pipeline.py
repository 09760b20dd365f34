"""The nightly run's steps, callable from Airflow tasks or in-process (tests, benchmarks).

Each step takes the run context (business date, paths, warehouse), calls a builder that returns
what it did, and records that in the run log (`warehouse.runlog`): one convention for every step.
Nothing here reads the wall clock for business logic: only arrival and duration stamps.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import sqlalchemy as sa

from fieldrecon import dates, settings
from fieldrecon.contract import SOURCES
from fieldrecon.ingest import loader, pull
from fieldrecon.outputs import exports as exports_
from fieldrecon.outputs import packs, quality_report, reports, run_summary
from fieldrecon.outputs.files import install_log_masking
from fieldrecon.recon import rules
from fieldrecon.warehouse import asof_state, connection, migrate, runlog, workdays
from fieldrecon.warehouse.runlog import record

log = logging.getLogger(__name__)
install_log_masking()  # no mobile number in any log line of a process that runs the steps


@dataclass
class RunContext:
    business_date: str  # YYYY-MM-DD (JSON-friendly for XCom)
    as_of: str
    landing: str
    output_dir: str
    archive_dir: str
    run_id: int | None = None
    params: dict | None = None
    publish_dir: str | None = None  # where finish publishes output_dir (the run's staging folder)

    @property
    def date(self) -> dt.date:
        return dt.date.fromisoformat(self.business_date)

    def to_dict(self) -> dict:
        return asdict(self)


def make_context(business_date: dt.date, landing: str | None = None, output_root: str | None = None,
                 params: dict | None = None) -> RunContext:
    out = Path(output_root or settings.output_root()) / business_date.isoformat()
    return RunContext(
        business_date=business_date.isoformat(),
        as_of=dates.as_of(business_date).isoformat(sep=" "),
        landing=str(landing or settings.landing_url()),
        output_dir=str(out),
        archive_dir=str(settings.archive_dir()),
        params=params or {},
    )


def engine() -> sa.Engine:
    """The warehouse. A server that went away since the last step (an embedded server that crashed
    comes back on another port) is connected afresh; if that fails too, the step fails with the
    driver's error and Airflow retries it."""
    eng = connection.engine()
    try:
        with eng.connect() as c:
            c.execute(sa.text("select 1"))
        return eng
    except sa.exc.OperationalError:
        log.warning("warehouse connection lost; connecting again")
        eng.dispose()
        connection.engine.cache_clear()
        return connection.engine()


def prepare(ctx: RunContext, airflow_run_id: str | None = None) -> RunContext:
    """Migrate the warehouse, refresh the calendar and open the run log row."""
    t0 = time.monotonic()
    eng = engine()
    applied = migrate.migrate(eng)
    cal = workdays.refresh(eng)
    with eng.begin() as conn:
        # a run still 'running' whose process is gone (or silent beyond the lease) was killed: say so;
        # other dates' runs working at the same time in other processes are left alone
        marked = runlog.mark_dead_runs(conn, ctx.date, airflow_run_id)
        ctx.run_id = conn.execute(
            sa.text(
                "insert into ops.runs (business_date, as_of, airflow_run_id, started_at, summary, host, pid, "
                "pid_started_at, heartbeat_at) values (:d, :a, :r, now(), '{}'::jsonb, :host, :pid, :pid_started_at, now()) "
                "returning run_id"
            ),
            {"d": ctx.date, "a": ctx.as_of, "r": airflow_run_id, **runlog.this_process()},
        ).scalar_one()
    stage_outputs(ctx, eng)
    record(ctx.run_id, "prepare", {"migrations_applied": applied, "calendar": cal, "marked_failed": marked,
                                   "seconds": round(time.monotonic() - t0, 2)})
    return ctx


def stage_outputs(ctx: RunContext, eng: sa.Engine) -> None:
    """Point the run's steps at a staging folder `<root>/.<date>.tmp-<run id>` that `finish` publishes
    in one rename, so a date's outputs appear whole or not at all; a failed run's folder never
    becomes the date's outputs. Staging folders of earlier runs of this date, and of runs of other
    dates that have ended (success, or failed under Airflow), are removed first."""
    final = Path(ctx.output_dir)
    root = final.parent
    ctx.publish_dir = str(final)
    ctx.output_dir = str(root / f".{final.name}.tmp-{ctx.run_id}")
    remove_stale_staging(root, final.name, ctx.run_id, eng)
    Path(ctx.output_dir).mkdir(parents=True, exist_ok=True)


def remove_stale_staging(root: Path, date_name: str, run_id: int, eng: sa.Engine) -> list[str]:
    import re
    import shutil

    if not root.is_dir():
        return []
    found = {}
    for p in root.iterdir():
        m = re.fullmatch(r"\.(\d{4}-\d{2}-\d{2})\.(?:tmp|old)-(?:\.\d{4}-\d{2}-\d{2}\.tmp-)?(\d+)", p.name)
        if m and p.is_dir() and int(m.group(2)) != run_id:
            found[p] = (m.group(1), int(m.group(2)))
    if not found:
        return []
    with eng.connect() as conn:
        # ended for sure: published (success) or failed under Airflow (an in-process run removes its own)
        ended = set(conn.execute(sa.text(
            "select run_id from ops.runs where run_id = any(:ids) and (status = 'success' "
            "or (status = 'failed' and airflow_run_id is not null))"), {"ids": [r for _, r in found.values()]}).scalars())
    removed = []
    for p, (day, rid) in sorted(found.items()):
        if (day == date_name and rid < run_id) or rid in ended:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    return removed


def landing_path(url: str):
    """A local folder as a Path; `sftp://` / `s3://` through Airflow's ObjectStoragePath, i.e. the
    sftp / amazon providers' filesystems, with the connection FIELDRECON_LANDING_CONN_ID."""
    if "://" in url and not url.startswith("file://"):
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(url, conn_id=settings.get().landing_conn_id)
    return Path(url.removeprefix("file://"))


def pull_extracts(ctx: RunContext) -> dict:
    t0 = time.monotonic()
    landing = landing_path(ctx.landing)
    result = pull.pull(engine(), landing, Path(ctx.archive_dir))
    result["seconds"] = round(time.monotonic() - t0, 2)
    record(ctx.run_id, "pull", result)
    return {k: len(v) if isinstance(v, list) else v for k, v in result.items()}


def load_source(ctx: RunContext, source: str) -> list[dict]:
    t0 = time.monotonic()
    results = loader.load_source(engine(), source)
    record(ctx.run_id, f"load_{source}", {"files": results, "seconds": round(time.monotonic() - t0, 2)},
           rows_in=sum(r.get("rows_read", 0) for r in results), rows_out=sum(r.get("rows_loaded", 0) for r in results))
    return results


def _side_by_side(step, ctx: RunContext, items, workers: int) -> dict:
    """`step(ctx, item)` for every item in threads, as the DAG's task groups run them side by side;
    results by item, the first failure raised once all have ended."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=step.__name__) as pool:
        futures = {item: pool.submit(step, ctx, item) for item in items}
    return {item: future.result() for item, future in futures.items()}


def load_sources(ctx: RunContext, sources=tuple(SOURCES)) -> dict[str, list[dict]]:
    """Every source's pending files, sources side by side as the DAG's `load` task group runs them
    (a source's own files stay in order, one after the other, inside its load)."""
    return _side_by_side(load_source, ctx, sources, min(4, os.cpu_count() or 1))


def run_rules(ctx: RunContext, family: str) -> dict[str, int]:
    t0 = time.monotonic()
    counts = rules.run_family(engine(), family, ctx.date, ctx.params)
    record(ctx.run_id, f"rules_{family}", {"findings": counts, "seconds": round(time.monotonic() - t0, 2)},
           rows_out=sum(counts.values()))
    return counts


def run_rule_families(ctx: RunContext, families=rules.FAMILIES) -> dict[str, dict[str, int]]:
    """The families side by side, as the DAG's `rules` task group runs them: each is one transaction
    of set-based SQL, so the warehouse does the work and a thread per family only waits on it."""
    return _side_by_side(run_rules, ctx, families, len(families))


def quality_summary(ctx: RunContext) -> dict:
    """Per-file accounting of the files this date sees, stale sources, quarantine by reason."""
    result = quality_report.quality(engine(), ctx)
    record(ctx.run_id, "quality", result)
    return {k: v for k, v in result.items() if k != "per_file"}


def exports(ctx: RunContext) -> dict:
    written = exports_.write_all(engine(), ctx)
    record(ctx.run_id, "exports", written)
    return written


def resident_reports(ctx: RunContext) -> dict:
    result = reports.build_all(engine(), ctx)
    record(ctx.run_id, "reports", result)
    if result["failed"]:
        raise RuntimeError(f"{len(result['failed'])} resident reports failed to render: {result['failed'][:5]}")
    return result


def acceptance_packs(ctx: RunContext) -> dict:
    counts = packs.build_all(engine(), ctx)
    record(ctx.run_id, "packs", counts, rows_out=counts["packs"])
    return counts


def finish(ctx: RunContext) -> dict:
    summary = run_summary.finish(engine(), ctx)
    asof_state.sweep(engine())  # the night's shared as-of tables
    return summary


def run_in_process(business_date: dt.date, landing: str | None = None, output_root: str | None = None,
                   params: dict | None = None, families=rules.FAMILIES) -> dict:
    """Every step in order in this process (the DAG runs the same steps as tasks)."""
    ctx = prepare(make_context(business_date, landing, output_root, params))
    try:
        pull_extracts(ctx)
        load_sources(ctx)
        quality_summary(ctx)
        run_rule_families(ctx, families)
        resident_reports(ctx)
        exports(ctx)
        acceptance_packs(ctx)
        return finish(ctx)
    except BaseException:
        fail(ctx)
        raise


def fail(ctx: RunContext) -> None:
    """A run that cannot finish: its staging folder goes, the date's published outputs stay as they were."""
    import shutil

    if ctx.publish_dir and ctx.output_dir != ctx.publish_dir:
        shutil.rmtree(ctx.output_dir, ignore_errors=True)
    with engine().begin() as conn:
        conn.execute(sa.text("update ops.runs set status = 'failed', finished_at = now() where run_id = :r and status = 'running'"),
                     {"r": ctx.run_id})
    asof_state.sweep(engine())
