"""Shared fixtures: a real PostgreSQL (embedded by default, or AIRFLOW_CONN_WAREHOUSE's server),
with a fresh database per test module so tests never see each other's rows."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

from fieldrecon import sql, warehouse


def _admin_url() -> str:
    return warehouse.url_for_database("postgres")


def _db_url(name: str) -> str:
    return warehouse.url_for_database(name)


@pytest.fixture(scope="module")
def engine():
    """A freshly created and migrated warehouse database, dropped after the module."""
    name = f"fr_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'create database "{name}"'))
    eng = sa.create_engine(_db_url(name))
    sql.migrate(eng)
    from fieldrecon import calendar as workcal

    workcal.refresh(eng)
    yield eng
    eng.dispose()
    if not os.environ.get("FIELDRECON_KEEP_TEST_DB"):
        with admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()
