"""End to end: the README's main command runs the nightly DAG in-process (dag.test) on generated
messy extracts; the demo generator's injected violations are all found and nothing else; every
file's counts match what the generator wrote; a rerun changes nothing; an earlier date after a
later one sees only the extracts dated up to it."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
import uuid

import openpyxl
import pytest
import sqlalchemy as sa
from fieldrecon_demo import generate

from fieldrecon.contract import SOURCES
from fieldrecon.warehouse import connection

pytestmark = pytest.mark.system

KEYS = ["rule_code", "ticket_no", "engineer_id", "day", "rfc_no", "task_no", "po_no", "po_line_no",
        "cycle_start", "acceptance_no", "month"]


def identity(f: dict) -> tuple:
    values = tuple("" if f.get(k) in (None, "") else str(f[k]) for k in KEYS)
    return values + ((f.get("region") or "",) if f["rule_code"] == "PO-06" else ("",))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    landing, output = tmp / "landing", tmp / "outputs"
    manifest = generate(landing)
    db = f"fr_e2e_{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, FIELDRECON_DB=db, FIELDRECON_ARCHIVE=str(tmp / "archive"),
               AIRFLOW_HOME=str(tmp / "airflow"), FIELDRECON_LOG="WARNING")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "fieldrecon", "run", "--landing", str(landing),
                               "--output", str(output), *args], env=env, capture_output=True, text=True, timeout=900)

    eng = sa.create_engine(connection.url_for_database(db))
    yield {"landing": landing, "output": output, "manifest": manifest, "run": run, "engine": eng}
    eng.dispose()
    admin = sa.create_engine(connection.url_for_database("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'drop database if exists "{db}" with (force)'))


def staging_hashes(eng, as_of: str) -> dict[str, str]:
    out = {}
    with eng.connect() as c:
        for s in SOURCES:
            rows = c.execute(sa.text(f"select * from staging.{s}(cast(:a as timestamp)) order by 1, 2"), {"a": as_of}).all()
            out[s] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return out


def test_main_command_on_demo_data(world):
    m = world["manifest"]
    first = world["run"]()
    assert first.returncode == 0, first.stderr[-4000:]
    business_date = m["end_date"]
    out = world["output"] / business_date
    assert {"findings.csv", "exceptions.xlsx", "quarantine.xlsx", "run_summary.json", "acceptance_todo.csv"} <= {
        p.name for p in out.iterdir()}

    # every injected violation is found, and nothing else
    with (out / "findings.csv").open(encoding="utf-8-sig") as f:
        got = {identity(r) for r in csv.DictReader(f)}
    assert got == {identity(f) for f in m["expected_findings"]}

    # every file accounted for exactly as the generator wrote it
    summary = json.loads((out / "run_summary.json").read_text(encoding="utf-8"))
    per_file = {f["file_name"]: f for f in summary["per_file"]}
    for f in m["files"]:
        g = per_file[f["name"]]
        if f["kind"] in ("extract", "redelivery"):
            assert (g["status"], g["rows_read"], g["rows_quarantined"], g["rows_duplicate"]) == (
                "loaded", f["rows"], f["quarantined"], f["duplicates"]), f["name"]
            assert g["rows_read"] == g["rows_loaded"] + g["rows_quarantined"] + g["rows_duplicate"]
        else:
            assert g["status"] == {"repeat": "repeat", "unrecognised": "unrecognised", "rejected": "rejected"}[f["kind"]]
    rejected = [f for f in m["files"] if f["kind"] == "rejected"]
    assert [f["file_name"] for f in summary["rejected_files"]] == [f["name"] for f in rejected]
    assert summary["files"]["unrecognised"] == sum(f["kind"] == "unrecognised" for f in m["files"])

    # the clerks' quarantine workbook shows the quarantined rows and the rejected file
    wb = openpyxl.load_workbook(out / "quarantine.xlsx")
    assert wb["隔离行"].max_row - 1 >= sum(f["quarantined"] for f in m["files"])
    listed = {r[0]: r[3] for r in wb["文件清单"].iter_rows(min_row=2, values_only=True)}
    assert listed[rejected[0]["name"]] == "整文件拒收"
    sheets = openpyxl.load_workbook(out / "exceptions.xlsx").sheetnames
    assert sheets[0] == "汇总" and "规则说明" in sheets and "验收待办" in sheets

    # a rerun of the same date changes no staging row and no finding
    as_of = summary["as_of"]
    before = staging_hashes(world["engine"], as_of)
    findings_before = (out / "findings.csv").read_bytes()
    again = world["run"]()
    assert again.returncode == 0, again.stderr[-4000:]
    assert staging_hashes(world["engine"], as_of) == before
    assert (out / "findings.csv").read_bytes() == findings_before


def test_earlier_date_after_later_sees_only_its_extracts(world):
    earlier = "2026-11-06"
    done = world["run"]("--business-date", earlier)
    assert done.returncode == 0, done.stderr[-4000:]
    summary = json.loads((world["output"] / earlier / "run_summary.json").read_text(encoding="utf-8"))
    newest = [s["newest_extract_date"] for s in summary["sources"].values() if s["newest_extract_date"]]
    assert newest and max(newest) <= earlier
    assert all(f["extract_date"] is None or f["extract_date"] <= earlier for f in summary["per_file"])
