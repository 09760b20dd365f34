"""The nightly DAG under a real Airflow 3 deployment on one machine, not `dag.test()`: a scheduler
with the LocalExecutor (parallelism 4), a dag-processor and an api-server (the execution API the
task runners report to), the Airflow metadata DB on the embedded PostgreSQL, a triggered run with
a business date in its conf, and several load tasks truly running at the same time.

Takes one to three minutes. Processes are started in their own sessions and stopped (with their
children) in a finally block; the test's two databases are dropped; the embedded server is left running.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from fieldrecon import settings
from fieldrecon.orchestration.runner import WAREHOUSE_POOL
from fieldrecon.warehouse import connection

pytestmark = pytest.mark.system

DAG_ID = "fieldrecon_nightly"
BUSINESS_DATE = dt.date(2026, 11, 3)
RUN_TIMEOUT = 240  # seconds for the DAG run itself
PARALLELISM = 4
LOAD_TASKS = "load."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> None:
    path.write_text("\n".join(lines) + "\n", encoding=encoding)


def _landing(folder: Path) -> Path:
    """Two tiny extracts of the business date (format as in tests/test_loading.py)."""
    folder.mkdir(parents=True)
    d = f"{BUSINESS_DATE:%Y%m%d}"
    _write(folder / f"timesheet_engineers_{d}.csv", [
        "工号,姓名,区域,手机号,在职状态",
        "E1,张三,浙江,13800000000,在职",
        "E2,李四,上海,13900000000,在职",
    ])
    _write(folder / f"netcare_punches_{d}.csv", [
        "打卡记录ID,工单号,工号,姓名,打卡类型,打卡时间,经度,纬度",
        "P1,WO1,E1,张三,到达,2026-11-03 09:12:00,120.1,30.2",
        "P2,WO1,E1,张三,离场,2026/11/3 17:12,120.1,30.2",
    ], encoding="gb18030")
    return folder


def _create_database(name: str) -> None:
    admin = sa.create_engine(connection.url_for_database("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    admin.dispose()


def _drop_database(name: str) -> None:
    admin = sa.create_engine(connection.url_for_database("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def _stop(procs: list[subprocess.Popen]) -> None:
    """Stop the processes this test started and everything they spawned (by pid, never by name)."""
    import psutil

    victims: list[psutil.Process] = []
    for p in procs:
        try:
            parent = psutil.Process(p.pid)
            victims += [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for v in victims:
        try:
            v.send_signal(signal.SIGTERM)
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(victims, timeout=20)
    for v in alive:
        try:
            v.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=10)
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def _tail(path: Path, n: int = 60) -> str:
    if not path.exists():
        return f"({path.name}: no output)"
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return f"--- {path.name} ---\n" + "\n".join(lines[-n:])


class Api:
    """The REST API of the test's api-server (SimpleAuthManager, everyone admin, JWT from /auth/token)."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.session = requests.Session()

    def login(self) -> None:
        r = self.session.get(f"{self.base}/auth/token", timeout=10)
        r.raise_for_status()
        self.session.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    def get(self, path: str, **kw) -> requests.Response:
        return self.session.get(f"{self.base}{path}", timeout=15, **kw)

    def call(self, method: str, path: str, body: dict) -> dict:
        r = self.session.request(method, f"{self.base}{path}", json=body, timeout=15)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json()


def _wait(what: str, predicate, timeout: float, diagnostics, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (requests.ConnectionError, requests.Timeout) as e:
            last = e
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})\n{diagnostics()}")


def _parse(ts: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(ts.replace("Z", "+00:00")) if ts else None


def overlapping_pairs(intervals: dict[str, tuple[dt.datetime, dt.datetime]]) -> list[tuple[str, str]]:
    """Pairs of tasks whose [start, end] intervals intersect (each ran while the other was running)."""
    items = sorted(intervals.items(), key=lambda kv: kv[1][0])
    pairs = []
    for i, (a, (sa_, ea)) in enumerate(items):
        for b, (sb, eb) in items[i + 1:]:
            if sb < ea and sa_ < eb:
                pairs.append((a, b))
    return pairs


def test_overlap_detection():
    t = dt.datetime(2026, 1, 1)
    s = dt.timedelta(seconds=1)
    assert overlapping_pairs({"a": (t, t + 3 * s), "b": (t + 2 * s, t + 5 * s), "c": (t + 5 * s, t + 6 * s)}) == [("a", "b")]
    assert overlapping_pairs({"a": (t, t + s), "b": (t + s, t + 2 * s)}) == []


def test_nightly_dag_runs_under_scheduler_with_local_executor_in_parallel(tmp_path):
    suffix = uuid.uuid4().hex[:10]
    meta_db, warehouse_db = f"fr_afmeta_{suffix}", f"fr_lx_{suffix}"
    home = tmp_path / "airflow_home"
    (home / "plugins").mkdir(parents=True)  # an empty plugins folder: this test is about the DAG
    landing = _landing(tmp_path / "landing")
    output, archive = tmp_path / "outputs", tmp_path / "archive"
    port = _free_port()
    bin_dir = Path(sys.executable).parent
    airflow = str(bin_dir / "airflow")

    _create_database(meta_db)
    # the metadata DB on the embedded server: postgresql+psycopg2://postgres@/DB?host=<socket dir>&port=5432
    meta_url = connection.url_for_database(meta_db)
    assert meta_url.startswith("postgresql+psycopg2://")

    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__") and k != "AIRFLOW_HOME"}
    env.update({
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "3",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "5",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(PARALLELISM),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "16",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),  # one secret for api-server and task runners
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        # only the triggered run: no scheduled run appears when the DAG is unpaused
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        # fieldrecon: a fresh warehouse database on the embedded server, the test's folders
        "FIELDRECON_DB": warehouse_db,
        "FIELDRECON_LANDING": str(landing),
        "FIELDRECON_ARCHIVE": str(archive),
        "FIELDRECON_OUTPUT": str(output),
        "FIELDRECON_PACKS": str(output.parent / "packs"),
        "FIELDRECON_REPORTS": str(output.parent / "reports"),
    })
    env.pop("FIELDRECON_HOME", None)  # the data area (and the embedded server in it) stays the project's
    if os.environ.get("AIRFLOW_CONN_WAREHOUSE"):  # tests pointed at another PostgreSQL: a fresh DB on it
        _create_database(warehouse_db)
        url = connection.url_for_database(warehouse_db)
        env["AIRFLOW_CONN_WAREHOUSE"] = url.replace("postgresql+psycopg2://", "postgresql://", 1)

    procs: list[subprocess.Popen] = []
    logs: dict[str, Path] = {}

    def start(name: str, *args: str) -> None:
        logs[name] = tmp_path / f"{name}.log"
        out = open(logs[name], "wb")  # the child keeps its own descriptor
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

        run_id = f"local_executor_{suffix}"
        triggered = api.call("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {
            "dag_run_id": run_id, "logical_date": None, "conf": {"business_date": BUSINESS_DATE.isoformat()},
        })
        assert triggered["dag_run_id"] == run_id

        def finished():
            state = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
            return state if state in ("success", "failed") else None

        state = _wait("the DAG run to finish", finished, RUN_TIMEOUT, diagnostics, interval=2)
        r = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        assert r.status_code == 200, r.text
        tis = r.json()["task_instances"]
        states = {t["task_id"]: t["state"] for t in tis}
        assert state == "success", f"run ended {state}: {states}\n{diagnostics()}"
        assert set(states.values()) == {"success"}, states
        assert len([t for t in states if t.startswith(LOAD_TASKS)]) == 10

        loads = {t["task_id"]: (_parse(t["start_date"]), _parse(t["end_date"])) for t in tis
                 if t["task_id"].startswith(LOAD_TASKS)}
        pairs = overlapping_pairs(loads)
        timeline = "\n".join(f"{k}: {s:%H:%M:%S.%f} - {e:%H:%M:%S.%f}" for k, (s, e) in sorted(loads.items(), key=lambda x: x[1]))
        peak = max(sum(1 for s, e in loads.values() if s <= t0 < e) for t0, _ in loads.values())
        print(f"load tasks (peak {peak} at once, {len(pairs)} overlapping pairs):\n{timeline}")
        assert len(pairs) >= 1 and peak >= 2, f"no two load tasks overlapped:\n{timeline}"

        summary_path = output / BUSINESS_DATE.isoformat() / "run_summary.json"
        assert summary_path.exists(), sorted(str(p) for p in output.rglob("*"))
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        assert summary["business_date"] == BUSINESS_DATE.isoformat()
        assert summary["files"]["loaded"] == 2
    finally:
        _stop(procs)
        if not os.environ.get("FIELDRECON_KEEP_TEST_DB"):
            for name in (meta_db, warehouse_db):
                _drop_database(name)
