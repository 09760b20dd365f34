"""The production layout of docker-compose.yaml on this machine, without Docker: the CeleryExecutor
with Debian's redis-server as broker, the metadata DB and Celery result backend on the embedded
PostgreSQL (a database of their own), scheduler, dag-processor, api-server (FAB auth manager) and
two Celery worker processes. Every variable of compose's x-airflow-common is set, from compose's own
literal values where it has them; the clerk role gets exactly the permissions airflow-init grants.
Workers run in production mode (FIELDRECON_PRODUCTION): the warehouse comes from the Airflow
connection `warehouse`, never from an embedded server of their own.

One stack per test session (module-scoped fixture; an `xdist_group` keeps it on one xdist worker):
a nightly run and, beside it, a 2-date `airflow backfill create` (both dates at once) complete with tasks on both workers, their
outputs equal, byte for byte, the same dates run in-process; then a region clerk logs in, sees the
download page's menu entry, downloads a pack of their region and cannot reach another region's.
It replaces the two LocalExecutor stacks (test_local_executor.py, test_backfill_scheduler.py) and keeps
their assertions: load tasks of a run overlap; the backfill makes only backfill runs, all succeed; the
staging of each date by content hash and the exports byte for byte equal the in-process run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import shlex
import shutil
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
import yaml

from fieldrecon import settings
from fieldrecon.contract import SOURCES
from fieldrecon.dates import as_of
from fieldrecon.orchestration.runner import WAREHOUSE_POOL
from fieldrecon.warehouse import connection

pytestmark = [pytest.mark.system, pytest.mark.xdist_group("celery"),
              pytest.mark.skipif(shutil.which("redis-server") is None,
                                 reason="Debian redis-server not installed (bin/test installs it)")]

DAG_ID = "fieldrecon_nightly"
NIGHTLY = dt.date(2026, 11, 20)
BACKFILL_DATES = [dt.date(2026, 11, 18), dt.date(2026, 11, 19)]
DATES = [NIGHTLY, *BACKFILL_DATES]  # the in-process reference runs them one after the other, in this order
# the runbook's command: logical date D 02:00 local is business date D
BACKFILL = ["backfill", "create", "--dag-id", DAG_ID,
            "--from-date", f"{BACKFILL_DATES[0]}T02:00:00+08:00", "--to-date", f"{BACKFILL_DATES[-1]}T02:00:00+08:00",
            "--reprocess-behavior", "completed", "--max-active-runs", "2"]
WORKERS = ("worker-a", "worker-b")
CONCURRENCY = 2  # task slots per worker (2 cores here)
STALL_TIMEOUT = 600  # seconds without any task finishing (the runs' own length depends on the load)
CLERK, CLERK_REGION = "clerk_zj", "浙江"
COMPOSE = settings.PROJECT_ROOT / "docker-compose.yaml"


# ---------------------------------------------------------------- harness (was tests/system/test_local_executor.py)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def _wait_while_progressing(what: str, predicate, progress, stall: float, diagnostics, interval: float = 3.0):
    """Wait for `predicate` as long as `progress()` keeps changing: a loaded machine makes the runs slower,
    not wrong, so only `stall` seconds without any task finishing is a failure."""
    last_change, seen, last = time.monotonic(), None, None
    while time.monotonic() - last_change < stall:
        try:
            last = predicate()
            if last:
                return last
            now = progress()
            if now != seen:
                seen, last_change = now, time.monotonic()
        except (requests.ConnectionError, requests.Timeout) as e:
            last = e
        time.sleep(interval)
    pytest.fail(f"no task finished for {stall:.0f} s while waiting for {what} (progress: {seen!r}, last: {last!r})"
                f"\n{diagnostics()}")


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


def worker_hostname() -> str:
    """[core] hostname_callable of the two workers: both run on this host, so each names itself
    (on separate hosts the default, socket.getfqdn, already differs)."""
    return os.environ.get("FR_WORKER_NAME") or socket.getfqdn()


def _compose_common_env() -> dict[str, str]:
    env = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["x-airflow-common"]["environment"]
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _compose_init_commands(prefix: str) -> list[list[str]]:
    """airflow-init's command lines that start with `prefix` (the clerk role and its permissions)."""
    text = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]["airflow-init"]["command"]
    script = text[-1] if isinstance(text, list) else text
    return [shlex.split(line.strip()) for line in script.splitlines() if line.strip().startswith(prefix)]


def _landing(folder: Path) -> dict:
    from fieldrecon_demo import generate

    return generate(folder, engineers=12, months=1, end_date=NIGHTLY, formats="csv")


def _staging_hashes(eng: sa.Engine, d: dt.date) -> dict[str, str]:
    out = {}
    with eng.connect() as c:
        for source in SOURCES:
            rows = c.execute(sa.text(
                f"select (to_jsonb(s) - 'file_id')::text from staging.{source}(:a) as s order by 1"
            ), {"a": as_of(d)}).scalars().all()
            out[source] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


def _versions_made(index: Path) -> list[dict]:
    """index.json without what records the order the runs committed in."""
    history = {"version_no", "first_business_date", "changes", "is_latest"}
    rows = [{k: v for k, v in r.items() if k not in history} for r in json.loads(index.read_text("utf-8"))]
    return sorted(rows, key=lambda r: (r["pack_key"], r["version_label"]))


def _tree(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under root."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _compose_clerk_permissions() -> set[tuple[str, str]]:
    """(action, resource) pairs airflow-init's `airflow roles add-perms clerk -a ... -r ...` grant."""
    out = set()
    for cmd in _compose_init_commands("airflow roles add-perms clerk"):
        actions, resources = [], []
        current = None
        for word in cmd[4:]:
            if word in ("-a", "--action"):
                current = actions
            elif word in ("-r", "--resource"):
                current = resources
            else:
                current.append(word)
        out |= {(a, r) for a in actions for r in resources}
    return out


def _granted(rows: list[dict], role: str) -> set[tuple[str, str]]:
    """`airflow roles list -p -o json` rows: {"name": role, "resource": r, "action": "can_read,menu_access"}."""
    return {(a, r["resource"]) for r in rows if r["name"] == role for a in r["action"].split(",") if a}


def _without_run_facts(path: Path) -> dict:
    """A run summary without what records this run as an event: durations, the run log's sequence
    number, and which files this run was the one to pull and load (the nightly and the backfill pull
    from the same landing side by side; files_visible, rows and per_file are the date's view and stay)."""
    summary = json.loads(path.read_text(encoding="utf-8"))
    for key in ("durations_seconds", "run_id", "files", "pulled", "loaded_this_run", "corrections"):
        summary.pop(key, None)
    for key in ("per_file", "rejected_files"):
        for f in summary.get(key) or []:
            f.pop("arrived_at", None)
    return summary


class Stack:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.suffix = uuid.uuid4().hex[:10]
        self.meta_db, self.warehouse_db = f"fr_cmeta_{self.suffix}", f"fr_cwh_{self.suffix}"
        self.home = tmp / "airflow_home"
        self.data = tmp / "data"  # FIELDRECON_HOME: the one folder every service shares
        self.port, self.redis_port = _free_port(), _free_port()
        self.bin = Path(sys.executable).parent
        self.airflow = str(self.bin / "airflow")
        self.procs: list[subprocess.Popen] = []
        self.logs: dict[str, Path] = {}
        self.passwords = {"admin": secrets.token_hex(8), CLERK: secrets.token_hex(8)}
        self.api = Api(self.port)
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------ configuration

    def environment(self) -> dict[str, str]:
        meta = connection.url_for_database(self.meta_db)  # postgresql+psycopg2://postgres@/DB?host=<socket>&port=N
        wh = sa.engine.make_url(connection.url_for_database(self.warehouse_db))
        warehouse_conn = json.dumps({"conn_type": "postgres", "login": wh.username, "password": wh.password,
                                     "host": wh.query.get("host") or wh.host, "port": int(wh.query.get("port") or wh.port or 5432),
                                     "schema": self.warehouse_db})
        redis_password = secrets.token_hex(12)
        self.redis_password = redis_password
        local = {  # compose's variables with this machine's values
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://:{redis_password}@127.0.0.1:{self.redis_port}/0",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(CONCURRENCY),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.port}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
            "AIRFLOW__CORE__FERNET_KEY": __import__("cryptography.fernet", fromlist=["Fernet"]).Fernet.generate_key().decode(),
            "AIRFLOW_CONN_WAREHOUSE": warehouse_conn,
            "AIRFLOW_CONN_LANDING": "",
            "AIRFLOW_CONN_SMTP_DEFAULT": "",
            "FIELDRECON_HOME": str(self.data),
            "FIELDRECON_LANDING": str(self.data / "landing"),
            "FIELDRECON_ARCHIVE": str(self.data / "archive"),
            "FIELDRECON_OUTPUT": str(self.data / "outputs"),
            "FIELDRECON_PACKS": str(self.data / "packs"),
            "FIELDRECON_REPORTS": str(self.data / "reports"),
            "FIELDRECON_CLERK_REGIONS": f"{CLERK}:{CLERK_REGION};admin:*",
            "FIELDRECON_ALERT_TO": "",
            "FIELDRECON_DIGEST_TO": "",
        }
        compose_env = _compose_common_env()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "FIELDRECON_")) and k != "AIRFLOW_HOME"}
        missing = []
        for key, value in compose_env.items():
            if key in local:
                env[key] = local[key]
            elif "${" not in value:
                env[key] = value  # compose's literal value (executor, auth manager, production mode ...)
            else:
                missing.append(key)
        assert not missing, f"compose sets {missing}: give them a local value in this test"
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor" and env["FIELDRECON_PRODUCTION"] == "true"
        env.update({
            "PATH": f"{self.bin}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join([str(settings.PROJECT_ROOT), str(settings.PROJECT_ROOT / "src"),
                                           str(settings.PROJECT_ROOT / "demo" / "src"), os.environ.get("PYTHONPATH", "")]),
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "16",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_POOL_SIZE": "3",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_MAX_OVERFLOW": "5",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{self.port}/",
            # only the runs the test makes: no scheduled run appears when the DAG is unpaused
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(_free_port()),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "tests.system.test_celery_executor.worker_hostname",
        })
        return env

    # ------------------------------------------------------------ processes

    def start(self, name: str, cmd: list[str], **extra_env: str) -> None:
        self.logs[name] = self.tmp / f"{name}.log"
        out = open(self.logs[name], "wb")
        self.procs.append(subprocess.Popen(cmd, env=self.env | extra_env, stdout=out, stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.tmp))
        out.close()

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        r = subprocess.run([self.airflow, *args], env=self.env, capture_output=True, text=True, timeout=timeout, cwd=self.tmp)
        assert r.returncode == 0, f"airflow {' '.join(args)}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        return r

    def diagnostics(self) -> str:
        parts = [_tail(p) for p in self.logs.values()]
        logs = self.home / "logs"
        for f in sorted(logs.rglob("*.log"))[-10:] if logs.exists() else []:
            if "dag_id=" in str(f):
                parts.append(_tail(f, 30))
        return "\n".join(parts)

    def up(self) -> None:
        t0 = time.monotonic()
        _create_database(self.meta_db)
        _create_database(self.warehouse_db)
        self.env = self.environment()
        self.data.mkdir(parents=True)
        self.manifest = _landing(self.data / "landing")
        self.start("redis", ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--requirepass", self.redis_password])
        self.cli("db", "migrate")
        # airflow-init of docker-compose.yaml: the clerk role with its permissions, then users and the pool
        for cmd in _compose_init_commands("airflow roles"):
            if cmd[2] in ("create", "add-perms"):
                self.cli(*cmd[1:])
        for user, role in (("admin", "Admin"), (CLERK, "clerk")):
            self.cli("users", "create", "--username", user, "--password", self.passwords[user], "--role", role,
                     "--firstname", user, "--lastname", "test", "--email", f"{user}@example.invalid")
        self.cli("pools", "set", *WAREHOUSE_POOL)
        self.timings["init (migrate, roles, users, pool)"] = time.monotonic() - t0

        self.start("api-server", [self.airflow, "api-server", "--port", str(self.port), "--host", "127.0.0.1"])
        self.start("dag-processor", [self.airflow, "dag-processor"])
        self.start("scheduler", [self.airflow, "scheduler"])
        for name in WORKERS:
            self.start(name, [self.airflow, "celery", "worker", "--celery-hostname", f"{name}@%h", "--queues", "default",
                              "--concurrency", str(CONCURRENCY), "--without-mingle", "--without-gossip"],
                       FR_WORKER_NAME=name, AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(_free_port()))
        _wait("the api-server", lambda: self.api.get("/api/v2/version").status_code == 200, 600, self.diagnostics)
        self.api.session.headers["Authorization"] = f"Bearer {self.token('admin')}"
        _wait("the DAG to be parsed", lambda: self.api.get(f"/api/v2/dags/{DAG_ID}").status_code == 200,
              240, self.diagnostics, interval=2)
        self.timings["stack up (to DAG parsed)"] = time.monotonic() - t0

    def token(self, user: str) -> str:
        r = requests.post(f"{self.api.base}/auth/token", json={"username": user, "password": self.passwords[user]},
                          timeout=30)
        assert r.status_code in (200, 201), f"login {user}: {r.status_code} {r.text}"
        return r.json()["access_token"]

    def down(self) -> None:
        _stop(self.procs)
        connection.engine.cache_clear()
        if not os.environ.get("FIELDRECON_KEEP_TEST_DB"):
            for name in (self.meta_db, self.warehouse_db):
                _drop_database(name)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("celery"))
    try:
        s.up()
        yield s
    finally:
        s.down()


@pytest.fixture(scope="module")
def runs(stack):
    """The nightly run and, beside it, the backfill: (dag runs, task instances) once all are done."""
    api = stack.api
    assert api.call("PATCH", f"/api/v2/dags/{DAG_ID}", {"is_paused": False})["is_paused"] is False

    def all_runs() -> list[dict]:
        r = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns", params={"limit": 50})
        r.raise_for_status()
        return r.json()["dag_runs"]

    def done(n):
        def check():
            current = all_runs()
            if len(current) >= n and all(r["state"] in ("success", "failed") for r in current):
                return current
            return None
        return check

    def finished_tasks() -> int:
        terminal = ("success", "failed", "upstream_failed", "skipped")
        r = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/~/taskInstances",
                    params={"limit": 1, "state": list(terminal)})
        r.raise_for_status()
        return r.json()["total_entries"]

    t0 = time.monotonic()
    run_id = f"nightly_{stack.suffix}"
    api.call("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", {
        "dag_run_id": run_id, "logical_date": None, "conf": {"business_date": NIGHTLY.isoformat()}})
    # the backfill is created while the nightly run goes on, as the data team may: the dates' outputs
    # do not depend on which ran before or beside them
    created = stack.cli(*BACKFILL, timeout=180)
    print(created.stdout[-1500:])
    finished = _wait_while_progressing("the nightly and the backfill runs", done(1 + len(BACKFILL_DATES)),
                                       finished_tasks, STALL_TIMEOUT, stack.diagnostics)
    stack.timings[f"nightly and a backfill of {len(BACKFILL_DATES)} dates (2 at a time), side by side"] = (
        time.monotonic() - t0)
    tis = []
    for r in finished:
        got = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{r['dag_run_id']}/taskInstances", params={"limit": 100})
        got.raise_for_status()
        tis += got.json()["task_instances"]
    return finished, tis


def test_nightly_and_backfill_complete_with_tasks_on_both_workers(stack, runs):
    finished, tis = runs
    states = {r["dag_run_id"]: (r["run_type"], r["state"]) for r in finished}
    assert {s for _, s in states.values()} == {"success"}, f"{states}\n{stack.diagnostics()}"
    assert sorted(rt for rt, _ in states.values()) == ["backfill"] * len(BACKFILL_DATES) + ["manual"], states
    assert {t["state"] for t in tis} == {"success"}
    by_worker: dict[str, list[str]] = {}
    for t in tis:
        by_worker.setdefault(t["hostname"], []).append(f"{t['dag_run_id'][:22]}:{t['task_id']}")
    report = "\n".join(f"{w}: {len(v)} tasks: {', '.join(sorted(v))}" for w, v in sorted(by_worker.items()))
    timings = "\n".join(f"{k}: {v:.0f} s" for k, v in stack.timings.items())
    print(f"task -> worker\n{report}\ntimings\n{timings}")
    (settings.PROJECT_ROOT / "var" / "test-artifacts").mkdir(parents=True, exist_ok=True)
    (settings.PROJECT_ROOT / "var" / "test-artifacts" / "celery_run.txt").write_text(
        f"{report}\n{timings}\n", encoding="utf-8")
    assert set(by_worker) == set(WORKERS), by_worker.keys()
    assert all(len(v) >= 5 for v in by_worker.values()), report
    # as in the LocalExecutor test: load tasks of one run truly overlap
    nightly = [t for t in tis if t["dag_run_id"].startswith("nightly_") and t["task_id"].startswith("load.")]
    loads = {t["task_id"]: (_parse(t["start_date"]), _parse(t["end_date"])) for t in nightly}
    assert len(loads) == len(SOURCES) and overlapping_pairs(loads), loads


def test_outputs_equal_the_in_process_run_byte_for_byte(stack, runs, tmp_path, monkeypatch):
    from fieldrecon import pipeline

    data = stack.data
    produced = sorted(p.name for p in (data / "outputs").iterdir() if p.is_dir())
    assert produced == sorted(d.isoformat() for d in DATES), produced
    monkeypatch.setenv("FIELDRECON_DB", stack.warehouse_db)
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    connection.engine.cache_clear()
    celery_staging = {d: _staging_hashes(connection.engine(), d) for d in DATES}
    connection.engine().dispose()

    ref_db = f"fr_cref_{stack.suffix}"
    ref = tmp_path / "ref"
    monkeypatch.setenv("FIELDRECON_DB", ref_db)
    for name in ("ARCHIVE", "PACKS", "REPORTS"):
        monkeypatch.setenv(f"FIELDRECON_{name}", str(ref / name.lower()))
    connection.engine.cache_clear()
    # the PDF font cut is cached in the data area and stamped with the time it was made (fontTools'
    # head.modified): give the reference the cut the workers made, so the comparison is of the runs
    fonts = settings.home() / "cache" / "fonts"
    fonts.mkdir(parents=True, exist_ok=True)
    for cut in (data / "cache" / "fonts").glob("*.ttf"):
        shutil.copyfile(cut, fonts / cut.name)
    t0 = time.monotonic()
    try:
        for d in DATES:
            pipeline.run_in_process(d, str(data / "landing"), str(ref / "outputs"))
        stack.timings[f"in-process reference, {len(DATES)} dates"] = time.monotonic() - t0
        ref_staging = {d: _staging_hashes(connection.engine(), d) for d in DATES}
    finally:
        connection.engine().dispose()
        connection.engine.cache_clear()
        _drop_database(ref_db)
    assert celery_staging == ref_staging
    for root in ("outputs", "packs", "reports"):
        got, want = _tree(data / root), _tree(ref / root)
        differ = sorted(k for k in set(got) | set(want) if got.get(k) != want.get(k))
        # run_summary.json is the run's operational record: it also holds step durations, file
        # arrival times (wall clock) and which run pulled a file; everything else in it must be equal
        # the store's index.json is its history: which of two backfill dates running side by side
        # committed a pack's version first (its number, first date, changes) is the order of events;
        # what each version is, and which dates produced it, must be equal
        assert all(k.endswith("/run_summary.json") or k == "index.json" for k in differ), f"{root}: {differ[:20]}"
        for k in differ:
            if k == "index.json":
                assert _versions_made(data / root / k) == _versions_made(ref / root / k)
            else:
                assert _without_run_facts(data / root / k) == _without_run_facts(ref / root / k), k
    assert any(len((ref / "outputs" / d.isoformat() / "findings.csv").read_bytes().splitlines()) > 1 for d in DATES)
    assert _tree(data / "packs"), "no acceptance pack was made"


def test_region_clerk_sees_the_menu_entry_downloads_own_pack_and_not_another_regions(stack, runs):
    base = stack.api.base
    clerk = requests.Session()
    clerk.headers["Authorization"] = f"Bearer {stack.token(CLERK)}"
    # the role holds exactly what airflow-init grants
    out = stack.cli("roles", "list", "-p", "-o", "json").stdout
    rows = json.loads(next(ln for ln in reversed(out.splitlines()) if ln.startswith("[{")))  # after CLI warnings
    granted = _granted(rows, "clerk")
    print("clerk role:", sorted(granted))
    assert granted == _compose_clerk_permissions(), (granted, _compose_clerk_permissions())
    # the menu entry: the UI builds the nav from the plugins endpoint
    r = clerk.get(f"{base}/api/v2/plugins", timeout=30)
    assert r.status_code == 200, r.text
    views = [v for p in r.json()["plugins"] for v in p.get("external_views", [])]
    assert any(v["name"] == "验收包下载" for v in views), views
    # nothing else of Airflow
    assert clerk.get(f"{base}/api/v2/dags", timeout=30).status_code == 403
    assert clerk.get(f"{base}/api/v2/connections", timeout=30).status_code == 403
    # the page and the clerk's packs
    page = clerk.get(f"{base}/fieldrecon/", timeout=60)
    assert page.status_code == 200 and "验收包" in page.text, page.status_code
    listed = clerk.get(f"{base}/fieldrecon/api/packs", timeout=60).json()
    assert listed["regions"] == [CLERK_REGION] and listed["packs"], listed
    assert {p["region"] for p in listed["packs"]} == {CLERK_REGION}
    pack = listed["packs"][0]
    got = clerk.get(f"{base}/fieldrecon/{pack['url']}", timeout=60)
    assert got.status_code == 200 and got.content[:2] == b"PK", (pack["url"], got.status_code)
    # another region's pack: present on disk, refused to this clerk
    other = next(p for p in sorted((stack.data / "packs").rglob("*.zip")) if p.relative_to(stack.data / "packs").parts[0] != CLERK_REGION)
    rel = other.relative_to(stack.data / "packs").as_posix()
    denied = clerk.get(f"{base}/fieldrecon/files/packs/{rel}", timeout=60)
    assert denied.status_code in (403, 404), denied.status_code
    admin = stack.api.get("/fieldrecon/api/packs")
    assert len(admin.json()["packs"]) > len(listed["packs"])
