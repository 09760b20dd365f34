"""PO acceptance family (issue 5): cycle schedule, PO-01…PO-09, AT-01/AT-02, to-do and revenue."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

from fieldrecon.recon.rules import run_family
from tests.factories import clear, findings, put

pytestmark = pytest.mark.db

D = dt.date
BD = D(2026, 11, 3)  # business date of most cases: as_of 2026-11-04 00:00
EXTRACT = D(2026, 11, 1)


@pytest.fixture(autouse=True)
def _clean(engine):
    clear(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.cycle_schedule"))
    yield


def line(po_no="PO1", po_line_no=1, service_type="维保", start=None, end=None, amount="1000.00", **kw) -> dict:
    row = {
        "po_no": po_no, "po_line_no": po_line_no, "service_type": service_type, "region": kw.pop("region", "浙江"),
        "quantity": Decimal("1"), "line_amount": Decimal(amount), "service_start": start, "service_end": end,
        "issued_on": kw.pop("issued_on", D(2025, 8, 1)), "po_status": kw.pop("po_status", "已接收"),
        "contract_no": kw.pop("contract_no", "HT1"), "customer_name": kw.pop("customer_name", "某银行"),
    }
    row.update(kw)
    return row


def acc(no, start, end, approval="已通过", amount="100.00", po_no="PO1", po_line_no=1, remark=None, decided=None):
    if remark is None and start and end:
        remark = f"验收周期:{start:%Y-%m-%d}至{end:%Y-%m-%d}"
    return {"acceptance_no": no, "po_no": po_no, "po_line_no": po_line_no, "period_start": start, "period_end": end,
            "amount": Decimal(amount), "approval": approval, "remark": remark, "decided_on": decided,
            "submitted_on": start}


def wo(ticket_no, ticket_type="巡检", status="已关闭", **kw) -> dict:
    row = {"ticket_no": ticket_no, "ticket_type": ticket_type, "status": status, "region": kw.pop("region", "浙江"),
           "customer_name": kw.pop("customer_name", "某银行"), "created_at": dt.datetime(2026, 9, 1, 9)}
    row.update(kw)
    return row


def schedule(engine, business_date=BD) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(
            "select * from mart.cycle_schedule where business_date = :d order by po_no, po_line_no, cycle_start"
        ), {"d": business_date})]


def cycles_of(rows, po_no="PO1", po_line_no=1):
    return [(r["cycle_start"], r["cycle_end"], r["cycle_amount"]) for r in rows
            if r["po_no"] == po_no and r["po_line_no"] == po_line_no]


def subjects(engine, code, business_date=BD) -> set:
    keys = ("ticket_no", "po_no", "po_line_no", "cycle_start", "acceptance_no", "month")
    out = set()
    for f in findings(engine, business_date, code):
        out.add((f["rule_code"], *[f[k] for k in keys if f[k] is not None]))
    return out


def prorate(amount: str, days: list[int]) -> list[Decimal]:
    """Independent reference: pro-rata by days, half-up to 0.01, remainder on the last cycle."""
    total = Decimal(amount)
    shares = [(total * d / sum(days)).quantize(Decimal("0.01"), ROUND_HALF_UP) for d in days[:-1]]
    return [*shares, total - sum(shares)]


def test_proration_awkward_amounts(engine):
    put(engine, "isc_po_lines", [
        line("PO1", 1, "维保", D(2025, 8, 15), D(2026, 7, 31), "100000.00"),
        line("PO1", 2, "维保", D(2026, 1, 1), D(2026, 3, 31), "1.00"),
    ], EXTRACT)
    run_family(engine, "po", BD)
    rows = schedule(engine)
    c1 = cycles_of(rows, "PO1", 1)
    assert [(s, e) for s, e, _ in c1][0] == (D(2025, 8, 15), D(2025, 8, 31))
    assert [(s, e) for s, e, _ in c1][-1] == (D(2026, 7, 1), D(2026, 7, 31))
    assert len(c1) == 12
    days = [(e - s).days + 1 for s, e, _ in c1]
    assert days[0] == 17 and sum(days) == 351
    assert [a for _, _, a in c1] == prorate("100000.00", days)
    assert sum(a for _, _, a in c1) == Decimal("100000.00")
    assert c1[0][2] == Decimal("4843.30")  # 100000 * 17 / 351 = 4843.304…
    c2 = cycles_of(rows, "PO1", 2)
    assert c2 == [
        (D(2026, 1, 1), D(2026, 1, 31), Decimal("0.34")),
        (D(2026, 2, 1), D(2026, 2, 28), Decimal("0.31")),
        (D(2026, 3, 1), D(2026, 3, 31), Decimal("0.35")),
    ]
    r0 = rows[0]
    assert r0["remark"] == "验收周期:2025-08-15至2025-08-31"
    assert r0["days_in_period"] == 351 and r0["cycle_no"] == 1


def test_equal_months_convention(engine):
    put(engine, "isc_po_lines", [line("PO1", 2, "维保", D(2026, 1, 1), D(2026, 3, 31), "1.00")], EXTRACT)
    run_family(engine, "po", BD, {"cycle_amount_convention": "months"})
    assert [a for _, _, a in cycles_of(schedule(engine), "PO1", 2)] == [
        Decimal("0.33"), Decimal("0.33"), Decimal("0.34")]


def test_period_under_a_month(engine):
    put(engine, "isc_po_lines", [
        line("PO1", 1, "维保", D(2026, 1, 31), D(2026, 2, 26), "270.00"),  # shorter: one cycle
        line("PO1", 2, "维保", D(2026, 1, 31), D(2026, 2, 27), "280.00"),  # a month: two partial months
        line("PO1", 3, "驻场", D(2026, 1, 31), D(2026, 2, 27), "280.00"),  # resident: merged into one
        line("PO1", 4, "驻场", D(2026, 3, 5), D(2026, 3, 20), "160.00"),  # shorter, resident
        line("PO2", 1, "维保", D(2028, 1, 31), D(2028, 2, 27), "100.00"),  # 2028: Feb 29 exists -> shorter
        line("PO2", 2, "维保", D(2028, 1, 31), D(2028, 2, 28), "290.00"),  # a month in 2028
    ], EXTRACT)
    run_family(engine, "po", BD)
    rows = schedule(engine)
    assert cycles_of(rows, "PO1", 1) == [(D(2026, 1, 31), D(2026, 2, 26), Decimal("270.00"))]
    assert cycles_of(rows, "PO1", 2) == [
        (D(2026, 1, 31), D(2026, 1, 31), Decimal("10.00")),
        (D(2026, 2, 1), D(2026, 2, 27), Decimal("270.00")),
    ]
    assert cycles_of(rows, "PO1", 3) == [(D(2026, 1, 31), D(2026, 2, 27), Decimal("280.00"))]
    assert cycles_of(rows, "PO1", 4) == [(D(2026, 3, 5), D(2026, 3, 20), Decimal("160.00"))]
    assert cycles_of(rows, "PO2", 1) == [(D(2028, 1, 31), D(2028, 2, 27), Decimal("100.00"))]
    assert cycles_of(rows, "PO2", 2) == [
        (D(2028, 1, 31), D(2028, 1, 31), Decimal("10.00")),
        (D(2028, 2, 1), D(2028, 2, 28), Decimal("280.00")),
    ]


def test_resident_merges_partial_months(engine):
    put(engine, "isc_po_lines", [
        line("PO3", 1, "驻场", D(2025, 8, 10), D(2026, 1, 31), "17500.00"),
        line("PO3", 2, "驻场", D(2025, 9, 1), D(2025, 12, 15), "10000.00"),  # partial last month
    ], EXTRACT)
    run_family(engine, "po", BD)
    rows = schedule(engine)
    c = cycles_of(rows, "PO3", 1)
    assert [(s, e) for s, e, _ in c] == [
        (D(2025, 8, 10), D(2025, 9, 30)), (D(2025, 10, 1), D(2025, 10, 31)), (D(2025, 11, 1), D(2025, 11, 30)),
        (D(2025, 12, 1), D(2025, 12, 31)), (D(2026, 1, 1), D(2026, 1, 31)),
    ]
    # 175 days: 52, 31, 30, 31, 31 -> 100 per day
    assert [a for _, _, a in c] == [Decimal("5200.00"), Decimal("3100.00"), Decimal("3000.00"),
                                    Decimal("3100.00"), Decimal("3100.00")]
    c2 = cycles_of(rows, "PO3", 2)
    assert [(s, e) for s, e, _ in c2] == [
        (D(2025, 9, 1), D(2025, 9, 30)), (D(2025, 10, 1), D(2025, 10, 31)), (D(2025, 11, 1), D(2025, 12, 15))]
    assert sum(a for _, _, a in c2) == Decimal("10000.00")


def test_leap_february_2028(engine):
    put(engine, "isc_po_lines", [line("PO4", 1, "维保", D(2027, 8, 1), D(2028, 7, 31), "36600.00")], EXTRACT)
    run_family(engine, "po", BD)
    rows = schedule(engine)
    c = cycles_of(rows, "PO4", 1)
    feb = [x for x in c if x[0] == D(2028, 2, 1)]
    assert feb == [(D(2028, 2, 1), D(2028, 2, 29), Decimal("2900.00"))]
    assert len(c) == 12 and rows[0]["days_in_period"] == 366
    assert sum(a for _, _, a in c) == Decimal("36600.00")
    assert {r["state"] for r in rows} == {"future"}
    assert findings(engine, BD, "PO-01") == []


def test_states_draft_and_spanning_acceptance(engine):
    # 维保 2026-07-01 – 2027-07-31 (396 days, 10.00 a day); as_of 2026-11-04: Jul–Oct ended.
    put(engine, "isc_po_lines", [line("PO1", 1, "维保", D(2026, 7, 1), D(2027, 7, 31), "3960.00")], EXTRACT)
    put(engine, "isc_acceptances", [
        acc("A1", D(2026, 7, 1), D(2026, 8, 31), "已通过", "2000.00"),  # spans two cycles
        acc("A2", D(2026, 9, 1), D(2026, 9, 30), "草稿", "1000.00", remark="随便写"),  # ignored everywhere
        acc("A3", D(2026, 10, 1), D(2026, 10, 31), "已驳回", "1000.00", decided=D(2026, 11, 2)),
    ], EXTRACT)
    run_family(engine, "po", BD)
    rows = schedule(engine)
    states = {r["cycle_start"]: (r["state"], r["accepted_acceptances"], r["rejected_acceptances"]) for r in rows}
    assert states[D(2026, 7, 1)] == ("accepted", ["A1"], [])
    assert states[D(2026, 8, 1)] == ("accepted", ["A1"], [])
    assert states[D(2026, 9, 1)] == ("due", [], [])
    assert states[D(2026, 10, 1)] == ("rejected", [], ["A3"])
    assert states[D(2026, 11, 1)][0] == "future"
    # Sep cycle: deadline 5 working days after Sep 30 (after the National Day holiday) has passed.
    assert subjects(engine, "PO-02") == {("PO-02", "PO1", 1, D(2026, 9, 1))}
    f = findings(engine, BD, "PO-02")[0]
    assert f["details"]["cycle_amount"] == 300.0 and f["region"] == "浙江"
    assert subjects(engine, "PO-03") == set() and subjects(engine, "PO-04") == set()
    # A line whose cycle ended on 2026-10-31 has deadline 2026-11-06: not yet a PO-02.
    assert all(r["state"] != "due" or r["cycle_start"] != D(2026, 10, 1) for r in rows)
    with engine.connect() as conn:
        todo = [dict(r._mapping) for r in conn.execute(sa.text("select * from mart.acceptance_todo(:d)"), {"d": BD})]
    assert [(t["cycle_start"], t["amount"], t["remark"], t["status"]) for t in todo] == [
        (D(2026, 9, 1), Decimal("300.00"), "验收周期:2026-09-01至2026-09-30", "ready"),
        (D(2026, 10, 1), Decimal("310.00"), "验收周期:2026-10-01至2026-10-31", "ready"),
    ]


def test_misaligned_and_remark(engine):
    put(engine, "isc_po_lines", [
        line("PO1", 1, "维保", D(2026, 8, 1), D(2027, 7, 31), "12000.00"),
        line("PO1", 2, "驻场", D(2026, 8, 10), D(2027, 1, 31), "17500.00"),
        line("PO1", 3, "巡检", None, None, "500.00"),
    ], EXTRACT)
    put(engine, "isc_acceptances", [
        acc("B1", D(2026, 8, 1), D(2026, 8, 31), "已通过", "1000.00"),  # aligned, right remark
        acc("B2", D(2026, 9, 1), D(2026, 9, 15), "审批中", "500.00"),  # ends mid-cycle: PO-03
        acc("B3", D(2026, 10, 1), D(2026, 10, 31), "审批中", "1000.00",
            remark="验收周期:2026-10-01至2026-10-30"),  # wrong dates: PO-04
        acc("B4", D(2026, 10, 1), D(2026, 10, 31), "已驳回", "1000.00",
            remark="本次验收周期：2026-10-01至2026-10-31 谢谢"),  # full-width colon is fine
        acc("B5", None, None, "已驳回", "1000.00", remark="验收周期:"),  # no period: PO-03 and PO-04
        acc("B6", D(2026, 8, 1), D(2026, 8, 31), "审批中", "1000.00", po_line_no=2),  # 驻场: starts Aug 10
        acc("B7", D(2026, 8, 10), D(2026, 10, 31), "审批中", "1000.00", po_line_no=2, remark=None),  # 驻场 ok
        acc("B8", D(2026, 8, 1), D(2026, 8, 31), "草稿", "1000.00", remark="x"),  # draft: ignored
        acc("B9", D(2026, 8, 1), D(2026, 8, 15), "审批中", "100.00", po_line_no=3, remark="x"),  # not 维保/驻场
        acc("B10", D(2026, 7, 1), D(2026, 8, 31), "审批中", "100.00", remark="验收周期:2026-07-01至2026-08-31"),
    ], EXTRACT)
    run_family(engine, "po", BD)
    assert subjects(engine, "PO-03") == {("PO-03", "B2"), ("PO-03", "B5"), ("PO-03", "B6"), ("PO-03", "B10")}
    assert subjects(engine, "PO-04") == {("PO-04", "B3"), ("PO-04", "B5")}
    f = [x for x in findings(engine, BD, "PO-03") if x["acceptance_no"] == "B2"][0]
    assert f["po_no"] is None and f["details"]["po_no"] == "PO1" and f["region"] == "浙江"


def test_over_acceptance_tolerance(engine):
    put(engine, "isc_po_lines", [
        line("PO7", 1, "巡检", None, None, "1000.00"),
        line("PO7", 2, "巡检", None, None, "1000.00"),
        line("PO7", 3, "单次", None, None, "1000.00"),
    ], EXTRACT)
    put(engine, "isc_acceptances", [
        acc("C1", None, None, "已通过", "600.00", po_no="PO7", po_line_no=1),
        acc("C2", None, None, "审批中", "400.01", po_no="PO7", po_line_no=1),  # +0.01: tolerated
        acc("C3", None, None, "已通过", "600.00", po_no="PO7", po_line_no=2),
        acc("C4", None, None, "审批中", "400.02", po_no="PO7", po_line_no=2),  # +0.02: finding
        acc("C5", None, None, "已通过", "900.00", po_no="PO7", po_line_no=3),
        acc("C6", None, None, "已驳回", "900.00", po_no="PO7", po_line_no=3),  # rejected: not counted
        acc("C7", None, None, "草稿", "900.00", po_no="PO7", po_line_no=3),  # draft: not counted
    ], EXTRACT)
    run_family(engine, "po", BD)
    assert subjects(engine, "PO-05") == {("PO-05", "PO7", 2)}
    f = findings(engine, BD, "PO-05")[0]
    assert f["details"]["excess"] == 0.02 and f["details"]["accepted"] == 600.0


def test_monthly_rejection_rate(engine):
    put(engine, "isc_po_lines", [
        line("PZ", 1, "巡检", None, None, "100000.00", region="浙江"),
        line("PS", 1, "巡检", None, None, "100000.00", region="上海"),
    ], EXTRACT)
    oct_ = D(2026, 10, 15)
    zj = [acc(f"Z{i:03d}", None, None, "已通过" if i >= 3 else "已驳回", "1.00", po_no="PZ", decided=oct_)
          for i in range(100)]  # 3 of 100 rejected: exactly 3 %, no finding
    sh = [acc(f"S{i:03d}", None, None, "已通过", "1.00", po_no="PS", decided=oct_) for i in range(32)]
    x_rejected = acc("SX", None, None, "已驳回", "1.00", po_no="PS", decided=D(2026, 10, 20))
    # an older delivery of the same extract date is replaced wholesale: its rejection does not count
    put(engine, "isc_acceptances", [acc("SY", None, None, "已驳回", "1.00", po_no="PS", decided=oct_)],
        D(2026, 10, 20), delivery_no=1)
    put(engine, "isc_acceptances", [*zj, *sh, x_rejected,
                                     acc("SY", None, None, "已通过", "1.00", po_no="PS", decided=oct_)],
        D(2026, 10, 20), delivery_no=2)
    # SX rejected in October, approved in November: one rejection in Oct, one approval in Nov.
    put(engine, "isc_acceptances", [acc("SX", None, None, "已通过", "1.00", po_no="PS", decided=D(2026, 11, 2))],
        D(2026, 11, 2))
    # an extract not yet visible for the run of 2026-11-03
    put(engine, "isc_acceptances", [acc("SZ", None, None, "已驳回", "1.00", po_no="PS", decided=D(2026, 11, 2))],
        D(2026, 11, 3) + dt.timedelta(days=1))
    run_family(engine, "po", BD)
    # 上海 2026-10: SX rejected + 33 approvals (S000–S031, SY) = 1/34 = 2.94 % -> no finding
    assert subjects(engine, "PO-06") == set()
    # one more rejection in 上海 October: 2/35 = 5.7 %
    put(engine, "isc_acceptances", [acc("SW", None, None, "已驳回", "1.00", po_no="PS", decided=oct_)],
        D(2026, 11, 3))
    run_family(engine, "po", BD)
    assert subjects(engine, "PO-06") == {("PO-06", "2026-10")}
    f = findings(engine, BD, "PO-06")[0]
    assert f["region"] == "上海" and f["details"]["decided"] == 35 and f["details"]["rejected"] == 2
    # beside it the partner-wide month: 浙江's 3 of 100 and 上海's 2 of 35 = 5 / 135
    assert (f["details"]["partner_decided"], f["details"]["partner_rejected"], f["details"]["partner_rate"]) == (
        135, 5, 0.037)
    # exactly 3 %: add 3 rejections to a 97-approval month elsewhere is the 浙江 case above (none)
    assert all(x["region"] != "浙江" for x in findings(engine, BD, "PO-06"))


def test_rejection_rate_above_three_percent_by_one(engine):
    put(engine, "isc_po_lines", [line("PZ", 1, "巡检", None, None, "100000.00", region="浙江")], EXTRACT)
    rows = [acc(f"Z{i:03d}", None, None, "已通过" if i >= 4 else "已驳回", "1.00", po_no="PZ",
                decided=D(2026, 9, 3)) for i in range(100)]  # 4 of 100: above 3 %
    put(engine, "isc_acceptances", rows, EXTRACT)
    run_family(engine, "po", BD)
    assert subjects(engine, "PO-06") == {("PO-06", "2026-09")}
    assert findings(engine, BD, "PO-06")[0]["details"]["rate"] == 0.04


def test_attachments(engine):
    put(engine, "netcare_workorders", [
        wo("WO1", "巡检", customer_name="某银行"),
        wo("WO2", "巡检", status="履行中"),  # not closed: AT-01 not yet
        wo("WO3", "单次现场服务", customer_name="星河证券"),
    ], EXTRACT)
    put(engine, "netcare_attachments", [
        {"ticket_no": "WO1", "kind": "信息收集包", "file_name": "a.zip"},
        {"ticket_no": "WO1", "kind": "TD审批邮件", "file_name": "b.msg"},
        {"ticket_no": "WO1", "kind": "现场技术服务报告", "file_name": "WO1_某银行_现场技术服务报告.docx"},
        {"ticket_no": "WO3", "kind": "现场技术服务报告", "file_name": "WO3_现场技术服务报告.docx"},  # no customer
        {"ticket_no": "WO3", "kind": "单次人天日报", "file_name": "d.xlsx"},
        {"ticket_no": "WO2", "kind": "现场技术服务报告", "file_name": "ＷＯ２_某银行.pdf"},  # NFKC match
    ], EXTRACT)
    run_family(engine, "po", BD)
    assert subjects(engine, "AT-01") == {("AT-01", "WO1")}
    assert findings(engine, BD, "AT-01")[0]["details"]["missing"] == ["健康检查报告"]
    assert subjects(engine, "AT-02") == {("AT-02", "WO3")}


def test_po01_po08_po09_and_todo(engine):
    as_of = dt.datetime(2026, 11, 4)
    put(engine, "isc_po_lines", [
        line("PO8", 1, "维保", D(2026, 8, 1), D(2027, 7, 30), "1000.00"),  # PO-01
        line("PO8", 2, "维保", D(2026, 8, 1), D(2027, 7, 31), "1000.00"),
        line("PO8", 3, "巡检", None, None, "800.00", ticket_refs="W10； Ｗ11 ;"),
        line("PO9", 1, "驻场", D(2026, 9, 1), D(2026, 12, 31), "1000.00"),
        line("PO9", 2, "单次", None, None, "100.00"),
    ], EXTRACT)
    old = as_of - dt.timedelta(days=30, seconds=1)
    put(engine, "netcare_workorders", [
        wo("W10", "巡检", closed_at=old),  # referenced (full-width semicolon)
        wo("W11", "巡检", closed_at=old),  # referenced (full-width id)
        wo("W12", "整改", closed_at=old),  # PO-08
        wo("W13", "整改", closed_at=as_of - dt.timedelta(days=30)),  # exactly 30 days: not yet
        wo("W14", "单次现场服务", closed_at=old, po_no="PO9"),  # its PO号 is an ISC line
        wo("W15", "POC", closed_at=old),  # POC never PO-08
        wo("R1", "驻场", status="履行中"),  # attendance, no PO号: PO-09
        wo("R2", "驻场", status="履行中", po_no="PO8"),  # PO8 has no 驻场 line: PO-09
        wo("R3", "驻场", status="履行中", po_no="PO9"),  # fine
        wo("R4", "驻场", status="履行中"),  # no attendance: fine
        wo("S1", "现场问题处理", contract_no="HT1", closed_at=dt.datetime(2026, 9, 10, 12)),
    ], EXTRACT)
    att = [{"ticket_no": t, "engineer_id": "E1", "work_date": D(2026, 10, 8), "shift_start": dt.time(8, 30),
            "shift_end": dt.time(17, 30)} for t in ("R1", "R2", "R3")]
    put(engine, "netcare_resident_attendance", att, EXTRACT)
    kinds = ("信息收集包", "健康检查报告", "TD审批邮件")
    put(engine, "netcare_attachments", [
        *[{"ticket_no": t, "kind": k, "file_name": f"{t}_{k}"} for t in ("W10", "W11") for k in kinds],
        {"ticket_no": "W10", "kind": "现场技术服务报告", "file_name": "W10_某银行.docx"},
        {"ticket_no": "S1", "kind": "现场技术服务报告", "file_name": "S1_某银行.docx"},
    ], EXTRACT)
    run_family(engine, "po", BD)
    assert subjects(engine, "PO-01") == {("PO-01", "PO8", 1)}
    assert subjects(engine, "PO-08") == {("PO-08", "W12")}
    assert subjects(engine, "PO-09") == {("PO-09", "R1"), ("PO-09", "R2")}
    assert ("AT-01", "W11") in subjects(engine, "AT-01")
    with engine.connect() as conn:
        todo = [dict(r._mapping) for r in conn.execute(sa.text("select * from mart.acceptance_todo(:d)"), {"d": BD})]
        revenue = [dict(r._mapping) for r in conn.execute(sa.text("select * from mart.revenue(:d)"), {"d": BD})]
    per_ticket = [t for t in todo if t["item_kind"] == "per_ticket"]
    assert [(t["po_no"], t["po_line_no"], t["amount"], t["tickets"]) for t in per_ticket] == [
        ("PO8", 3, Decimal("800.00"), ["W10", "W11"])]
    assert per_ticket[0]["status"] == "blocked: AT-01 W11"
    sep = [t for t in todo if t["po_no"] == "PO8" and t["po_line_no"] == 2 and t["cycle_start"] == D(2026, 9, 1)][0]
    assert sep["site_issue_tickets"] == ["S1"] and sep["status"] == "ready"
    po1 = [t for t in todo if t["po_no"] == "PO8" and t["po_line_no"] == 1 and t["cycle_start"] == D(2026, 9, 1)][0]
    assert po1["status"] == "blocked: PO-01"
    res = [t for t in todo if t["po_no"] == "PO9" and t["po_line_no"] == 1]
    assert [(t["cycle_start"], t["tickets"]) for t in res] == [
        (D(2026, 9, 1), ["R3"]), (D(2026, 10, 1), ["R3"])]
    by_month = {(r["region"], r["month"]): r for r in revenue}
    assert by_month[("浙江", "2026-09")]["outstanding_amount"] == sum(
        t["amount"] for t in todo if t["item_kind"] == "cycle" and t["cycle_end"] == D(2026, 9, 30))
    assert by_month[("浙江", "2026-09")]["awaiting_po_tickets"] == 0
    assert sum(r["awaiting_po_tickets"] for r in revenue) == 1


def test_rerun_is_identical(engine):
    put(engine, "isc_po_lines", [line("PO1", 1, "维保", D(2025, 8, 15), D(2026, 7, 31), "100000.00")], EXTRACT)
    put(engine, "isc_acceptances", [acc("A1", D(2025, 9, 1), D(2025, 9, 30), "审批中", "1.00")], EXTRACT)
    run_family(engine, "po", BD)
    first = (schedule(engine), findings(engine, BD))
    run_family(engine, "po", BD)
    assert (schedule(engine), findings(engine, BD)) == first
    assert len(first[1]) > 0


def test_exports_run(engine):
    from fieldrecon.settings import SQL_DIR

    put(engine, "isc_po_lines", [line("PO1", 1, "维保", D(2026, 8, 1), D(2027, 7, 31), "3650.00")], EXTRACT)
    run_family(engine, "po", BD)
    files = [SQL_DIR / "mart" / "csv" / "acceptance_todo.sql",
             *[SQL_DIR / "mart" / "sheets" / n for n in ("30_acceptance_todo.sql", "31_revenue.sql", "32_po_findings.sql")]]
    out = {}
    from fieldrecon.outputs import exports
    from fieldrecon.recon import rules

    with engine.begin() as conn:
        exports.sheet_session(conn, BD, rules.bind_params(BD))
        for path in files:
            text = path.read_text(encoding="utf-8")
            out[path.stem] = [dict(r._mapping) for r in conn.execute(sa.text(text), {"business_date": BD})]
    assert [(r["cycle_start"], r["remark"], r["status"]) for r in out["acceptance_todo"]] == [
        (D(2026, 8, 1), "验收周期:2026-08-01至2026-08-31", "ready"),
        (D(2026, 9, 1), "验收周期:2026-09-01至2026-09-30", "ready"),
        (D(2026, 10, 1), "验收周期:2026-10-01至2026-10-31", "ready"),
    ]
    assert out["30_acceptance_todo"][0]["备注（粘贴到ISC）"] == "验收周期:2026-08-01至2026-08-31"
    # per region and service type, the region's total and the partner-wide total
    assert [(r["区域"], r["服务类型"], r["可提交金额"], r["未验收合计"]) for r in out["31_revenue"]] == [
        ("浙江", "维保", Decimal("920.00"), Decimal("920.00")), ("浙江", "合计", Decimal("920.00"), Decimal("920.00")),
        ("全部", "合计", Decimal("920.00"), Decimal("920.00"))]
    assert {r["规则"] for r in out["32_po_findings"]} == {"PO-02"}
    assert all(r["处理系统"] == "ISC" and r["责任人"] == "文员" and "验收周期:" in r["问题说明"] for r in out["32_po_findings"])


def test_money_views_cover_every_service_type(engine):
    """Every amount reaches a money view: ended cycles by state, per-ticket lines (ready, blocked,
    tickets still open), 交付 lines without tickets, with region and partner-wide totals."""
    put(engine, "isc_po_lines", [
        line("PO1", 1, "维保", D(2026, 8, 1), D(2027, 7, 31), "3650.00"),
        line("PO2", 1, "巡检", amount="500.00", ticket_refs="T1;T2"),
        line("PO3", 1, "单次", amount="300.00", ticket_refs="T3", region="上海"),
        line("PO4", 1, "交付", amount="1000.00", region="上海"),
        line("PO5", 1, "整改", amount="200.00", ticket_refs="T4"),
        line("PO6", 1, "交付", amount="900.00", po_status="已取消"),
    ], EXTRACT)
    put(engine, "isc_acceptances", [
        acc("A1", D(2026, 8, 1), D(2026, 8, 31), amount="310.00"),
        acc("A2", D(2026, 9, 1), D(2026, 9, 30), approval="已驳回", amount="300.00", decided=D(2026, 10, 10)),
        acc("A3", None, None, amount="400.00", po_no="PO4", remark=""),
    ], EXTRACT)
    put(engine, "netcare_workorders", [
        wo("T1"), wo("T2"), wo("T3", "单次现场服务", region="上海"), wo("T4", "整改", status="处理中"),
    ], EXTRACT)
    for family in ("checkin", "po"):
        run_family(engine, family, BD)
    with engine.connect() as conn:
        items = [dict(r._mapping) for r in conn.execute(sa.text("select * from mart.money_items(:d)"), {"d": BD})]
        totals = {(r.region, r.service_type): dict(r._mapping)
                  for r in conn.execute(sa.text("select * from mart.money_totals(:d)"), {"d": BD})}
    got = {(i["po_no"], i["cycle_start"], i["state"], i["rejected"]): i["amount"] for i in items}
    assert got[("PO1", D(2026, 8, 1), "accepted", False)] == Decimal("310.00")
    assert got[("PO1", D(2026, 9, 1), "ready", True)] == Decimal("300.00")  # rejected, to resubmit
    assert got[("PO1", D(2026, 10, 1), "ready", False)] == Decimal("310.00")
    assert got[("PO4", None, "accepted", False)] == Decimal("400.00")
    assert got[("PO4", None, "awaiting_completion", False)] == Decimal("600.00")  # 交付: no ticket, no cycle
    assert got[("PO5", None, "open_tickets", False)] == Decimal("200.00")
    assert not any(i["po_no"] == "PO6" for i in items)  # cancelled
    po2 = [i for i in items if i["po_no"] == "PO2"]
    po3 = [i for i in items if i["po_no"] == "PO3"]
    # closed 巡检 tickets without attachments: AT-01 blocks the line's acceptance
    assert [(i["state"], i["amount"]) for i in po2] == [("blocked", Decimal("500.00"))]
    assert any(b.startswith("AT-01 T1") for b in po2[0]["blocking_findings"])
    assert len(po3) == 1 and po3[0]["state"] in ("ready", "blocked") and po3[0]["amount"] == Decimal("300.00")
    everyone = totals[("全部", "合计")]
    assert everyone["accepted_amount"] == Decimal("710.00")
    assert everyone["outstanding_amount"] == Decimal("300.00") + 310 + 500 + 300 + 600 + 200
    assert everyone["blocked_amount"] + everyone["ready_amount"] == Decimal("300.00") + 310 + 500 + 300
    assert everyone["awaiting_completion_amount"] == Decimal("600.00")
    assert totals[("上海", "合计")]["outstanding_amount"] == Decimal("900.00")
    assert totals[("浙江", "维保")]["rejected_amount"] == Decimal("300.00")
    assert sum(v["outstanding_amount"] for (r, t), v in totals.items() if r != "全部" and t == "合计") \
        == everyone["outstanding_amount"]
