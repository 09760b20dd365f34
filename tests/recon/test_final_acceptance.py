"""Final 驻场 acceptance (rulebook, PO section): a resident acceptance whose period is exactly the
line's service period covers the line's last cycle only, in the cycle states, PO-02, the acceptance
to-do (one pack per to-do item) and the revenue view; a 维保 whole-period acceptance still covers all."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fieldrecon.recon.rules import run_family
from tests.factories import clear, findings, put

pytestmark = pytest.mark.db

D = dt.date
BD = D(2026, 11, 3)


def line(po_line_no, service_type, start, end, amount) -> dict:
    return {"po_no": "PO1", "po_line_no": po_line_no, "service_type": service_type, "region": "浙江",
            "quantity": Decimal(1), "line_amount": Decimal(amount), "service_start": start, "service_end": end,
            "issued_on": D(2026, 6, 20), "po_status": "已接收", "customer_name": "某银行"}


def acc(no, po_line_no, start, end, approval, amount) -> dict:
    return {"acceptance_no": no, "po_no": "PO1", "po_line_no": po_line_no, "period_start": start, "period_end": end,
            "amount": Decimal(amount), "approval": approval, "remark": f"验收周期:{start:%Y-%m-%d}至{end:%Y-%m-%d}"}


@pytest.fixture(autouse=True)
def _clean(engine):
    clear(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.cycle_schedule"))
    yield


def test_final_resident_acceptance_covers_the_last_cycle_only(engine):
    put(engine, "isc_po_lines", [
        line(1, "驻场", D(2026, 7, 1), D(2026, 9, 30), "9200.00"),  # 92 days, 100.00 a day
        line(2, "维保", D(2026, 7, 1), D(2026, 9, 30), "9200.00"),
        line(3, "驻场", D(2026, 10, 5), D(2026, 10, 20), "1600.00"),  # shorter than a month: one cycle
    ], D(2026, 11, 1))
    put(engine, "isc_acceptances", [
        acc("A1", 1, D(2026, 7, 1), D(2026, 7, 31), "已通过", "3100.00"),
        acc("A3", 1, D(2026, 7, 1), D(2026, 9, 30), "审批中", "3000.00"),  # the final acceptance
        acc("B1", 2, D(2026, 7, 1), D(2026, 9, 30), "审批中", "9200.00"),  # 维保: covers every month
        acc("C1", 3, D(2026, 10, 5), D(2026, 10, 20), "已通过", "1600.00"),
    ], D(2026, 11, 1))
    run_family(engine, "po", BD)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select po_line_no, cycle_start, state, cycle_amount, submitted_acceptances from mart.cycle_schedule "
            "where business_date = :d order by po_line_no, cycle_start"), {"d": BD}).all()
        todo = conn.execute(sa.text("select * from mart.acceptance_todo(:d)"), {"d": BD}).mappings().all()
        revenue = {r["month"]: r for r in conn.execute(sa.text("select * from mart.revenue(:d)"), {"d": BD}).mappings()}
    assert [(r.po_line_no, r.cycle_start, r.state, r.submitted_acceptances) for r in rows] == [
        (1, D(2026, 7, 1), "accepted", []),
        (1, D(2026, 8, 1), "due", []),
        (1, D(2026, 9, 1), "submitted", ["A3"]),
        (2, D(2026, 7, 1), "submitted", ["B1"]),
        (2, D(2026, 8, 1), "submitted", ["B1"]),
        (2, D(2026, 9, 1), "submitted", ["B1"]),
        (3, D(2026, 10, 5), "accepted", []),
    ]
    # August: deadline Sep 7 (5th working day after Aug 31) is past -> PO-02; September is submitted
    po = {(f["rule_code"], f["po_line_no"], f["cycle_start"]) for f in findings(engine, BD)
          if f["rule_code"] in ("PO-02", "PO-03")}
    assert po == {("PO-02", 1, D(2026, 8, 1))}
    assert [(t["po_line_no"], t["cycle_start"], t["cycle_state"], t["amount"]) for t in todo] == [
        (1, D(2026, 8, 1), "due", Decimal("3100.00"))]
    assert revenue["2026-08"]["outstanding_amount"] == Decimal("3100.00")
    assert revenue["2026-09"]["submitted_amount"] == Decimal("3000.00") + Decimal("3000.00")
    assert revenue["2026-07"]["accepted_amount"] == Decimal("3100.00")
