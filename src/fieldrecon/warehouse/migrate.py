"""Running the SQL files under include/sql/: migrations (versioned, once) and models (every run).

A shipped migration is never edited: warehouses in the field have applied it. The runner keeps each
applied file's sha256 in ops.schema_migrations and stops, naming the file, when an applied one has
changed (a warehouse that applied files before checksums existed gets the current sha on first
sight). Functions and views (include/sql/staging, include/sql/functions) are re-created every run,
so their bodies are the same in an upgraded warehouse as in a fresh one; so are the reference
tables the SQL joins (`warehouse.reference`: labels, required attachments).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import sqlalchemy as sa

from fieldrecon.settings import SQL_DIR
from fieldrecon.warehouse import reference

log = logging.getLogger(__name__)
MIGRATION_LOCK = 724_001  # advisory lock key: one migrator at a time


def read(relpath: str) -> str:
    return (SQL_DIR / relpath).read_text(encoding="utf-8")


def execute_script(conn: sa.Connection, text: str) -> None:
    """Run a DDL script (several statements, dollar-quoted bodies) through the DBAPI cursor."""
    cur = conn.connection.dbapi_connection.cursor()
    cur.execute(text)
    cur.close()


class ChangedMigration(RuntimeError):
    """An applied migration file no longer has the content the warehouse applied."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def migrate(engine: sa.Engine) -> list[str]:
    """Apply include/sql/migrations/V*.sql not yet applied, then (re)create the staging models and
    functions and rewrite the reference tables."""
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
        conn.execute(sa.text("alter table ops.schema_migrations add column if not exists sha256 text"))
        done = dict(conn.execute(sa.text("select version, sha256 from ops.schema_migrations")).all())
        for path in sorted((SQL_DIR / "migrations").glob("V*.sql")):
            version, digest = path.stem, sha256(path)
            if version in done:
                if done[version] is None:  # applied before checksums were kept
                    conn.execute(sa.text("update ops.schema_migrations set sha256 = :s where version = :v"),
                                 {"s": digest, "v": version})
                elif done[version] != digest:
                    raise ChangedMigration(
                        f"migration {path.name} was changed after this warehouse applied it "
                        f"(applied sha256 {done[version][:12]}…, file now {digest[:12]}…): shipped migrations "
                        "are never edited; restore the file and put the change in a new migration"
                    )
                continue
            log.info("applying migration %s", version)
            execute_script(conn, path.read_text(encoding="utf-8"))
            conn.execute(sa.text("insert into ops.schema_migrations (version, sha256) values (:v, :s)"),
                         {"v": version, "s": digest})
            applied_now.append(version)
        # function bodies may call functions created later in this loop: checked when called
        conn.execute(sa.text("set local check_function_bodies = off"))
        for path in sorted((SQL_DIR / "staging").glob("*.sql")) + sorted((SQL_DIR / "functions").glob("*.sql")):
            execute_script(conn, path.read_text(encoding="utf-8"))
        reference.write(conn)
    return applied_now


def model_paths(folder: str) -> list[Path]:
    return sorted((SQL_DIR / folder).glob("*.sql"))
