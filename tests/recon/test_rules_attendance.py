"""RA-01, RA-04…RA-07 and CAL-01 (resident attendance) on a real PostgreSQL: the rulebook's boundary
cases on the Chinese working-day calendar, asserted as exact sets of (rule_code, subject keys)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldrecon.recon.rules import SUBJECT_KEYS, run_family
from tests.factories import clear, findings, put

pytestmark = pytest.mark.db

BD = dt.date(2026, 11, 3)  # as_of 2026-11-04 00:00
MISSING = object()

RULE_KEYS = {
    "RA-01": ("ticket_no", "engineer_id", "day"),
    "RA-06": ("ticket_no", "engineer_id", "day"),
    "RA-04": ("engineer_id", "month"),
    "RA-05": ("engineer_id", "month"),
    "RA-07": ("ticket_no", "engineer_id"),
    "CAL-01": ("month",),
}


def subjects(engine, business_date=BD, codes=None) -> set[tuple]:
    out = set()
    for f in findings(engine, business_date):
        if codes and f["rule_code"] not in codes:
            continue
        keys = RULE_KEYS[f["rule_code"]]
        extra = {k: f[k] for k in SUBJECT_KEYS if k not in keys and f[k] is not None}
        assert not extra, (f["rule_code"], extra)
        out.add((f["rule_code"], *(f[k] for k in keys)))
    return out


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm))


def att(ticket, eng, day, clock_in=None, clock_out=None, start="08:30", end="17:30", **kw):
    """An attendance row; clock_in / clock_out default to on time, MISSING leaves them empty."""
    row = {
        "ticket_no": ticket, "engineer_id": eng, "work_date": day,
        "shift_start": dt.time.fromisoformat(start), "shift_end": dt.time.fromisoformat(end),
        "clock_in_at": None if clock_in is MISSING else (clock_in or at(day, 8, 25)),
        "clock_out_at": None if clock_out is MISSING else (clock_out or at(day, 17, 35)),
    }
    row.update(kw)
    return row


def ticket(no, region="浙江", po_no=None):
    return {"ticket_no": no, "ticket_type": "驻场", "status": "履行中", "region": region,
            "customer_name": "某客户", "created_at": dt.datetime(2026, 1, 1), "po_no": po_no}


def engineer(eid, region="上海"):
    return {"engineer_id": eid, "engineer_name": f"工程师{eid}", "region": region}


def both_missing(ticket_no, eng, day, **kw):
    return att(ticket_no, eng, day, clock_in=MISSING, clock_out=MISSING, **kw)


@pytest.fixture(autouse=True)
def _clean(engine):
    clear(engine)
    yield


def working_days_of_month(engine, year: int, month: int) -> list[dt.date]:
    with engine.connect() as c:
        return list(c.execute(sa.text(
            "select day from ops.calendar_days where is_working and extract(year from day) = :y "
            "and extract(month from day) = :m order by day"), {"y": year, "m": month}).scalars())


def test_exception_flow_deadline_on_chinese_working_days(engine):
    october = working_days_of_month(engine, 2026, 10)
    fifth, sixth = october[4], october[5]
    with engine.connect() as c:
        deadline = c.execute(sa.text("select ops.working_days_after(date '2026-09-30', 5)")).scalar_one()
        assert c.execute(sa.text("select count(*) from ops.calendar_days where day between '2026-10-01' and '2026-10-31' "
                                 "and source = 'chinesecalendar'")).scalar_one() == 31
    assert deadline == fifth  # National Day holiday and the make-up Saturday come from the calendar
    d = dt.date(2026, 9, 7)
    rows = [
        att("T1", "E1", d, clock_in=at(d, 8, 40), exception_flow="已通过", exception_decided_at=at(fifth, 23, 59)),
        att("T1", "E1", d + dt.timedelta(1), clock_in=at(d + dt.timedelta(1), 8, 40), exception_flow="已通过",
            exception_decided_at=at(sixth, 9, 0)),
        att("T1", "E1", d + dt.timedelta(2), clock_out=MISSING, exception_flow="审批中"),
        att("T1", "E1", d + dt.timedelta(3), clock_out=at(d + dt.timedelta(3), 17, 0), exception_flow="已驳回"),
        # approved leave excuses (never RA-06, even with a pending flow); 加班 and a pending leave do not
        both_missing("T1", "E1", d + dt.timedelta(7), leave_type="事假", leave_approval="已通过", exception_flow="审批中"),
        att("T1", "E1", d + dt.timedelta(8), clock_in=MISSING, leave_type="加班", leave_approval="已通过"),
        att("T1", "E1", d + dt.timedelta(9), clock_in=MISSING, leave_type="病假", leave_approval="审批中"),
        # a flow without an anomaly is nothing
        att("T1", "E1", d + dt.timedelta(10), exception_flow="审批中"),
    ]
    put(engine, "netcare_workorders", [ticket("T1", region="江西")], dt.date(2026, 11, 1))
    # the approved flows arrive with the extract of the 6th working day, the rest on 1 October
    put(engine, "netcare_resident_attendance", rows[2:], dt.date(2026, 10, 1))
    put(engine, "netcare_resident_attendance", rows[:2], sixth)
    run_family(engine, "attendance", BD)
    day = [d + dt.timedelta(i) for i in range(11)]
    assert subjects(engine) == {
        ("RA-01", "T1", "E1", day[1]),
        ("RA-06", "T1", "E1", day[1]),
        ("RA-01", "T1", "E1", day[2]),
        ("RA-06", "T1", "E1", day[2]),
        ("RA-01", "T1", "E1", day[3]),
        ("RA-01", "T1", "E1", day[8]),
        ("RA-01", "T1", "E1", day[9]),
        ("RA-04", "E1", "2026-09"),  # late, missing, early, missing, missing: 5
    }
    # ticket findings take the ticket's region; the engineer is not in the master: empty
    assert {(f["rule_code"], f["region"]) for f in findings(engine, BD)} == {("RA-01", "江西"), ("RA-06", "江西"), ("RA-04", None)}

    # before the deadline is over a pending flow is not RA-06 yet (but the anomaly is RA-01)
    run_family(engine, "attendance", fifth)
    assert ("RA-06", "T1", "E1", day[2]) not in subjects(engine, fifth)
    assert ("RA-01", "T1", "E1", day[2]) in subjects(engine, fifth)
    run_family(engine, "attendance", sixth)
    assert ("RA-06", "T1", "E1", day[2]) in subjects(engine, sixth)

    with engine.connect() as c:
        s = c.execute(sa.text("select * from mart.attendance_summary where business_date = :d"), {"d": BD}).one()
    assert (s.month, s.scheduled_days, s.ra06_deadline) == ("2026-09", 8, fifth)
    assert (s.missing_count, s.late_count, s.early_count, s.anomalies) == (3, 1, 1, 5)
    assert s.excused_days == 2 and s.ra04_exceeded and not s.ra05_exceeded


def test_monthly_and_three_month_limits(engine):
    oct1 = dt.date(2026, 10, 1)
    rows = []
    # E4: exactly 4 anomalies in October (two rows with both slots missing): no RA-04
    rows += [both_missing("T4", "E4", dt.date(2026, 10, 12)), both_missing("T4", "E4", dt.date(2026, 10, 13))]
    # E5: 5 anomalies in October, on two tickets: RA-04
    rows += [both_missing("T5", "E5", dt.date(2026, 10, 12)), both_missing("T5", "E5", dt.date(2026, 10, 13)),
             att("T6", "E5", dt.date(2026, 10, 14), clock_in=at(dt.date(2026, 10, 14), 9))]
    # E12: July, August, September with 4 each = 12: no RA-05; E13: 4 + 4 + 5 = 13: RA-05 for September
    for eid in ("E12", "E13"):
        for m in (7, 8, 9):
            rows += [both_missing("T7", eid, dt.date(2026, m, 6)), both_missing("T7", eid, dt.date(2026, m, 7))]
    rows.append(att("T7", "E13", dt.date(2026, 9, 8), clock_out=at(dt.date(2026, 9, 8), 17, 29)))
    # a night shift (班次下班 before 班次上班) with an early leave on the next morning; one on time;
    # one ending exactly at 班次下班 (not early); the business date's night shift is not over by as_of
    n1, n2, n3 = dt.date(2026, 10, 20), dt.date(2026, 10, 21), dt.date(2026, 10, 22)
    rows += [
        att("TN", "EN", n1, start="20:00", end="08:00", clock_in=at(n1, 19, 55), clock_out=at(n2, 7, 30)),
        att("TN", "EN", n2, start="20:00", end="08:00", clock_in=at(n2, 19, 55), clock_out=at(n3, 8, 5)),
        att("TN", "EN", n3, start="20:00", end="08:00", clock_in=at(n3, 19, 55), clock_out=at(n3 + dt.timedelta(1), 8, 0)),
        # a night-shift clock-out on the same evening is early against the next morning
        att("TN", "EN", dt.date(2026, 10, 26), start="20:00", end="08:00", clock_in=at(dt.date(2026, 10, 26), 20),
            clock_out=at(dt.date(2026, 10, 26), 23, 0)),
        att("TN", "EN", BD, start="20:00", end="08:00", clock_in=at(BD, 20), clock_out=MISSING),
        # a day shift of the business date is judged (17:30 <= as_of); the next day is not
        att("TN", "EN2", BD, clock_out=MISSING),
        both_missing("TN", "EN2", BD + dt.timedelta(1)),
    ]
    put(engine, "netcare_resident_attendance", rows, dt.date(2026, 10, 31))
    put(engine, "timesheet_engineers", [engineer(e) for e in ("E4", "E5", "E12", "E13", "EN")], dt.date(2026, 10, 1))
    run_family(engine, "attendance", BD)
    assert subjects(engine, codes={"RA-04", "RA-05"}) == {
        ("RA-04", "E5", "2026-10"),
        ("RA-04", "E13", "2026-09"),
        ("RA-05", "E13", "2026-09"),
    }
    assert {f["region"] for f in findings(engine, BD, "RA-04")} == {"上海"}
    counts = {(f["rule_code"], f["engineer_id"], f["month"]): f["details"]["count"]
              for f in findings(engine, BD) if f["rule_code"] in ("RA-04", "RA-05")}
    assert counts == {("RA-04", "E5", "2026-10"): 5, ("RA-04", "E13", "2026-09"): 5, ("RA-05", "E13", "2026-09"): 13}
    ra01 = {(f["ticket_no"], f["engineer_id"], f["day"]) for f in findings(engine, BD, "RA-01")}
    assert {k for k in ra01 if k[0] in ("TN",)} == {("TN", "EN", n1), ("TN", "EN", dt.date(2026, 10, 26)), ("TN", "EN2", BD)}
    night = next(f for f in findings(engine, BD, "RA-01") if f["day"] == n1)
    assert night["details"]["slots"] == [{"slot": "out", "kind": "early", "minutes": 30, "expected_at": "2026-10-21T08:00:00",
                                          "punched_at": "2026-10-21T07:30:00"}]
    # the business date's night shift: its clock-out is judged by the next day's run
    run_family(engine, "attendance", BD + dt.timedelta(1))
    assert ("RA-01", "TN", "EN", BD) in subjects(engine, BD + dt.timedelta(1), codes={"RA-01"})

    with engine.connect() as c:
        rows = {(r.engineer_id, r.ticket_no, r.month): r for r in c.execute(
            sa.text("select * from mart.attendance_summary where business_date = :d"), {"d": BD})}
    e5 = rows[("E5", "T5", "2026-10")]
    assert (e5.anomalies, e5.engineer_month_anomalies, e5.ra04_exceeded) == (4, 5, True)
    e13 = rows[("E13", "T7", "2026-09")]
    assert (e13.engineer_3m_anomalies, e13.ra05_exceeded) == (13, True)
    assert rows[("E12", "T7", "2026-09")].engineer_3m_anomalies == 12
    assert rows[("E5", "T5", "2026-10")].ra06_deadline == working_days_of_month(engine, 2026, 11)[4]
    assert oct1 < e5.ra06_deadline


def test_first_attendance_before_resident_po_start(engine):
    put(engine, "netcare_workorders", [ticket("TR", po_no="PO1"), ticket("TX", po_no="PO2"), ticket("TY")],
        dt.date(2026, 8, 1))
    line = {"region": "浙江", "quantity": 1, "line_amount": 1000, "issued_on": dt.date(2026, 8, 1), "po_status": "已下发"}
    put(engine, "isc_po_lines", [
        {"po_no": "PO1", "po_line_no": 1, "service_type": "驻场", "service_start": dt.date(2026, 9, 1), **line},
        {"po_no": "PO1", "po_line_no": 2, "service_type": "驻场", "service_start": dt.date(2026, 10, 1), **line},
        {"po_no": "PO1", "po_line_no": 3, "service_type": "维保", "service_start": dt.date(2026, 1, 1), **line},
        {"po_no": "PO2", "po_line_no": 1, "service_type": "维保", "service_start": dt.date(2026, 9, 1), **line},
    ], dt.date(2026, 8, 1))
    put(engine, "netcare_resident_attendance", [
        att("TR", "A1", dt.date(2026, 8, 31)),
        att("TR", "A1", dt.date(2026, 9, 1)),
        att("TR", "A2", dt.date(2026, 9, 1)),
        att("TX", "A3", dt.date(2026, 8, 1)),  # no 驻场 line: PO-09, not RA-07
        att("TY", "A4", dt.date(2026, 8, 1)),  # no PO号: PO-09, not RA-07
    ], dt.date(2026, 10, 1))
    run_family(engine, "attendance", BD)
    assert subjects(engine, codes={"RA-07"}) == {("RA-07", "TR", "A1")}
    assert findings(engine, BD, "RA-07")[0]["details"]["service_start"] == "2026-09-01"


def test_unknown_calendar_year(engine):
    with engine.connect() as c:
        known = set(c.execute(sa.text("select year from ops.calendar_years")).scalars())
    y = max(known) + 1
    assert y not in known and y + 2 not in known and y + 4 not in known
    dec = dt.date(y - 1, 12, 14)
    bd = dt.date(y + 2, 6, 30)
    put(engine, "netcare_resident_attendance", [
        # a December anomaly of a known year: its RA-06 deadline falls in January of the unknown year
        att("T1", "E1", dec, clock_in=MISSING, exception_flow="审批中"),
        # an anomaly excused by leave needs no deadline; a day without anomaly neither
        both_missing("T1", "E1", dt.date(y + 4, 3, 2), leave_type="年假", leave_approval="已通过"),
        att("T1", "E1", dt.date(y + 4, 3, 3)),
    ], dt.date(y - 1, 12, 31))
    # a failed change in another unknown year: CH-08's deadline
    put(engine, "netcare_rfcs", [{"rfc_no": "F1", "status": "完成失败", "region": "浙江",
                                  "submitted_at": dt.datetime(y + 2, 1, 5), "planned_end_at": dt.datetime(y + 2, 3, 2, 18)}],
        dt.date(y + 2, 3, 3))
    run_family(engine, "attendance", bd)
    assert subjects(engine, bd, codes={"CAL-01"}) == {("CAL-01", f"{y}-01"), ("CAL-01", f"{y + 2}-01")}
    used = {f["month"]: f["details"]["used_by"] for f in findings(engine, bd, "CAL-01")}
    assert used == {f"{y}-01": ["RA-06"], f"{y + 2}-01": ["CH-08"]}


def sheet(engine, title, business_date=BD):
    from fieldrecon.outputs import exports
    from fieldrecon.recon import rules

    query = next(q for _, t, q in exports.mart_queries("sheets") if t == title)
    params = rules.bind_params(business_date)
    with engine.begin() as conn:
        exports.sheet_session(conn, business_date, params)
        result = conn.execute(sa.text(query), params)
        return list(result.keys()), [dict(zip(result.keys(), r, strict=True)) for r in result]


def test_attendance_sheets(engine):
    d = dt.date(2026, 10, 12)
    put(engine, "netcare_workorders", [ticket("T1", po_no="PO1")], dt.date(2026, 10, 1))
    put(engine, "timesheet_engineers", [{**engineer("E1"), "phone": "13800000000"}], dt.date(2026, 10, 1))
    put(engine, "isc_po_lines", [{"po_no": "PO1", "po_line_no": 1, "service_type": "驻场", "service_start": dt.date(2026, 10, 13),
                                  "region": "浙江", "quantity": 1, "line_amount": 1000, "issued_on": dt.date(2026, 10, 1),
                                  "po_status": "已下发"}], dt.date(2026, 10, 1))
    put(engine, "netcare_resident_attendance", [
        both_missing("T1", "E1", d),
        both_missing("T1", "E1", d + dt.timedelta(1)),
        att("T1", "E1", d + dt.timedelta(2), clock_in=at(d + dt.timedelta(2), 8, 45), exception_flow="审批中"),
        att("T1", "E1", d + dt.timedelta(3), leave_type="年假", leave_approval="已通过", clock_in=MISSING, clock_out=MISSING),
    ], dt.date(2026, 10, 31))
    run_family(engine, "attendance", BD)
    assert subjects(engine) == {
        ("RA-01", "T1", "E1", d), ("RA-01", "T1", "E1", d + dt.timedelta(1)), ("RA-01", "T1", "E1", d + dt.timedelta(2)),
        ("RA-04", "E1", "2026-10"), ("RA-07", "T1", "E1"),
    }
    cols, rows = sheet(engine, "驻场考勤")
    assert cols[:5] == ["月份", "工程师工号", "工程师姓名", "区域", "工单号"]
    assert len(rows) == 1
    r = rows[0]
    assert (r["排班天数"], r["缺卡次数"], r["迟到次数"], r["早退次数"], r["已豁免天数（请假/电子流）"], r["电子流审批中天数"]) == (4, 4, 1, 0, 1, 1)
    assert r["异常电子流审批截止日"] == working_days_of_month(engine, 2026, 11)[4]
    assert r["月度状态(RA-04)"].startswith("超过4次") and r["三个月状态(RA-05)"] == "正常"
    cols, rows = sheet(engine, "考勤规则")
    assert cols == ["规则", "问题", "级别", "区域", "工单号", "工程师工号", "工程师姓名", "日期", "月份", "问题说明",
                    "处理办法", "处理系统", "责任人", "处理期限", "已说明", "首次发现", "是否新增"]
    by = {(x["规则"], x["日期"]): x for x in rows}
    assert by[("RA-01", d)]["问题说明"] == "上班缺卡，下班缺卡；没有请假或异常电子流"
    assert by[("RA-01", d + dt.timedelta(2))]["问题说明"] == (
        "上班迟到 15 分钟（应 08:30，实际 08:45）；异常电子流审批中，通过前仍计为异常")
    assert by[("RA-04", None)]["工程师姓名"] == "工程师E1"
    assert all("13800000000" not in str(v) for x in rows for v in x.values())
