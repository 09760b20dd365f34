"""Great Expectations once per run on the warehouse (the poison-pill landing): a checkpoint, Data
Docs in the run's outputs linked from run_summary.json, failed expectations as warnings. System:
importing GX and validating 20 assets takes a while."""

from __future__ import annotations

import pytest

from fieldrecon.warehouse import connection
from tests.ingest.test_poison_pills import DAY, make_world

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def world(engine, tmp_path_factory):
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
