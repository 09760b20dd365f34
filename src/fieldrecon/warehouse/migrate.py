"""Running the SQL files under include/sql/: migrations (versioned, once) and models (every run)."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa

from fieldrecon.settings import SQL_DIR

log = logging.getLogger(__name__)
MIGRATION_LOCK = 724_001  # advisory lock key: one migrator at a time


def read(relpath: str) -> str:
    return (SQL_DIR / relpath).read_text(encoding="utf-8")


def execute_script(conn: sa.Connection, text: str) -> None:
    """Run a DDL script (several statements, dollar-quoted bodies) through the DBAPI cursor."""
    cur = conn.connection.dbapi_connection.cursor()
    cur.execute(text)
    cur.close()


def migrate(engine: sa.Engine) -> list[str]:
    """Apply include/sql/migrations/V*.sql not yet applied, then (re)create the staging models."""
    applied_now: list[str] = []
    with engine.begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        conn.execute(sa.text("create schema if not exists ops"))
        conn.execute(
            sa.text(
                "create table if not exists ops.schema_migrations "
                "(version text primary key, applied_at timestamptz not null default now())"
            )
        )
        done = set(conn.execute(sa.text("select version from ops.schema_migrations")).scalars())
        for path in sorted((SQL_DIR / "migrations").glob("V*.sql")):
            version = path.stem
            if version in done:
                continue
            log.info("applying migration %s", version)
            execute_script(conn, path.read_text(encoding="utf-8"))
            conn.execute(sa.text("insert into ops.schema_migrations (version) values (:v)"), {"v": version})
            applied_now.append(version)
        for path in sorted((SQL_DIR / "staging").glob("*.sql")) + sorted((SQL_DIR / "functions").glob("*.sql")):
            execute_script(conn, path.read_text(encoding="utf-8"))
    return applied_now


def model_paths(folder: str) -> list[Path]:
    return sorted((SQL_DIR / folder).glob("*.sql"))
