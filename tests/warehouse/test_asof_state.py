"""The night's shared as-of state (`warehouse.asof_state`): each source's `staging.<source>(as_of)`
computed once and read by every step, recomputed when a file loads, never replaced or dropped under
a reader, and a step that cannot have it computes its own (same rows either way)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldrecon.recon import rules
from fieldrecon.warehouse import asof_state
from tests import factories

pytestmark = pytest.mark.db

AS_OF = dt.datetime(2026, 11, 3)


def _engineer(i: int, region: str = "浙江") -> dict:
    return {"engineer_id": f"E{i}", "engineer_name": f"工程师{i}", "region": region}


def _rows(conn: sa.Connection, relation: str) -> list[tuple]:
    return sorted(tuple(r) for r in conn.execute(sa.text(f"select engineer_id, region from {relation}")))


def _oid(conn: sa.Connection, table: str):
    return conn.execute(sa.text("select to_regclass(:t)::oid"), {"t": table}).scalar()


def test_computed_once_recomputed_when_a_file_loads_and_kept_from_a_reader(engine):
    factories.clear(engine)
    asof_state.sweep(engine)
    factories.put(engine, "timesheet_engineers", [_engineer(1), _engineer(2)], extract_date=dt.date(2026, 11, 1))
    with engine.begin() as conn:
        table = asof_state.attach(conn, "timesheet_engineers", AS_OF)
        assert table == "asof.timesheet_engineers_202611030000"
        first = _oid(conn, table)
        assert _rows(conn, table) == _rows(conn, "staging.timesheet_engineers(timestamp '2026-11-03')")
    with engine.begin() as conn:  # nothing loaded since: the same table
        assert asof_state.attach(conn, "timesheet_engineers", AS_OF) == table and _oid(conn, table) == first
    # a newer extract (visible as of 11-03) loads: the next step gets the state with it
    factories.put(engine, "timesheet_engineers", [_engineer(1, "江苏")], extract_date=dt.date(2026, 11, 2))
    with engine.connect() as reader, reader.begin():
        assert asof_state.attach(reader, "timesheet_engineers", AS_OF) == table
        assert _oid(reader, table) != first
        assert _rows(reader, table) == [("E1", "江苏"), ("E2", "浙江")]
        # while it is being read: a file loads, and another step may not replace the table under the reader
        factories.put(engine, "timesheet_engineers", [_engineer(3)], extract_date=dt.date(2026, 11, 2), delivery_no=2)
        with engine.begin() as other:
            assert asof_state.attach(other, "timesheet_engineers", AS_OF) is None
            rules.materialise_staging(other, AS_OF, ["timesheet_engineers"], shared=True)  # computes its own
            # the second delivery of 11-02 replaces the first: E1 as of 11-01 again, and E3
            assert _rows(other, "timesheet_engineers") == [("E1", "浙江"), ("E2", "浙江"), ("E3", "浙江")]
        assert asof_state.sweep(engine) == 0  # nor drop it
        assert _rows(reader, table) == [("E1", "江苏"), ("E2", "浙江")]
    assert asof_state.sweep(engine) == 1
    with engine.connect() as conn:
        assert _oid(conn, table) is None


def test_a_steps_view_reads_the_shared_rows_and_the_day_before_is_its_own_table(engine):
    factories.clear(engine)
    asof_state.sweep(engine)
    factories.put(engine, "timesheet_engineers", [_engineer(1)], extract_date=dt.date(2026, 11, 1))
    factories.put(engine, "timesheet_engineers", [_engineer(1, "江苏")], extract_date=dt.date(2026, 11, 2))
    with engine.begin() as conn:
        rules.materialise_staging(conn, AS_OF, ["timesheet_engineers"], shared=True)
        assert _rows(conn, "timesheet_engineers") == [("E1", "江苏")]
        with conn.begin_nested() as sp:  # the day before, as `previous_day` evaluates it, then rolled back
            rules.materialise_staging(conn, AS_OF - dt.timedelta(days=1), ["timesheet_engineers"], shared=True)
            assert _rows(conn, "timesheet_engineers") == [("E1", "浙江")]
            sp.rollback()
        assert _rows(conn, "timesheet_engineers") == [("E1", "江苏")]
        rules.materialise_staging(conn, AS_OF, ["timesheet_engineers"])  # a private table replaces the view
        assert _rows(conn, "timesheet_engineers") == [("E1", "江苏")]
    with engine.connect() as conn:
        names = conn.execute(sa.text("select tablename from pg_tables where schemaname = 'asof' order by 1")).scalars().all()
    assert names == ["timesheet_engineers_202611020000", "timesheet_engineers_202611030000"]
    assert asof_state.sweep(engine) == 2


def test_a_session_whose_view_of_an_outdated_table_is_left_from_before_gets_the_new_state(engine):
    """Temp views outlive their transaction in a pooled session: the next step on that session, after
    a file loaded, replaces the table (and the view with it) instead of waiting on itself."""
    factories.clear(engine)
    asof_state.sweep(engine)
    factories.put(engine, "timesheet_engineers", [_engineer(1)], extract_date=dt.date(2026, 11, 1))
    with engine.connect() as conn:
        with conn.begin():
            rules.materialise_staging(conn, AS_OF, ["timesheet_engineers"], shared=True)
        factories.put(engine, "timesheet_engineers", [_engineer(2)], extract_date=dt.date(2026, 11, 2))
        with conn.begin():
            rules.materialise_staging(conn, AS_OF, ["timesheet_engineers"], shared=True)
            assert _rows(conn, "timesheet_engineers") == [("E1", "浙江"), ("E2", "浙江")]
            assert conn.execute(sa.text("select relkind from pg_class where relname = 'timesheet_engineers' "
                                        "and relnamespace = pg_my_temp_schema()")).scalar() == "v"
    assert asof_state.sweep(engine) == 1
