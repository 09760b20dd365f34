"""Shared fixtures: a real PostgreSQL (embedded by default, or AIRFLOW_CONN_WAREHOUSE's server),
with a fresh database per test module so tests never see each other's rows."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from fieldrecon.warehouse import connection, migrate


def _admin_url() -> str:
    return connection.url_for_database("postgres")


def _db_url(name: str) -> str:
    return connection.url_for_database(name)


@pytest.fixture(scope="module")
def engine():
    """A freshly created and migrated warehouse database, dropped after the module."""
    name = f"fr_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    eng = sa.create_engine(_db_url(name))
    migrate.migrate(eng)
    from fieldrecon.warehouse import workdays

    workdays.refresh(eng)
    yield eng
    eng.dispose()
    if not os.environ.get("FIELDRECON_KEEP_TEST_DB"):
        with admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


KINDS = ("unit", "db", "system")


def pytest_configure(config):
    """With parallel workers (bin/test runs pytest-xdist), start the embedded server once, here in
    the controller, before the workers ask for it at the same time."""
    parallel = getattr(config.option, "numprocesses", None)
    if parallel and not hasattr(config, "workerinput") and not os.environ.get("AIRFLOW_CONN_WAREHOUSE"):
        connection.embedded_server()


# the longest modules start first, so that parallel workers do not end on them (`--dist loadfile`
# hands out modules in collection order)
FIRST = ("tests/system/test_celery_executor.py", "tests/system/test_backfill_order.py",
         "tests/system/test_browser_e2e.py")


def pytest_collection_modifyitems(config, items):
    """Every test says what it needs (exactly one of unit / db / system), and a unit test never
    asks for the database: that keeps `pytest -m unit` a fast inner loop."""
    items.sort(key=lambda item: next((i for i, m in enumerate(FIRST) if item.nodeid.startswith(m)), len(FIRST)))
    for item in items:
        kinds = [k for k in KINDS if item.get_closest_marker(k)]
        if len(kinds) != 1:
            raise pytest.UsageError(f"{item.nodeid}: mark it with exactly one of {KINDS} (has {kinds})")
        if kinds == ["unit"] and "engine" in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(f"{item.nodeid}: a unit test uses the database fixture; mark it db")
