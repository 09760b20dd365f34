"""Statutory leave types (extracts.md, 请假类型: 婚假, 产假, 陪产假, 丧假, 育儿假): a real attendance
extract with each of them loads without quarantine and, once approved, excuses the day; a pending
or rejected one does not. The demo generator's independent contract knows them too."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from fieldrecon_demo import contract as demo_contract

from fieldrecon.ingest import loader, pull
from fieldrecon.recon.rules import run_family
from tests.factories import clear, findings, put

pytestmark = pytest.mark.db

STATUTORY = ("婚假", "产假", "陪产假", "丧假", "育儿假")
BD = dt.date(2026, 11, 3)
HEADER = "工单号,工号,姓名,考勤日期,班次上班,班次下班,上班打卡,下班打卡,请假类型,请假审批状态,异常电子流状态"


@pytest.fixture(autouse=True)
def _clean(engine):
    clear(engine)
    yield


def test_demo_contract_knows_the_statutory_types():
    assert set(STATUTORY) <= set(demo_contract.ENUMS["请假类型"])


def test_statutory_leave_loads_and_excuses_once_approved(engine, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    lines = [HEADER]
    # one engineer per type; each has an approved day (excused), a pending day and a rejected day
    for i, kind in enumerate(STATUTORY):
        for day, approval in ((2, "已通过"), (3, "审批中")):
            lines.append(f"Z1,E{i},工程师{i},2026-11-0{day},08:30,17:30,,,{kind},{approval},无")
        lines.append(f"Z1,E{i},工程师{i},2026-10-30,08:30,17:30,,,{kind},已驳回,无")
    (landing / "netcare_resident_attendance_20261103.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    pull.pull(engine, landing, tmp_path / "archive")
    [result] = loader.load_source(engine, "netcare_resident_attendance")
    assert (result["rows_read"], result["rows_loaded"], result["rows_quarantined"]) == (15, 15, 0)
    put(engine, "netcare_workorders", [{"ticket_no": "Z1", "ticket_type": "驻场", "status": "履行中", "region": "浙江",
                                        "customer_name": "某银行", "created_at": dt.datetime(2026, 10, 1)}], BD)
    run_family(engine, "attendance", BD)
    ra01 = {(f["engineer_id"], f["day"]) for f in findings(engine, BD, "RA-01")}
    expected = {(f"E{i}", d) for i in range(len(STATUTORY)) for d in (dt.date(2026, 11, 3), dt.date(2026, 10, 30))}
    assert ra01 == expected  # the approved Nov 2 of every type is excused
    with engine.connect() as c:
        loaded = set(c.execute(sa.text(
            "select leave_type from staging.netcare_resident_attendance(cast(:a as timestamp))"),
            {"a": dt.datetime(2026, 11, 4)}).scalars())
    assert loaded == set(STATUTORY)
