"""Service timeliness (SL-01…SL-04) and the monthly KPI statistics on real PostgreSQL, at every
boundary the rulebook names. Working days come from the State Council calendar (National Day 2026:
Oct 1–7 off, Sep 20 and Oct 10 worked, Sep 25 Mid-Autumn); the expected deadlines below are counted
by hand from it. Every case asserts the exact set of findings of the family."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fieldrecon.recon.rules import SUBJECT_KEYS, run_family
from tests.factories import clear, findings, put

pytestmark = pytest.mark.db

BD = dt.date(2026, 11, 3)  # as_of 2026-11-04 00:00; the next working days are Nov 4, 5, 6
EXTRACT = BD
D = dt.date
_ids = itertools.count(1)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm))


def wo(ticket_no, ticket_type="现场问题处理", received=None, dispatched=None, **kw) -> dict:
    row = {"ticket_no": ticket_no, "ticket_type": ticket_type, "status": kw.pop("status", "履行中"),
           "region": kw.pop("region", "浙江"), "customer_name": "某银行", "created_at": at(D(2026, 8, 1), "09:00"),
           "msd_dispatched_at": received, "fsip_dispatched_at": dispatched}
    row.update(kw)
    return row


def punch(ticket, kind, when, eng="E1") -> dict:
    return {"punch_id": f"P{next(_ids):06d}", "ticket_no": ticket, "engineer_id": eng, "punch_type": kind,
            "punched_at": when}


def subjects(engine, business_date=BD) -> set[tuple]:
    out = set()
    for f in findings(engine, business_date):
        extra = {k: f[k] for k in SUBJECT_KEYS if k != "ticket_no" and f[k] is not None}
        assert not extra, (f["rule_code"], extra)
        out.add((f["rule_code"], f["ticket_no"]))
    return out


def details(engine, code, ticket_no) -> dict:
    return next(f for f in findings(engine, BD, code) if f["ticket_no"] == ticket_no)["details"]


def kpi_rows(engine, business_date=BD) -> dict:
    with engine.connect() as c:
        rows = c.execute(sa.text("select * from mart.kpi_monthly where business_date = :d"), {"d": business_date})
        return {(r.region, r.month, r.kpi): (r.checked, r.on_time, r.rate, r.target, r.met) for r in rows}


@pytest.fixture(autouse=True)
def _clean(engine):
    clear(engine)
    with engine.begin() as c:
        c.execute(sa.text("truncate mart.kpi_monthly"))
    yield


def test_sl01_dispatch_boundaries(engine):
    n2, n3, n4 = D(2026, 11, 2), D(2026, 11, 3), D(2026, 11, 4)
    put(engine, "netcare_workorders", [
        # 现场问题处理 小时级: 10 minutes; 10 is on time, 11 late
        wo("H10", sla_class="小时级", received=at(n2, "10:00"), dispatched=at(n2, "10:10")),
        wo("H11", sla_class="小时级", received=at(n2, "10:00"), dispatched=at(n2, "10:11")),
        # 非小时级 / empty / part-5 types in office hours: 30 minutes
        wo("N30", sla_class="非小时级", received=at(n2, "10:00"), dispatched=at(n2, "10:30")),
        wo("N31", sla_class="非小时级", received=at(n2, "10:00"), dispatched=at(n2, "10:31")),
        wo("E25", received=at(n2, "10:00"), dispatched=at(n2, "10:25")),  # empty 服务级别: 30 min
        wo("P20", "事件值守", sla_class="小时级", received=at(n2, "10:00"), dispatched=at(n2, "10:20")),  # part 5: 30
        wo("P31", "高级软件现场支持", sla_class="小时级", received=at(n2, "10:00"), dispatched=at(n2, "10:31")),
        wo("S31", "单次现场服务", received=at(n2, "10:00"), dispatched=at(n2, "10:31")),
        # received 17:59 (office hours: +30) vs 18:00 (09:00 next day)
        wo("R1759", received=at(n2, "17:59"), dispatched=at(n2, "18:29")),
        wo("R1759L", received=at(n2, "17:59"), dispatched=at(n2, "18:30")),
        wo("R1800", received=at(n2, "18:00"), dispatched=at(n3, "09:00")),
        wo("R1800L", received=at(n2, "18:00"), dispatched=at(n3, "09:01")),
        # received 08:29 (09:00 same day) vs 08:30 (office hours: +30 = 09:00)
        wo("R0829", received=at(n2, "08:29"), dispatched=at(n2, "09:00")),
        wo("R0829L", received=at(n2, "08:29"), dispatched=at(n2, "09:01")),
        wo("R0830", received=at(n2, "08:30"), dispatched=at(n2, "09:00")),
        wo("R0830L", received=at(n2, "08:30:30"), dispatched=at(n2, "09:01")),
        # FSIP empty: late only once as_of (Nov 4 00:00) is after the deadline
        wo("X2340", sla_class="小时级", received=at(n3, "23:40")),  # due 23:50: late
        wo("X2350", sla_class="小时级", received=at(n3, "23:50")),  # due 24:00 = as_of: not yet
        wo("X2300", received=at(n3, "23:00")),  # due Nov 4 09:00: not yet
        wo("X1000", "单次现场服务", received=at(n3, "10:00")),  # due 10:30: late
        # never checked: cancelled, no MSD派单时间, types outside SL-01/SL-02
        wo("C1", sla_class="小时级", status="已取消", received=at(n2, "10:00"), dispatched=at(n4, "10:00")),
        wo("M1", sla_class="小时级", received=None, dispatched=at(n3, "10:00")),
        wo("Z1", "驻场", received=at(n2, "10:00")),
        wo("Z2", "POC", received=at(n2, "10:00")),
    ], EXTRACT)
    run_family(engine, "timeliness", BD)
    assert subjects(engine) == {
        ("SL-01", t) for t in ("H11", "N31", "P31", "S31", "R1759L", "R1800L", "R0829L", "R0830L", "X2340", "X1000")
    }
    h11 = details(engine, "SL-01", "H11")
    assert (h11["received"], h11["dispatched"], h11["deadline"], float(h11["minutes_late"])) == (
        "2026-11-02T10:00:00", "2026-11-02T10:11:00", "2026-11-02T10:10:00", 1.0)
    assert details(engine, "SL-01", "R1800L")["deadline"] == "2026-11-03T09:00:00"
    assert details(engine, "SL-01", "R0829L")["deadline"] == "2026-11-02T09:00:00"
    x = details(engine, "SL-01", "X2340")
    assert x["dispatched"] is None and float(x["minutes_late"]) == 10.0
    assert all(f["severity"] == "warning" and f["region"] == "浙江" for f in findings(engine, BD))


def test_sl02_fifteen_working_days_over_national_day(engine):
    # Received Mon Sep 21: working days after it are Sep 22, 23, 24, 28, 29, 30, Oct 8, 9, 10 (make-up
    # Saturday), 12, 13, 14, 15, 16, 19 -> the 15th is Oct 19; the deadline is Oct 20 00:00.
    # (Mon–Fri alone would give Oct 12.)
    r = at(D(2026, 9, 21), "15:00")
    put(engine, "netcare_workorders", [
        wo("I1", "巡检", received=r, dispatched=at(D(2026, 10, 19), "23:59")),
        wo("I2", "整改", received=r, dispatched=at(D(2026, 10, 20), "00:00")),  # exactly the deadline
        wo("I3", "巡检", received=r, dispatched=at(D(2026, 10, 20), "00:01")),
        wo("I4", "整改", received=r),  # never dispatched, deadline long past
        wo("I5", "巡检", received=at(D(2026, 11, 2), "09:00")),  # not dispatched, not yet due
        wo("I6", "巡检", received=r, dispatched=at(D(2026, 10, 16), "10:00")),  # late under Mon–Fri only
    ], EXTRACT)
    run_family(engine, "timeliness", BD)
    assert subjects(engine) == {("SL-02", "I3"), ("SL-02", "I4")}
    d = details(engine, "SL-02", "I3")
    assert (d["deadline"], d["deadline_day"], float(d["minutes_late"])) == ("2026-10-20T00:00:00", "2026-10-19", 1.0)


def test_sl03_sl04_closure_boundaries(engine):
    # Completed Mon Oct 26: 5th working day after = Mon Nov 2 (27, 28, 29, 30, Nov 2).
    # 巡检 completed Mon Oct 19: 10th = Nov 2 (20, 21, 22, 23, 26, 27, 28, 29, 30, Nov 2).
    # After the business date (Nov 3) come Nov 4 (1st), Nov 5 (2nd), Nov 6 (3rd).
    c26, c19 = at(D(2026, 10, 26), "16:00"), at(D(2026, 10, 19), "16:00")
    tickets = [
        wo("K5", "单次现场服务", close_requested_at=at(D(2026, 11, 2), "23:59")),  # 5th day: on time
        wo("K6", "单次现场服务", close_requested_at=at(D(2026, 11, 3), "08:00")),  # 6th day: late
        wo("G10", "巡检", close_requested_at=at(D(2026, 11, 2), "12:00")),  # 巡检 10th: on time
        wo("G11", "巡检", close_requested_at=at(D(2026, 11, 3), "12:00")),  # 巡检 11th: late
        wo("K19", "现场问题处理", close_requested_at=at(D(2026, 11, 2), "12:00")),  # 5 days were Oct 26
        wo("KN", "整改"),  # not requested, deadline Nov 2 past: late
        wo("KT", "整改"),  # completed Oct 27: deadline Nov 3 (= as_of): not late, due soon
        wo("KS2", "事件值守"),  # completed Oct 29: deadline Nov 5, the 2nd working day: SL-04
        wo("KS3", "事件值守"),  # completed Oct 30: deadline Nov 6, the 3rd: nothing yet
        wo("KR", "事件值守", close_requested_at=at(D(2026, 11, 3), "10:00")),  # requested: no reminder
        wo("Z1", "驻场"),  # completed by its 离场 (Oct 26), not by the later 完成
        wo("Z2", "驻场"),  # only a 完成 punch: a resident ticket completes by 离场, so not checked
        wo("L1", "单次现场服务"),  # only a 离场 punch: not checked
        wo("POC1", "POC"),  # never checked
        wo("CX", "单次现场服务", status="已取消"),  # never checked
    ]
    put(engine, "netcare_workorders", tickets, EXTRACT)
    put(engine, "netcare_punches", [
        punch("K5", "完成", c26), punch("K6", "完成", c26), punch("K6", "完成", c26 - dt.timedelta(days=3), "E2"),
        punch("G10", "完成", c19), punch("G11", "完成", c19), punch("K19", "完成", c19),
        punch("KN", "完成", c26), punch("KT", "完成", at(D(2026, 10, 27), "10:00")),
        punch("KS2", "完成", at(D(2026, 10, 29), "10:00")), punch("KS3", "完成", at(D(2026, 10, 30), "10:00")),
        punch("KR", "完成", at(D(2026, 10, 29), "10:00")),
        punch("Z1", "离场", c26), punch("Z1", "完成", at(D(2026, 10, 30), "10:00")),
        punch("Z2", "完成", c26), punch("L1", "离场", c26), punch("POC1", "完成", c26), punch("CX", "完成", c26),
        punch("UNKNOWN", "完成", c26),
    ], EXTRACT)
    run_family(engine, "timeliness", BD)
    assert subjects(engine) == {
        ("SL-03", "K6"), ("SL-03", "G11"), ("SL-03", "K19"), ("SL-03", "KN"), ("SL-03", "Z1"),
        ("SL-04", "KT"), ("SL-04", "KS2"),
    }
    k6 = details(engine, "SL-03", "K6")
    assert (k6["completed_at"], k6["deadline"], k6["deadline_day"], k6["close_requested_at"], k6["working_days_used"]) == (
        "2026-10-26T16:00:00", "2026-11-03T00:00:00", "2026-11-02", "2026-11-03T08:00:00", 6)
    kn = details(engine, "SL-03", "KN")
    assert kn["close_requested_at"] is None and kn["working_days_used"] == 6  # up to the business date
    assert details(engine, "SL-04", "KS2")["deadline_day"] == "2026-11-05"
    assert {f["severity"] for f in findings(engine, BD, "SL-04")} == {"info"}


def test_kpi_monthly(engine):
    aug31, sep1 = D(2026, 8, 31), D(2026, 9, 1)
    put(engine, "netcare_workorders", [
        # dispatch, 浙江: deadline 24:00 Aug 31 (小时级 received 23:50) counts in August
        wo("D1", sla_class="小时级", received=at(aug31, "23:50"), dispatched=at(sep1, "00:00")),
        wo("D2", sla_class="非小时级", received=at(aug31, "20:00"), dispatched=at(sep1, "09:30")),  # Sep 1 09:00
        wo("D3", received=at(D(2026, 11, 3), "23:00")),  # due Nov 4 09:00, undispatched: undecided
        wo("D4", received=at(D(2026, 11, 3), "10:00")),  # due 10:30 Nov 3, undispatched: late in November
        wo("D5", "巡检", received=at(D(2026, 8, 10), "10:00"), dispatched=at(D(2026, 8, 12), "10:00"),
           region="上海"),  # 15th working day after Aug 10 = Aug 31: August, on time
        wo("DX", sla_class="小时级", status="已取消", received=at(aug31, "10:00")),  # never counted
        # closure: 驻场 completed Aug 24 -> 5th working day Aug 31, requested at 24:00 Aug 31: on time, August
        wo("C1", "驻场", close_requested_at=at(sep1, "00:00")),
        wo("C2", "单次现场服务", close_requested_at=at(sep1, "00:01"), region="上海"),  # same deadline: late
        wo("C3", "单次现场服务"),  # completed Oct 30, deadline Nov 6: undecided
        # arrival (PD scope, with an FSE and a target time)
        wo("A1", "单次现场服务", engineer_id="E1", appointment_at=at(D(2026, 10, 31), "10:00"),
           required_arrival_at=at(D(2026, 10, 31), "08:00")),  # appointment wins: arrival 10:00 on time
        wo("A2", "单次现场服务", engineer_id="E1", required_arrival_at=at(D(2026, 10, 31), "10:00")),  # 10:05 late
        wo("A3", "巡检", engineer_id="E1", required_arrival_at=at(D(2026, 11, 3), "20:00")),  # no arrival: late
        wo("A4", "巡检", engineer_id="E1", required_arrival_at=at(D(2026, 11, 4), "09:00")),  # undecided
        wo("A5", "驻场", engineer_id="E1", required_arrival_at=at(D(2026, 10, 31), "09:00")),  # not PD scope
        wo("A6", "单次现场服务", required_arrival_at=at(D(2026, 10, 31), "09:00")),  # no FSE
    ], EXTRACT)
    put(engine, "netcare_punches", [
        punch("C1", "离场", at(D(2026, 8, 24), "17:00")), punch("C2", "完成", at(D(2026, 8, 24), "17:00")),
        punch("C3", "完成", at(D(2026, 10, 30), "17:00")),
        punch("A1", "到达", at(D(2026, 10, 31), "10:00")), punch("A1", "到达", at(D(2026, 10, 31), "09:00"), "E2"),
        punch("A2", "到达", at(D(2026, 10, 31), "10:05")), punch("A2", "到达", at(D(2026, 10, 31), "11:00")),
    ], EXTRACT)
    # po_rejection: 浙江 Oct 1 of 34 rejected (0.0294, met), 上海 Oct 1 of 2 (0.5); 浙江 Sep 3 of 100 (exactly 3 %)
    put(engine, "isc_po_lines", [
        {"po_no": "PZ", "po_line_no": 1, "service_type": "巡检", "region": "浙江", "quantity": Decimal(1),
         "line_amount": Decimal(1), "issued_on": D(2026, 1, 1), "po_status": "已接收"},
        {"po_no": "PS", "po_line_no": 1, "service_type": "巡检", "region": "上海", "quantity": Decimal(1),
         "line_amount": Decimal(1), "issued_on": D(2026, 1, 1), "po_status": "已接收"},
    ], EXTRACT)

    def acc(no, po, approval, day):
        return {"acceptance_no": no, "po_no": po, "po_line_no": 1, "amount": Decimal(1), "approval": approval,
                "decided_on": day}

    oct5, sep5 = D(2026, 10, 5), D(2026, 9, 5)
    put(engine, "isc_acceptances", [
        *[acc(f"Z{i}", "PZ", "已通过", oct5) for i in range(33)], acc("ZR", "PZ", "已驳回", oct5),
        acc("S1", "PS", "已通过", oct5), acc("S2", "PS", "已驳回", oct5),
        *[acc(f"Y{i}", "PZ", "已通过", sep5) for i in range(97)],
        *[acc(f"YR{i}", "PZ", "已驳回", sep5) for i in range(3)],
        acc("U1", "NOPE", "已驳回", oct5),  # unknown PO line: region empty, counted in 全部
        acc("Q1", "PZ", "审批中", oct5), acc("Q2", "PZ", "已通过", None),  # not decisions / no month
    ], EXTRACT)
    run_family(engine, "timeliness", BD)
    r4 = Decimal("0.0000")
    got = kpi_rows(engine)
    expected = {
        ("浙江", "2026-08", "dispatch"): (1, 1, Decimal("1.0000"), None, None),
        ("浙江", "2026-09", "dispatch"): (1, 0, r4, None, None),
        ("浙江", "2026-11", "dispatch"): (1, 0, r4, None, None),
        ("上海", "2026-08", "dispatch"): (1, 1, Decimal("1.0000"), None, None),
        ("全部", "2026-08", "dispatch"): (2, 2, Decimal("1.0000"), None, None),
        ("全部", "2026-09", "dispatch"): (1, 0, r4, None, None),
        ("全部", "2026-11", "dispatch"): (1, 0, r4, None, None),
        ("浙江", "2026-08", "closure"): (1, 1, Decimal("1.0000"), None, None),
        ("上海", "2026-08", "closure"): (1, 0, r4, None, None),
        ("全部", "2026-08", "closure"): (2, 1, Decimal("0.5000"), None, None),
        ("浙江", "2026-10", "arrival"): (2, 1, Decimal("0.5000"), None, None),
        ("浙江", "2026-11", "arrival"): (1, 0, r4, None, None),
        ("全部", "2026-10", "arrival"): (2, 1, Decimal("0.5000"), None, None),
        ("全部", "2026-11", "arrival"): (1, 0, r4, None, None),
        ("浙江", "2026-10", "po_rejection"): (34, 1, Decimal("0.0294"), Decimal("0.03"), True),
        ("上海", "2026-10", "po_rejection"): (2, 1, Decimal("0.5000"), Decimal("0.03"), False),
        ("", "2026-10", "po_rejection"): (1, 1, Decimal("1.0000"), Decimal("0.03"), False),
        ("全部", "2026-10", "po_rejection"): (37, 3, Decimal("0.0811"), Decimal("0.03"), False),
        ("浙江", "2026-09", "po_rejection"): (100, 3, Decimal("0.0300"), Decimal("0.03"), True),
        ("全部", "2026-09", "po_rejection"): (100, 3, Decimal("0.0300"), Decimal("0.03"), True),
    }
    assert got == expected
    # the findings of the same data agree with the KPI: D2 and D4 dispatched late, C2 closed late
    assert subjects(engine) == {("SL-01", "D2"), ("SL-01", "D4"), ("SL-03", "C2")}


def test_rerun_is_identical(engine):
    put(engine, "netcare_workorders", [wo("H11", sla_class="小时级", received=at(D(2026, 11, 2), "10:00"),
                                          dispatched=at(D(2026, 11, 2), "10:11"))], EXTRACT)
    run_family(engine, "timeliness", BD)
    first = (findings(engine, BD), kpi_rows(engine))
    run_family(engine, "timeliness", BD)
    assert (findings(engine, BD), kpi_rows(engine)) == first and first[0]
