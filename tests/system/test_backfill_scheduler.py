"""The documented backfill command (docs/runbook.md, "Backfill a range") against a real local Airflow
3 deployment — api-server, dag-processor and a scheduler with the LocalExecutor, the metadata DB on
the embedded PostgreSQL (harness of tests/test_local_executor.py) — creates exactly the runs of
business dates 2026-11-02 and 2026-11-03, the scheduler completes them (two at a time), and their
outputs equal those of the same two dates run nightly-style, one after the other, in-process in
another fresh warehouse: findings.csv and acceptance_todo.csv byte for byte, the staging view of
each date by content hash.

Takes two to four minutes. Processes are stopped (with their children) and the test's three
databases dropped in a finally block; the embedded server is left running.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from fieldrecon import pipeline, settings
from fieldrecon.contract import SOURCES
from fieldrecon.dates import as_of
from fieldrecon.orchestration.runner import WAREHOUSE_POOL
from fieldrecon.warehouse import connection
from tests.system.test_local_executor import Api, _create_database, _drop_database, _free_port, _stop, _tail, _wait, _write

pytestmark = pytest.mark.system

DAG_ID = "fieldrecon_nightly"
DATES = [dt.date(2026, 11, 2), dt.date(2026, 11, 3)]
# the command of docs/runbook.md, for these two dates: logical date D 02:00 local is business date D
BACKFILL = ["backfill", "create", "--dag-id", DAG_ID,
            "--from-date", "2026-11-02T02:00:00+08:00", "--to-date", "2026-11-03T02:00:00+08:00",
            "--reprocess-behavior", "completed", "--max-active-runs", "2"]
RUN_TIMEOUT = 300
EXPORTS = ("findings.csv", "acceptance_todo.csv")


def _landing(folder: Path) -> Path:
    """Rosters and punches for both dates (format as in tests/test_loading.py); E3 arrives without
    leaving and E9 punches without being on the roster, so there is something to find."""
    folder.mkdir(parents=True)
    for d in DATES:
        ymd, day = f"{d:%Y%m%d}", f"{d:%Y-%m-%d}"
        _write(folder / f"timesheet_engineers_{ymd}.csv", [
            "工号,姓名,区域,手机号,在职状态",
            "E1,张三,浙江,13800000000,在职",
            "E2,李四,上海,13900000000,在职",
            "E3,王五,浙江,13700000000,在职",
        ])
        _write(folder / f"netcare_punches_{ymd}.csv", [
            "打卡记录ID,工单号,工号,姓名,打卡类型,打卡时间,经度,纬度",
            f"P{ymd}1,WO{ymd}1,E1,张三,到达,{day} 09:12:00,120.1,30.2",
            f"P{ymd}2,WO{ymd}1,E1,张三,离场,{day} 17:12:00,120.1,30.2",
            f"P{ymd}3,WO{ymd}2,E3,王五,到达,{day} 10:00:00,121.4,31.2",
            f"P{ymd}4,WO{ymd}3,E9,赵六,到达,{day} 11:00:00,120.2,30.3",
        ], encoding="gb18030")
    return folder


def _staging_hashes(eng: sa.Engine, d: dt.date) -> dict[str, str]:
    """Per source, a hash of the rows `staging.<source>(as_of)` shows on date d (file ids, which
    depend on pull order, left out)."""
    out = {}
    with eng.connect() as c:
        for source in SOURCES:
            rows = c.execute(sa.text(
                f"select (to_jsonb(s) - 'file_id')::text from staging.{source}(:a) as s order by 1"
            ), {"a": as_of(d)}).scalars().all()
            out[source] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def _file_bytes(root: Path) -> dict[dt.date, dict[str, bytes]]:
    return {d: {n: (root / d.isoformat() / n).read_bytes() for n in EXPORTS} for d in DATES}


def _use_warehouse(monkeypatch, db: str, home: Path) -> None:
    monkeypatch.setenv("FIELDRECON_DB", db)
    monkeypatch.setenv("FIELDRECON_ARCHIVE", str(home / "archive"))
    monkeypatch.setenv("FIELDRECON_PACKS", str(home / "packs"))
    monkeypatch.setenv("FIELDRECON_REPORTS", str(home / "reports"))
    connection.engine.cache_clear()


def test_documented_backfill_under_scheduler_matches_nightly_runs(tmp_path, monkeypatch):
    suffix = uuid.uuid4().hex[:10]
    meta_db, backfill_db, nightly_db = f"fr_afmeta_{suffix}", f"fr_bf_{suffix}", f"fr_nt_{suffix}"
    home = tmp_path / "airflow_home"
    (home / "plugins").mkdir(parents=True)
    landing = _landing(tmp_path / "landing")
    bf = tmp_path / "backfill"
    output = bf / "outputs"
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    airflow = str(bin_dir / "airflow")

    _create_database(meta_db)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__") and k != "AIRFLOW_HOME"}
    env.update({
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": connection.url_for_database(meta_db),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "3",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "5",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "16",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        # only the backfill's runs: no scheduled run appears when the DAG is unpaused
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "FIELDRECON_DB": backfill_db,
        "FIELDRECON_LANDING": str(landing),
        "FIELDRECON_ARCHIVE": str(bf / "archive"),
        "FIELDRECON_OUTPUT": str(output),
        "FIELDRECON_PACKS": str(bf / "packs"),
        "FIELDRECON_REPORTS": str(bf / "reports"),
    })
    env.pop("FIELDRECON_HOME", None)
    if os.environ.get("AIRFLOW_CONN_WAREHOUSE"):  # tests pointed at another PostgreSQL: a fresh DB on it
        _create_database(backfill_db)
        url = connection.url_for_database(backfill_db)
        env["AIRFLOW_CONN_WAREHOUSE"] = url.replace("postgresql+psycopg2://", "postgresql://", 1)

    procs: list[subprocess.Popen] = []
    logs: dict[str, Path] = {}

    def start(name: str, *args: str) -> None:
        logs[name] = tmp_path / f"{name}.log"
        out = open(logs[name], "wb")
        procs.append(subprocess.Popen([airflow, *args], env=env, stdout=out, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True, cwd=tmp_path))
        out.close()

    api = Api(port)

    def diagnostics() -> str:
        parts = [_tail(p) for p in logs.values()]
        for f in sorted((home / "logs").rglob("*.log"))[-12:] if (home / "logs").exists() else []:
            if "dag_id=" in str(f):
                parts.append(_tail(f, 30))
        return "\n".join(parts)

    try:
        migrate = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=300,
                                 cwd=tmp_path)
        assert migrate.returncode == 0, migrate.stdout[-3000:] + migrate.stderr[-3000:]
        pool = subprocess.run([airflow, "pools", "set", *WAREHOUSE_POOL], env=env, capture_output=True, text=True,
                              timeout=120, cwd=tmp_path)
        assert pool.returncode == 0, pool.stderr[-3000:]

        start("api-server", "api-server", "--port", str(port), "--host", "127.0.0.1")
        start("dag-processor", "dag-processor")
        start("scheduler", "scheduler")

        _wait("the api-server", lambda: api.get("/api/v2/version").status_code == 200, 120, diagnostics)
        api.login()
        _wait("the DAG to be parsed and serialized", lambda: api.get(f"/api/v2/dags/{DAG_ID}").status_code == 200,
              180, diagnostics, interval=2)
        assert api.call("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})["is_paused"] is False

        created = subprocess.run([airflow, *BACKFILL], env=env, capture_output=True, text=True, timeout=120,
                                 cwd=tmp_path)
        assert created.returncode == 0, created.stdout[-3000:] + created.stderr[-3000:]
        print(created.stdout[-2000:])

        def runs() -> list[dict]:
            r = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 50})
            r.raise_for_status()
            return r.json()["dag_runs"]

        def finished():
            current = runs()
            if len(current) >= len(DATES) and all(r["state"] in ("success", "failed") for r in current):
                return current
            return None

        done = _wait("the backfill runs to finish", finished, RUN_TIMEOUT, diagnostics, interval=2)
        states = {r["dag_run_id"]: (r["logical_date"], r["run_type"], r["state"]) for r in done}
        assert len(done) == len(DATES), states
        assert {r["run_type"] for r in done} == {"backfill"}, states
        assert {r["state"] for r in done} == {"success"}, f"{states}\n{diagnostics()}"

        produced = sorted(p.name for p in output.iterdir() if p.is_dir())
        assert produced == [d.isoformat() for d in DATES], produced
        for d in DATES:
            summary = json.loads((output / d.isoformat() / "run_summary.json").read_text(encoding="utf-8"))
            assert summary["business_date"] == d.isoformat()
        backfilled = _file_bytes(output)

        # read the backfill's warehouse in-process, then run the same dates nightly-style in another
        _use_warehouse(monkeypatch, backfill_db, bf)
        backfill_staging = {d: _staging_hashes(connection.engine(), d) for d in DATES}
        connection.engine().dispose()

        nt = tmp_path / "nightly"
        _use_warehouse(monkeypatch, nightly_db, nt)
        for d in DATES:
            pipeline.run_in_process(d, str(landing), str(nt / "outputs"))
        nightly_staging = {d: _staging_hashes(connection.engine(), d) for d in DATES}
        connection.engine().dispose()
        nightly = _file_bytes(nt / "outputs")

        assert any(len(f["findings.csv"].splitlines()) > 1 for f in nightly.values()), "nothing was found"
        for d in DATES:
            assert backfill_staging[d] == nightly_staging[d], d
            for name in EXPORTS:
                assert backfilled[d][name] == nightly[d][name], (d, name)
    finally:
        _stop(procs)
        connection.engine.cache_clear()
        if not os.environ.get("FIELDRECON_KEEP_TEST_DB"):
            for name in (meta_db, backfill_db, nightly_db):
                _drop_database(name)
