"""Great Expectations once per run on the warehouse (the poison-pill landing): a checkpoint, Data
Docs in the run's outputs linked from run_summary.json, failed expectations as warnings. System:
importing GX and validating 20 assets takes a while. The typed as-of state GX reads is the night's shared
state (warehouse.asof_state), or when that cannot be had its own in gx_work; gx_work is empty after the
checkpoint, whether the checkpoint ran or failed."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldrecon import dates
from fieldrecon.contract import SOURCES
from fieldrecon.ingest import gx_checks
from fieldrecon.warehouse import connection
from tests.ingest.test_poison_pills import DAY, make_world

pytestmark = pytest.mark.system
OTHER_DAY = DAY - dt.timedelta(days=30)


@pytest.fixture(scope="module")
def world(engine, tmp_path_factory):
    with engine.begin() as c:  # left by a run of the same date killed mid-checkpoint, in another shape
        c.execute(sa.text(f"create unlogged table {gx_checks.typed_table(SOURCES['netcare_punches'], DAY)} (x int)"))
        # and by a killed run of a date that is never run again
        c.execute(sa.text(f"create unlogged table {gx_checks.typed_table(SOURCES['netcare_rfcs'], OTHER_DAY)} (x int)"))
    mp, w = make_world(engine, tmp_path_factory, gx="on")
    yield w
    mp.undo()
    connection.engine.cache_clear()


def test_great_expectations_checkpoint_with_data_docs_in_the_outputs(world):
    """GX runs once per run on the warehouse; a failed expectation is a warning, and the Data Docs
    are in the run's outputs, linked from run_summary.json."""
    s = world["summary"]
    gx = s["great_expectations"]
    assert gx["validations"] == 20 and "error" not in gx
    assert s["data_docs"] == "data_docs/index.html"
    assert (world["tmp"] / "out" / DAY.isoformat() / "data_docs" / "index.html").is_file()
    failed = {(f["suite"], f["expectation"]) for f in gx["failed_expectations"]}
    assert ("netcare_rfcs.typed", "expect_column_max_to_be_between") in failed  # its newest extract was empty
    assert ("netcare_punches.typed", "expect_column_max_to_be_between") not in failed
    assert any(w["code"] == "expectation_failed" and "新鲜度" in w["message"] for w in s["warnings"])


def _work_tables(engine) -> list[str]:
    with engine.connect() as c:
        return list(c.execute(sa.text("select tablename from pg_tables where schemaname = 'gx_work'")).scalars())


def test_the_materialised_state_is_gone_after_the_checkpoint(world):
    """The table a killed run left was replaced (the checkpoint ran on the right rows), and nothing stays."""
    assert "error" not in world["summary"]["great_expectations"]
    assert _work_tables(world["engine"]) == []


def test_a_date_being_checked_keeps_its_tables_and_a_free_one_is_swept(world):
    """Another date's tables go only when no run of that date holds its lock."""
    engine = world["engine"]
    other = gx_checks.typed_table(SOURCES["netcare_rfcs"], OTHER_DAY)
    name = other.split(".")[1]
    key = {"k": gx_checks.WORK_LOCK, "d": OTHER_DAY.toordinal()}
    with engine.connect() as holder:
        holder.execute(sa.text(f"create unlogged table {other} (x int)"))
        holder.execute(sa.text("select pg_advisory_lock(:k, :d)"), key)
        holder.commit()
        with gx_checks.typed_state(engine, DAY, dates.as_of(DAY).isoformat(sep=" ")):
            assert name in _work_tables(engine)
        assert _work_tables(engine) == [name]
        holder.execute(sa.text("select pg_advisory_unlock(:k, :d)"), key)
        holder.commit()
    with gx_checks.typed_state(engine, DAY, dates.as_of(DAY).isoformat(sep=" ")):
        assert name not in _work_tables(engine)
    assert _work_tables(engine) == []


def test_the_materialised_state_is_gone_when_gx_fails(world, tmp_path):
    """GX cannot reach the warehouse (a database that does not exist): the step fails, the tables go."""
    engine = world["engine"]
    url = engine.url.set(database="fr_no_such_database").render_as_string(hide_password=False)
    with pytest.raises(Exception, match="fr_no_such_database"):
        gx_checks.run(engine, url, DAY, dates.as_of(DAY).isoformat(sep=" "), tmp_path)
    assert _work_tables(engine) == []
