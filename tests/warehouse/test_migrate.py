"""Migrations you can trust: an applied migration that changed stops the run naming the file, and a
warehouse migrated at an older commit, upgraded, has the same functions and views as a fresh one."""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest
import sqlalchemy as sa

from fieldrecon.settings import PROJECT_ROOT, SQL_DIR
from fieldrecon.warehouse import connection, migrate

pytestmark = pytest.mark.db

OLD_COMMIT = "4e41aef"  # PO family landed; V002, V003 and V030 were edited after it


@pytest.fixture()
def sql_copy(tmp_path, monkeypatch):
    copy = tmp_path / "sql"
    shutil.copytree(SQL_DIR, copy)
    monkeypatch.setattr(migrate, "SQL_DIR", copy)
    return copy


def test_checksums_recorded(engine):
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("select version, sha256 from ops.schema_migrations")).all())
    files = {p.stem: migrate.sha256(p) for p in (SQL_DIR / "migrations").glob("V*.sql")}
    assert rows == files


def test_edited_migration_stops_the_run(engine, sql_copy):
    path = sql_copy / "migrations" / "V001__schemas_and_ops.sql"
    path.write_text(path.read_text(encoding="utf-8") + "\n-- an edit after shipping\n", encoding="utf-8")
    with pytest.raises(migrate.ChangedMigration, match=r"V001__schemas_and_ops\.sql was changed"):
        migrate.migrate(engine)


def test_first_sight_records_the_current_sha(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("update ops.schema_migrations set sha256 = null where version = 'V002__raw_tables'"))
    migrate.migrate(engine)
    with engine.connect() as conn:
        got = conn.execute(sa.text("select sha256 from ops.schema_migrations where version = 'V002__raw_tables'")).scalar()
    assert got == migrate.sha256(SQL_DIR / "migrations" / "V002__raw_tables.sql")


DEFINITIONS = """
select p.oid::regprocedure::text as name, pg_get_functiondef(p.oid) as body
from pg_proc as p
inner join pg_namespace as n on n.oid = p.pronamespace
where n.nspname in ('ops', 'raw', 'staging', 'recon', 'mart') and p.prokind = 'f'
union all
select c.oid::regclass::text, pg_get_viewdef(c.oid)
from pg_class as c
inner join pg_namespace as n on n.oid = c.relnamespace
where n.nspname in ('ops', 'raw', 'staging', 'recon', 'mart') and c.relkind in ('v', 'm')
"""


def _old_migrations() -> dict[str, str]:
    try:
        names = subprocess.run(["git", "-C", str(PROJECT_ROOT), "ls-tree", "--name-only", OLD_COMMIT,
                                "include/sql/migrations/"], check=True, capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip(f"commit {OLD_COMMIT} is not in this checkout's history")
    return {n.rsplit("/", 1)[1]: subprocess.run(["git", "-C", str(PROJECT_ROOT), "show", f"{OLD_COMMIT}:{n}"],
                                                 check=True, capture_output=True, text=True).stdout for n in names}


def test_upgraded_warehouse_has_the_functions_of_a_fresh_one(engine):
    old = _old_migrations()
    name = f"fr_test_old_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(connection.url_for_database("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    eng = sa.create_engine(connection.url_for_database(name))
    try:
        with eng.begin() as conn:  # what the runner of that commit did: no checksums
            conn.execute(sa.text("create schema if not exists ops"))
            conn.execute(sa.text("create table ops.schema_migrations "
                                 "(version text primary key, applied_at timestamptz not null default now())"))
            for file_name, text in sorted(old.items()):
                migrate.execute_script(conn, text)
                conn.execute(sa.text("insert into ops.schema_migrations (version) values (:v)"),
                             {"v": file_name.removesuffix(".sql")})
        migrate.migrate(eng)
        with eng.connect() as conn:
            upgraded = dict(conn.execute(sa.text(DEFINITIONS)).all())
        with engine.connect() as conn:
            fresh = dict(conn.execute(sa.text(DEFINITIONS)).all())
        assert "mart.acceptance_todo(date)" in fresh and "mart.revenue(date)" in fresh
        assert upgraded.keys() == fresh.keys()
        assert [k for k in fresh if upgraded[k] != fresh[k]] == []
    finally:
        eng.dispose()
        with admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()
