"""Timeliness outputs of a run (issue 16) on real PostgreSQL: kpi_monthly.csv with exactly the
rulebook's columns, the 服务时效 / KPI统计 (native line charts, 3 % target line) / 到期提醒 sheets and
reminders.csv with SL-04, CH-02, the PO cycle about to become PO-02 and the exception flow still
open before its RA-06 deadline — and nothing else; the digest mails per region built from them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from fieldrecon.outputs import exports, reminders
from fieldrecon.pipeline import make_context
from fieldrecon.recon.rules import bind_params, run_family
from tests.factories import clear, put

pytestmark = pytest.mark.db

D = dt.date
BD = D(2026, 11, 3)  # next working days: Nov 4, 5, 6
KPI_COLUMNS = ["region", "month", "kpi", "checked", "on_time", "rate", "target", "met"]


def at(day, hhmm):
    return dt.datetime.combine(day, dt.time.fromisoformat(hhmm))


def wo(no, ticket_type="单次现场服务", region="浙江", **kw):
    return {"ticket_no": no, "ticket_type": ticket_type, "status": "履行中", "region": region, "customer_name": "某银行",
            "created_at": at(D(2026, 9, 1), "09:00"), **kw}


def seed(engine):
    put(engine, "netcare_workorders", [
        wo("K1"),  # completed Oct 29 -> close request due Nov 5: SL-04
        wo("K2"),  # completed Oct 30 -> due Nov 6, the 3rd working day: no reminder
        wo("H1", "现场问题处理", region="上海", sla_class="小时级", msd_dispatched_at=at(D(2026, 10, 30), "10:00"),
           fsip_dispatched_at=at(D(2026, 10, 30), "10:45")),  # SL-01
        wo("R1", "驻场"),
    ], BD)
    put(engine, "netcare_punches", [
        {"punch_id": "P1", "ticket_no": "K1", "engineer_id": "E1", "punch_type": "完成", "punched_at": at(D(2026, 10, 29), "16:00")},
        {"punch_id": "P2", "ticket_no": "K2", "engineer_id": "E1", "punch_type": "完成", "punched_at": at(D(2026, 10, 30), "16:00")},
    ], BD)
    # CH-02: PM approved Oct 5 10:00 -> deadline Nov 5 10:00, within 7 days
    put(engine, "netcare_rfcs", [
        {"rfc_no": "RFC1", "status": "实施", "region": "上海", "submitted_at": at(D(2026, 10, 1), "09:00"),
         "pm_approved_at": at(D(2026, 10, 5), "10:00")},
    ], BD)
    # PO: line 1 Oct 2 – Oct 29 (under a month: one cycle), submission due by the end of Nov 5 (the 5th
    # working day after Oct 29, the 2nd after the business date): reminder. Line 2's October cycle is
    # rejected (and due only Nov 6): no reminder, but a po_rejection decision.
    put(engine, "isc_po_lines", [
        {"po_no": "PO1", "po_line_no": 1, "service_type": "维保", "region": "浙江", "quantity": Decimal(1),
         "line_amount": Decimal("300.00"), "service_start": D(2026, 10, 2), "service_end": D(2026, 10, 29),
         "issued_on": D(2026, 9, 1), "po_status": "已接收", "customer_name": "某银行"},
        {"po_no": "PO1", "po_line_no": 2, "service_type": "维保", "region": "浙江", "quantity": Decimal(1),
         "line_amount": Decimal("310.00"), "service_start": D(2026, 10, 1), "service_end": D(2026, 10, 31),
         "issued_on": D(2026, 9, 1), "po_status": "已接收", "customer_name": "某银行"},
    ], BD)
    put(engine, "isc_acceptances", [
        {"acceptance_no": "A1", "po_no": "PO1", "po_line_no": 2, "amount": Decimal(1), "approval": "已驳回",
         "decided_on": D(2026, 10, 20), "period_start": D(2026, 10, 1), "period_end": D(2026, 10, 31)},
    ], BD)
    # RA: an anomaly on Oct 30 with its flow 审批中 (deadline Nov 6, not past): reminder; one on Sep 30
    # with its flow still 审批中 (deadline Oct 14 past): RA-06, not a reminder
    put(engine, "netcare_resident_attendance", [
        {"ticket_no": "R1", "engineer_id": "E9", "engineer_name": "王五", "work_date": day, "shift_start": dt.time(8, 30),
         "shift_end": dt.time(17, 30), "clock_in_at": None, "clock_out_at": at(day, "17:40"), "exception_flow": "审批中"}
        for day in (D(2026, 10, 30), D(2026, 9, 30))
    ], BD)
    put(engine, "timesheet_engineers", [{"engineer_id": "E9", "engineer_name": "王五", "region": "江西"}], BD)


@pytest.fixture(scope="module")
def run(engine, tmp_path_factory):
    clear(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.cycle_schedule, mart.kpi_monthly, mart.attendance_summary, mart.rfc_watch"))
    seed(engine)
    for family in ("checkin", "attendance", "changes", "po", "timeliness"):
        run_family(engine, family, BD)
    ctx = make_context(BD, output_root=str(tmp_path_factory.mktemp("out")))
    written = exports.write_all(engine, ctx)
    return ctx, written


def read_csv(path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_kpi_monthly_csv(run):
    ctx, written = run
    from pathlib import Path

    rows = read_csv(Path(ctx.output_dir) / "kpi_monthly.csv")
    assert rows[0] == KPI_COLUMNS
    assert rows[1:] == [
        ["上海", "2026-10", "dispatch", "1", "0", "0.0000", "", ""],
        ["浙江", "2026-10", "po_rejection", "1", "1", "1.0000", "0.03", "false"],
        ["全部", "2026-10", "dispatch", "1", "0", "0.0000", "", ""],
        ["全部", "2026-10", "po_rejection", "1", "1", "1.0000", "0.03", "false"],
    ]
    assert written["kpi_monthly.csv"] == 4


def test_reminders_csv_and_sheet(run):
    ctx, written = run
    from pathlib import Path

    rows = read_csv(Path(ctx.output_dir) / "reminders.csv")
    assert rows[0] == reminders.CSV_COLUMNS
    got = [(r[0], r[1], r[2] or r[4] or f"{r[5]}/{r[6]}/{r[7]}", r[3], r[8], r[9], r[10]) for r in rows[1:]]
    assert got == [
        ("上海", "CH-02", "RFC1", "", "", "2026-11-05 10:00:00", "2"),
        ("浙江", "PO-02", "PO1/1/2026-10-02", "", "", "2026-11-06 00:00:00", "2"),
        ("浙江", "SL-04", "K1", "", "", "2026-11-06 00:00:00", "2"),
        ("浙江", "RA-06", "R1", "E9", "2026-10", "2026-11-07 00:00:00", "3"),
    ]
    ra = rows[4]
    assert "王五" in ra[11] and "1 天" in ra[11] and ra[14] == "PM" and ra[15].startswith("2026-11-06 当天结束前")
    assert "验收周期:2026-10-02至2026-10-29" in rows[2][12]
    wb = load_workbook(Path(ctx.output_dir) / "exceptions.xlsx")
    sheet = wb["到期提醒"]
    assert [c.value for c in sheet[1]][:3] == ["区域", "类型", "工单号"] and sheet.max_row == 5
    assert written["reminders.csv"] == 4


def test_timeliness_and_kpi_sheets_with_native_charts(run):
    ctx, _ = run
    from pathlib import Path

    path = Path(ctx.output_dir) / "exceptions.xlsx"
    wb = load_workbook(path)
    sl = wb["服务时效"]
    header = [c.value for c in sl[1]]
    assert {"收到时间（MSD派单）", "派发时间（FSIP）", "时限", "超时情况"} <= set(header)
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in sl.iter_rows(min_row=2)]
    assert [(r["规则"], r["工单号"], r["超时情况"]) for r in rows] == [
        ("SL-01", "H1", "晚 35 分钟"), ("SL-04", "K1", "尚未申请关单，还剩 2 个工作日")]
    assert rows[0]["时限"] == "2026-10-30 10:10 前"
    kpi = wb["KPI统计"]
    assert [c.value for c in kpi[1]][:3] == ["区域", "月份", "指标"] and kpi.max_row == 5
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        xml = [z.read(n).decode() for n in charts]
    assert len(charts) == 2  # dispatch and po_rejection have data
    assert all("<lineChart>" in x for x in xml)
    target = [x for x in xml if "驳回率" in x]
    assert len(target) == 1 and 'prstDash val="dash"' in target[0]  # the 3 % target line


def test_digest_per_region(engine, run):
    with engine.connect() as conn:
        rows = reminders.reminder_rows(conn, bind_params(BD))
    mails = reminders.digests(rows, BD)
    assert sorted(mails) == ["上海", "浙江"]
    assert mails["浙江"]["count"] == 3 and "到期提醒 2026-11-03：3 项" in mails["浙江"]["subject"]
    assert "K1" in mails["浙江"]["text"] and "RFC1" not in mails["浙江"]["text"]
