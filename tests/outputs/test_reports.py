"""Resident weekly / monthly reports (issue 7, rulebook RA-08) on a real PostgreSQL: periods clipped
to the engineer's first and last attendance day, due dates on the Chinese working-day calendar
(National Day 2026, make-up working weekends, read from the warehouse calendar), status not due /
generated / late / missing, byte-identical reruns and new versions on changed inputs, PDF text."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from fieldrecon import pipeline
from fieldrecon.outputs import render, reports
from fieldrecon.recon.rules import bind_params, run_family
from fieldrecon.settings import PROJECT_ROOT
from tests.factories import clear, put

pytestmark = pytest.mark.db

D = dt.date
T1, T2, T3 = "ZC-T1", "ZC-T2", "ZC-T3"


@pytest.fixture(autouse=True)
def _clean(engine, tmp_path, monkeypatch):
    clear(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.cycle_schedule, mart.attendance_summary, mart.resident_reports, "
                             "mart.resident_report_versions"))
    monkeypatch.setenv("FIELDRECON_REPORTS", str(tmp_path / "reports"))
    yield


def at(day: dt.date, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hh, mm))


def working_days(engine, first: dt.date, last: dt.date) -> list[dt.date]:
    with engine.connect() as c:
        return list(c.execute(sa.text(
            "select day from ops.calendar_days where is_working and day between :a and :b order by day"),
            {"a": first, "b": last}).scalars())


def is_working(engine, day: dt.date) -> bool:
    with engine.connect() as c:
        return c.execute(sa.text("select ops.is_working_day(:d)"), {"d": day}).scalar_one()


def att(ticket, eng, day, name="张三", clock_in=None, clock_out=None, **kw) -> dict:
    row = {"ticket_no": ticket, "engineer_id": eng, "engineer_name": name, "work_date": day,
           "shift_start": dt.time(8, 30), "shift_end": dt.time(17, 30),
           "clock_in_at": clock_in or at(day, 8, 20), "clock_out_at": clock_out or at(day, 17, 40)}
    row.update(kw)
    return row


def workorder(no, ticket_type="驻场", customer="甲客户", **kw) -> dict:
    row = {"ticket_no": no, "ticket_type": ticket_type, "status": "履行中", "region": "浙江", "customer_name": customer,
           "site_address": "杭州市西湖区文三路1号", "created_at": dt.datetime(2026, 8, 1, 9, 0)}
    row.update(kw)
    return row


def national_day_world(engine) -> list[dt.date]:
    """E1 (张三) resident on T1 at 甲客户 on every working day from Wed 16 Sep to Fri 9 Oct 2026 (the
    calendar's, make-up Sunday 20 Sep included), one attendance extract per day; Tue 29 Sep late with a
    pending exception flow, Wed 30 Sep clock-out missing (its flow approved on 9 Oct, delivered then)."""
    days = working_days(engine, D(2026, 9, 16), D(2026, 10, 9))
    put(engine, "netcare_workorders", [workorder(T1, po_no="PO-ZC1")], D(2026, 8, 1))
    put(engine, "timesheet_engineers", [{"engineer_id": "E1", "engineer_name": "张三", "region": "浙江",
                                         "phone": "13800000000"}], D(2026, 8, 1))
    put(engine, "isc_po_lines", [{
        "po_no": "PO-ZC1", "po_line_no": 1, "service_type": "驻场", "region": "浙江", "quantity": Decimal("4"),
        "line_amount": Decimal("40000.00"), "service_start": D(2026, 9, 1), "service_end": D(2026, 12, 31),
        "issued_on": D(2026, 8, 20), "po_status": "已接收", "customer_name": "甲客户"}], D(2026, 8, 20))
    per_extract: dict[dt.date, list[dict]] = {}
    for day in days:
        if day == D(2026, 9, 29):
            row = att(T1, "E1", day, clock_in=at(day, 8, 45), exception_flow="审批中")
        else:
            row = att(T1, "E1", day)
        if day == D(2026, 9, 30):
            row["clock_out_at"] = None
        per_extract.setdefault(day, []).append(row)
    # one delivery per extract date (a second file of a date would replace the first wholesale)
    fixed = att(T1, "E1", D(2026, 9, 30), exception_flow="已通过", exception_decided_at=at(D(2026, 10, 9), 10, 0))
    fixed["clock_out_at"] = None
    per_extract[D(2026, 10, 9)].append(fixed)
    for day, rows in per_extract.items():
        put(engine, "netcare_resident_attendance", rows, day)
    # the week's work and the customer's other tickets
    put(engine, "timesheet_entries", [
        {"entry_id": "W1", "engineer_id": "E1", "work_date": D(2026, 9, 29), "ticket_no": T1, "hours": Decimal("8"),
         "work_kind": "现场", "work_note": "核心交换机巡检", "approval": "已审批"},
        {"entry_id": "W2", "engineer_id": "E1", "work_date": D(2026, 9, 30), "ticket_no": T1, "hours": Decimal("2.5"),
         "work_kind": "远程", "work_note": "远程协助排查告警", "approval": "已提交"},
        {"entry_id": "W3", "engineer_id": "E1", "work_date": D(2026, 9, 30), "ticket_no": T1, "hours": Decimal("3"),
         "work_kind": "现场", "work_note": "驳回的填报", "approval": "已驳回"},
    ], D(2026, 9, 30))
    put(engine, "netcare_workorders", [
        workorder("XC-9", "现场问题处理", created_at=at(D(2026, 9, 29), 10), status="已关闭",
                  closed_at=at(D(2026, 9, 30), 18), engineer_name="李四"),
        workorder("XC-8", "现场问题处理", customer="乙客户", created_at=at(D(2026, 9, 29), 10)),
    ], D(2026, 9, 30))
    return days


def run(engine, tmp_path, business_date: dt.date) -> dict:
    run_family(engine, "attendance", business_date)
    run_family(engine, "po", business_date)
    ctx = pipeline.make_context(business_date, output_root=str(tmp_path / "outputs"))
    return reports.build_all(engine, ctx)


def expected(engine, business_date) -> dict[tuple, dict]:
    with engine.connect() as c:
        rows = c.execute(sa.text("select * from mart.resident_reports where business_date = :d"), {"d": business_date})
        return {(r.report_kind, r.ticket_no, r.engineer_id, r.period_start, r.period_end): dict(r._mapping) for r in rows}


def file_bytes(row) -> dict[str, bytes]:
    root = reports.reports_dir()
    return {k: (root / row[f"{k}_path"]).read_bytes() for k in ("html", "pdf", "xlsx")}


def test_calendar_facts_used_below(engine):
    # National Day 2026: 1-7 Oct off, make-up working days Sun 20 Sep and Sat 10 Oct; New Year 2026:
    # 1-3 Jan off, Sun 4 Jan a make-up working day -- as the warehouse calendar has them
    assert not any(is_working(engine, D(2026, 10, d)) for d in range(1, 8))
    assert is_working(engine, D(2026, 9, 20)) and is_working(engine, D(2026, 10, 10))
    assert is_working(engine, D(2026, 10, 8)) and is_working(engine, D(2026, 9, 28))
    assert not any(is_working(engine, D(2026, 1, d)) for d in range(1, 4)) and is_working(engine, D(2026, 1, 4))
    assert D(2026, 1, 4).isoweekday() == 7 and D(2026, 11, 1).isoweekday() == 7


def test_periods_clipping_and_due_dates(engine, tmp_path):
    national_day_world(engine)
    # E2 on T2: 29-31 Dec 2025 only; E3 on T3: August and October, nothing in September
    put(engine, "netcare_workorders", [workorder(T2, customer="丙客户"), workorder(T3, customer="丁客户")], D(2025, 12, 1))
    put(engine, "netcare_resident_attendance",
        [att(T2, "E2", D(2025, 12, d), name="王五") for d in (29, 30, 31)]
        + [att(T3, "E3", D(2026, 8, 31), name="赵六"), att(T3, "E3", D(2026, 10, 12), name="赵六")], D(2026, 10, 12))
    BD = D(2026, 10, 31)
    run(engine, tmp_path, BD)
    got = {k: (r["due_date"], r["status"]) for k, r in expected(engine, BD).items()}
    # go-live unset: the earliest extract date (1 Dec 2025); T1's attendance arrives day by day (on time),
    # T2's and T3's August day only in the extract of 12 Oct (after their due dates: late)
    assert got == {
        # first week clipped to the first attendance day (Wed 16 Sep); make-up Sunday 20 Sep inside
        ("weekly", T1, "E1", D(2026, 9, 16), D(2026, 9, 20)): (D(2026, 9, 21), "generated"),
        ("weekly", T1, "E1", D(2026, 9, 21), D(2026, 9, 27)): (D(2026, 9, 28), "generated"),
        # the week spanning September and October: Monday 5 Oct is National Day -> Thu 8 Oct
        ("weekly", T1, "E1", D(2026, 9, 28), D(2026, 10, 4)): (D(2026, 10, 8), "generated"),
        # last week clipped to the last attendance day (Fri 9 Oct; the make-up Saturday was not worked)
        ("weekly", T1, "E1", D(2026, 10, 5), D(2026, 10, 9)): (D(2026, 10, 12), "generated"),
        ("monthly", T1, "E1", D(2026, 9, 16), D(2026, 9, 30)): (D(2026, 10, 8), "generated"),
        ("monthly", T1, "E1", D(2026, 10, 1), D(2026, 10, 9)): (D(2026, 11, 2), "generated"),  # 1 Nov: Sunday
        # December 2025: 1 Jan is a holiday, Sun 4 Jan 2026 a make-up working day
        ("weekly", T2, "E2", D(2025, 12, 29), D(2025, 12, 31)): (D(2026, 1, 5), "late"),
        ("monthly", T2, "E2", D(2025, 12, 29), D(2025, 12, 31)): (D(2026, 1, 4), "late"),
        # no September report for E3: no attendance that month
        ("weekly", T3, "E3", D(2026, 8, 31), D(2026, 9, 6)): (D(2026, 9, 7), "late"),
        ("monthly", T3, "E3", D(2026, 8, 31), D(2026, 8, 31)): (D(2026, 9, 1), "late"),
        ("weekly", T3, "E3", D(2026, 10, 12), D(2026, 10, 12)): (D(2026, 10, 19), "generated"),
        ("monthly", T3, "E3", D(2026, 10, 1), D(2026, 10, 12)): (D(2026, 11, 2), "generated"),
    }
    rows = expected(engine, BD)
    # the clipped weekly of E3 (Mon 31 Aug) stays clipped to the first day, not widened to the last
    assert rows[("weekly", T3, "E3", D(2026, 8, 31), D(2026, 9, 6))]["attendance_days"] == 1
    # the sheet reads the snapshot
    assert (tmp_path / "outputs" / BD.isoformat() / "resident_reports.csv").exists()


def test_status_and_files_do_not_depend_on_which_dates_ran_before(engine, tmp_path):
    national_day_world(engine)
    oct8, sep28 = D(2026, 10, 8), D(2026, 9, 28)
    run(engine, tmp_path, oct8)
    st = {(k[0], k[3]): r["status"] for k, r in expected(engine, oct8).items()}
    assert st == {
        ("weekly", D(2026, 9, 16)): "generated",  # due 21 Sep, its attendance visible day by day
        ("weekly", D(2026, 9, 21)): "generated",
        ("weekly", D(2026, 9, 28)): "generated",  # due 8 Oct, the run's own date
        ("monthly", D(2026, 9, 16)): "generated",
        ("weekly", D(2026, 10, 5)): "not due",  # the week is not over
        ("monthly", D(2026, 10, 1)): "not due",
    }
    rows = expected(engine, oct8)
    assert rows[("weekly", T1, "E1", D(2026, 10, 5), D(2026, 10, 8))]["version_label"] is None
    later_first = {k: (r["status"], r["available_on"], r["version_label"], r["pdf_path"]) for k, r in rows.items()}
    # a backfill of 28 Sep after 8 Oct: what 28 Sep shows is what 28 Sep alone would show ...
    run(engine, tmp_path, sep28)
    st28 = {(k[0], k[3]): (r["status"], r["available_on"]) for k, r in expected(engine, sep28).items()}
    assert st28[("weekly", D(2026, 9, 21))] == ("generated", D(2026, 9, 27))
    assert st28[("weekly", D(2026, 9, 16))] == ("generated", D(2026, 9, 20))
    assert st28[("weekly", D(2026, 9, 28))] == ("not due", D(2026, 10, 4))
    # ... and 8 Oct run again after it gives the same statuses, dates, labels and paths
    run(engine, tmp_path, oct8)
    again = {k: (r["status"], r["available_on"], r["version_label"], r["pdf_path"])
             for k, r in expected(engine, oct8).items()}
    assert again == later_first


def test_failed_report_is_missing(engine, tmp_path, monkeypatch):
    national_day_world(engine)
    real = reports.render_html

    def broken(data, version):
        if data["kind"] == "monthly":
            raise ValueError("boom")
        return real(data, version)

    monkeypatch.setattr(reports, "render_html", broken)
    nov3 = D(2026, 11, 3)
    result = run(engine, tmp_path, nov3)
    assert result["failed"], "the builder reports the documents it could not render (the step then fails)"
    st = {(k[0], k[3]): r["status"] for k, r in expected(engine, nov3).items()}
    assert st[("monthly", D(2026, 9, 16))] == "missing"  # due 8 Oct, nothing generated
    assert st[("monthly", D(2026, 10, 1))] == "missing"  # due 2 Nov
    assert st[("weekly", D(2026, 10, 5))] == "generated"
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from mart.resident_report_versions where report_kind = 'monthly'")).scalar_one() == 0
    monkeypatch.setattr(reports, "render_html", real)
    run(engine, tmp_path, nov3)
    st = {(k[0], k[3]): r["status"] for k, r in expected(engine, nov3).items()}
    assert st[("monthly", D(2026, 10, 1))] == "generated"


def listed_sha256(result) -> dict[str, str]:
    """documents.csv's sha256 by path (the reports' rows)."""
    lines = list(csv.reader(io.StringIO(Path(result["documents_csv"]).read_text(encoding="utf-8-sig"))))[1:]
    return {r[5]: r[6] for r in lines if r[0] in reports.KIND_ZH.values()}


def on_disk_sha256(result) -> dict[str, str]:
    return {p: hashlib.sha256((reports.reports_dir() / p).read_bytes()).hexdigest() for p in listed_sha256(result)}


def test_byte_identical_rerun_and_new_version_on_changed_input(engine, tmp_path):
    national_day_world(engine)
    oct8 = D(2026, 10, 8)
    first = run(engine, tmp_path, oct8)
    assert first["rendered"] == 4 and first["generated_this_run"] == 4
    rows = expected(engine, oct8)
    week = rows[("weekly", T1, "E1", D(2026, 9, 28), D(2026, 10, 4))]
    before = file_bytes(week)
    assert listed_sha256(first) == on_disk_sha256(first)  # recorded when written, equal to the file's
    # rerun with the same inputs: same versions, nothing rendered again
    again = run(engine, tmp_path, oct8)
    assert again["rendered"] == 0 and again["generated_this_run"] == 0
    assert listed_sha256(again) == listed_sha256(first)
    # versions written before the sha256 was recorded: hashed from their files once, then recorded
    with engine.begin() as c:
        c.execute(sa.text("update mart.resident_report_versions set pdf_sha256 = null"))
    assert listed_sha256(run(engine, tmp_path, oct8)) == on_disk_sha256(first)
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from mart.resident_report_versions "
                                 "where pdf_path is not null and pdf_sha256 is null")).scalar() == 0
    # files lost: re-rendered byte for byte
    for k in ("html", "pdf", "xlsx"):
        (reports.reports_dir() / week[f"{k}_path"]).unlink()
    third = run(engine, tmp_path, oct8)
    assert third["rendered"] == 1
    assert file_bytes(expected(engine, oct8)[("weekly", T1, "E1", D(2026, 9, 28), D(2026, 10, 4))]) == before
    # a later run sees the approved exception flow of 30 Sep (delivered 9 Oct): a new version of the
    # week and of September, the other reports keep theirs
    oct12 = D(2026, 10, 12)
    run(engine, tmp_path, oct12)
    rows = expected(engine, oct12)
    week2 = rows[("weekly", T1, "E1", D(2026, 9, 28), D(2026, 10, 4))]
    assert (week2["version"], week2["version_generated_on"], week2["available_on"], week2["status"]) == \
        (2, oct12, D(2026, 10, 4), "generated")
    assert week2["version_label"] == week2["content_hash"][:8] != week["version_label"]
    assert week2["pdf_path"].endswith(f"_{week2['version_label']}.pdf")
    assert rows[("monthly", T1, "E1", D(2026, 9, 16), D(2026, 9, 30))]["version"] == 2
    assert rows[("weekly", T1, "E1", D(2026, 9, 21), D(2026, 9, 27))]["version"] == 1
    assert rows[("weekly", T1, "E1", D(2026, 10, 5), D(2026, 10, 9))]["version"] == 1
    assert week2["pdf_path"] != week["pdf_path"] and (reports.reports_dir() / week["pdf_path"]).exists()
    html1 = before["html"].decode()
    html2 = file_bytes(week2)["html"].decode()
    assert "未提交异常电子流" in html1 and "异常电子流已批准，豁免" in html2


def test_report_content_and_pdf_text(engine, tmp_path):
    national_day_world(engine)
    run(engine, tmp_path, D(2026, 10, 12))
    rows = expected(engine, D(2026, 10, 12))
    week = rows[("weekly", T1, "E1", D(2026, 9, 28), D(2026, 10, 4))]
    files = file_bytes(week)
    text = render.pdf_text(files["pdf"])
    flat = "".join(text.split())
    for needle in ("驻场周报", "张三", "甲客户", T1, "2026年9月28日至2026年10月4日", "核心交换机巡检", "XC-9"):
        assert needle in flat, needle
    assert "13800000000" not in text and b"13800000000" not in files["html"]
    html = files["html"].decode()
    assert "迟到 15 分钟" in html and "电子流审批中，须于 2026-10-13 前批准" in html
    assert "驳回的填报" not in html and "XC-8" not in html  # rejected entry; another customer's ticket
    wb = load_workbook(io.BytesIO(files["xlsx"]))
    hours = {r[0]: r[1] for r in wb["工时汇总"].iter_rows(min_row=2, values_only=True)}
    assert hours == {"现场": "8", "远程": "2.5", "合计": "10.5"}
    tickets = list(wb["问题处理清单"].iter_rows(min_row=2, values_only=True))
    assert [(t[0], t[2], t[6]) for t in tickets] == [("XC-9", "已关闭", "新开、关闭")]
    summary = {r[0]: r[1] for r in wb["概要"].iter_rows(min_row=2, values_only=True)}
    # the week's attendance ends on Wed 30 Sep (National Day follows): September's totals, not an empty October
    assert summary["2026-09 月累计异常（上限 4）"] == 1  # the late arrival of 29 Sep
    assert summary["近三个月累计异常 2026-07 起（上限 12）"] == 1
    # the monthly report: September's resident PO cycle and the 3-month trend
    month = rows[("monthly", T1, "E1", D(2026, 9, 16), D(2026, 9, 30))]
    mfiles = file_bytes(month)
    mtext = "".join(render.pdf_text(mfiles["pdf"]).split())
    for needle in ("驻场月报", "张三", "2026年9月（", "第1期：2026年9月1日至2026年9月30日"):
        assert needle in mtext, needle
    # the customer reads these: no price, amount, PO, ISC state, remark or deadline
    for doc in (flat, mtext, "".join(html.split()), "".join(mfiles["html"].decode().split())):
        assert not re.search(r"\d,\d{3}\.\d{2}|\d\.\d{2}元", doc), re.search(r"\d,\d{3}\.\d{2}|\d\.\d{2}元", doc)
        for word in ("金额", "单价", "元", "ISC", "PO", "待提交验收", "验收周期:", "应交日期", "截止日", "状态：可提交"):
            assert word not in doc, word
    mwb_sheets = load_workbook(io.BytesIO(mfiles["xlsx"]))
    for ws in mwb_sheets.worksheets:
        cells = " ".join(str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None)
        assert "金额" not in cells and "ISC" not in cells and "PO" not in cells, (ws.title, cells)
    look = PROJECT_ROOT / "var" / "test-artifacts" / "reports"  # kept for people to look at (pdftoppm)
    look.mkdir(parents=True, exist_ok=True)
    (look / "weekly.pdf").write_bytes(files["pdf"])
    (look / "monthly.pdf").write_bytes(mfiles["pdf"])
    mwb = load_workbook(io.BytesIO(mfiles["xlsx"]))
    trend = [r for r in mwb["近三个月趋势"].iter_rows(min_row=2, values_only=True)]
    assert [(t[0], t[1], t[2]) for t in trend] == [("2026-07", 0, 0), ("2026-08", 0, 0), ("2026-09", len(
        working_days(engine, D(2026, 9, 16), D(2026, 9, 30))), 1)]


# the definition the ticket list keeps: the work orders as a run at the end of the period saw them
AS_OF_PERIOD_END = """
select r.report_kind, r.ticket_no as report_ticket_no, r.engineer_id, r.period_key, w.ticket_no, w.status,
       w.closed_at
from report_periods as r
cross join lateral staging.netcare_workorders(cast(r.period_end + 1 as timestamp)) as w
where r.period_over and w.customer_name = r.customer_name and w.ticket_no <> r.ticket_no
    and ((w.created_at >= r.period_start and w.created_at < r.period_end + 1)
         or (w.closed_at >= r.period_start and w.closed_at < r.period_end + 1))
"""


def test_ticket_list_is_the_state_as_of_each_period_end(engine, tmp_path):
    """XC-7 changes in three extracts after its first (dispatched 29 Sep, closed 5 Oct in the 6 Oct
    extract, moved to another customer in the 9 Oct one): each report lists it as the work-order
    extract stood at the end of its period, read from the work orders' versions in one pass; the
    lists equal the as-of function's state per period end, report by report."""
    national_day_world(engine)
    created = at(D(2026, 9, 29), 9)
    # T1 itself, created in the first week of its attendance: in its customer's list, never in its own report
    put(engine, "netcare_workorders", [workorder("XC-7", "现场问题处理", created_at=created, status="已派发"),
                                       workorder(T1, po_no="PO-ZC1", created_at=at(D(2026, 9, 16), 8))], D(2026, 9, 29))
    put(engine, "netcare_workorders", [workorder("XC-7", "现场问题处理", created_at=created, status="已关闭",
                                                 closed_at=at(D(2026, 10, 5), 16))], D(2026, 10, 6))
    put(engine, "netcare_workorders", [workorder("XC-7", "现场问题处理", customer="乙客户", created_at=created,
                                                 status="已关闭", closed_at=at(D(2026, 10, 5), 16))], D(2026, 10, 9))
    business_date = D(2026, 10, 12)
    run(engine, tmp_path, business_date)
    params = bind_params(business_date)
    with engine.begin() as conn:
        periods, content = reports.collect(conn, params)
        printed = [reports.report_data(p, content.get(reports._key(p), {}), params) for p in periods if p["period_over"]]
        oracle: dict[tuple, list] = {}
        for r in conn.execute(sa.text(AS_OF_PERIOD_END + " order by 1, 2, 3, 4, 5")):
            oracle.setdefault((r.report_kind, r.report_ticket_no, r.engineer_id, r.period_key.isoformat()), []).append(
                (r.ticket_no, r.status, f"{r.closed_at:%Y-%m-%d %H:%M}" if r.closed_at else ""))
    listed = {(d["kind"], d["ticket_no"], d["engineer_id"], d["period_key"]):
              [(t["ticket_no"], t["status"], t["closed_at"]) for t in d["tickets"]] for d in printed if d["tickets"]}
    assert {k: sorted(v) for k, v in listed.items()} == oracle
    xc7 = {(k[0], k[3]): [t for t in v if t[0] == "XC-7"] for k, v in listed.items()}
    assert xc7[("weekly", "2026-09-28")] == [("XC-7", "已派发", "")]  # the 29 Sep extract, as of 4 Oct
    assert xc7[("monthly", "2026-09-01")] == [("XC-7", "已派发", "")]
    # as of 9 Oct XC-7 is another customer's: neither October report lists it, closed in their period or not
    assert xc7.get(("weekly", "2026-10-05"), []) == xc7.get(("monthly", "2026-10-01"), []) == []
    assert all(t[0] != T1 for v in listed.values() for t in v)  # T1's own reports leave T1 out
    assert ("XC-7", "已派发", "") in listed[("monthly", T1, "E1", "2026-09-01")]


def test_content_hash_of_shared_ticket_lists_is_the_plain_hash():
    """The night's cache of ticket-entry JSON changes nothing in what is hashed, whatever the text."""
    shared = [reports.ticket_entry({"ticket_no": no, "ticket_type": kind, "status": "已关闭", "engineer_name": name,
                                    "created_at": dt.datetime(2026, 11, 3, 9, 12, 7), "closed_at": None,
                                    "opened_in_period": True, "closed_in_period": False})
              for no, kind, name in (("XC-1", '引号"与\\反斜杠', "张三"), ("XC-2", "\u0000tickets\u0000", "李四"))]
    assert shared[0]["created_at"] == "2026-11-03 09:12" and shared[0]["closed_at"] == ""
    cache: dict[int, str] = {}
    for own, note in (("XC-1", "说明"), ("ZC-9", "说明"), ("ZC-9", "\u0000tickets\u0000")):  # the last: hashed plainly
        data = {"kind": "weekly", "ticket_no": own, "note": note, "attendance": [],
                "tickets": [t for t in shared if t["ticket_no"] != own] if own == "XC-1" else shared}
        assert reports.content_hash(data, cache) == reports.content_hash(data)
    assert len(cache) == 2  # the list without XC-1, and the shared list once for two reports
    assert reports.content_hash({"kind": "weekly", "tickets": []}, cache) == reports.content_hash({"kind": "weekly", "tickets": []})
