"""The product CLI never writes into a landing folder: demo extracts come only from the separate
demo package (bin/run-nightly calls it for the default folder)."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldrecon import __main__ as cli

pytestmark = pytest.mark.unit


def test_run_on_an_empty_landing_writes_nothing_into_it(tmp_path, monkeypatch, capsys):
    landing, output = tmp_path / "landing", tmp_path / "out"
    landing.mkdir()
    seen = {}

    def run_dag(business_date):  # the DAG run itself is covered by the system tests
        seen["landing_files"] = sorted(p.name for p in landing.iterdir())
        (output / business_date.isoformat()).mkdir(parents=True)
        return {"business_date": business_date.isoformat()}

    from fieldrecon.orchestration import runner

    monkeypatch.setattr(runner, "run_dag", run_dag)
    assert cli.main(["run", "--landing", str(landing), "--output", str(output), "--business-date", "2026-11-03"]) == 0
    assert seen["landing_files"] == [] and not any(landing.iterdir())
    assert "no new file arrived" in capsys.readouterr().out


def test_run_without_landing_folder_is_an_error(tmp_path, capsys):
    assert cli.main(["run", "--landing", str(tmp_path / "missing"), "--business-date", "2026-11-03"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_newest_extract_date_comes_from_the_names(tmp_path):
    (tmp_path / "netcare_punches_20261102.csv").write_text("x")
    (tmp_path / "isc_po_lines_20261103.xlsx").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    assert cli._latest_extract_date(tmp_path) == dt.date(2026, 11, 3)
