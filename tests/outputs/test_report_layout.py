"""The printed resident report as the customer reads it: no internal approval wording, and the
signature boxes on the page of the report's last section, never alone on a page of their own."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from fieldrecon.outputs import reports

pytestmark = pytest.mark.unit


def report(kind: str, timesheet_rows: int) -> dict:
    days = 20 if kind == "monthly" else 5
    attendance = [{"date": f"2026-10-{d:02d}", "weekday": "周一", "shift": "08:30-17:30", "clock_in": "09:13",
                   "clock_out": "17:40", "in_status": "迟到 43 分钟", "out_status": "正常", "leave": "",
                   "flow": "审批中", "handling": "电子流审批中，须于 2026-11-06 前批准", "note": "计入异常",
                   "counted": 1} for d in range(1, days + 1)]
    data = {
        "kind": kind, "title": reports.KIND_ZH[kind], "ticket_no": "WO1", "engineer_id": "E1", "engineer_name": "张三",
        "customer_name": "甲客户", "site_address": "杭州市", "region": "浙江", "period_key": "2026-10-01",
        "period_start": "2026-10-01", "period_end": f"2026-10-{days:02d}", "period_label": "2026年10月",
        "attendance": attendance,
        "attendance_totals": {"days": days, "anomalies": days, "excused_days": 0, "leave_days": 0, "open_gaps": days},
        "hours_by_kind": [{"kind": "现场", "hours": "8", "entries": timesheet_rows}], "hours_total": "8",
        "timesheet": [{"date": "2026-10-01", "kind": "现场", "hours": "8", "note": "巡检"}] * timesheet_rows,
        "tickets": [], "tickets_opened": 0, "tickets_closed": 0,
        "anomalies": {"month": "2026-10", "first_month_of_3": "2026-08", "month_to_date": 3, "month_limit": 4,
                      "month_state": "未超限", "three_months": 3, "three_month_limit": 12, "three_month_state": "未超限"},
    }
    if kind == "monthly":
        data["cycles"] = []
        data["trend"] = [{"month": "2026-10", "attendance_days": days, "ticket_anomalies": 3, "engineer_anomalies": 3,
                          "engineer_3m_anomalies": 3, "hours": "160"}]
    return data


@pytest.mark.parametrize("kind", ["weekly", "monthly"])
def test_signatures_never_alone_and_no_approval_wording(kind):
    for rows in range(0, 40, 3):  # content ending anywhere on the page
        pages = [p.extract_text() for p in PdfReader(io.BytesIO(reports.render_pdf(report(kind, rows), "abc"))).pages]
        text = "".join("".join(pages).split())
        for word in ("审批", "须于", "截止", "待处理", "电子流"):
            assert word not in text, (kind, rows, word)
        assert "计入异常" in text
        last = pages[-1]
        assert "客户确认" in last
        others = [line for line in last.splitlines() if line.strip() and not any(
            w in line for w in ("驻场工程师", "客户确认", "签字", "文件编号"))]
        assert others, (kind, rows, "signature boxes alone on the last page")


STEMS = "甲乙丙丁戊己庚辛壬癸"  # a name per ticket (甲乙丙, 甲乙丁 …): a run of text of its own


def _tickets(n: int, name: str = "张三") -> list[dict]:
    return [{"ticket_no": f"WO2026{i:09d}", "ticket_type": ("高级软件现场支持", "巡检", "POC")[i % 3],
             "status": ("已关闭", "待审核")[i % 2], "engineer_name": name if i == n // 2 else "".join(STEMS[int(d)] for d in f"{i:03d}"),
             "created_at": f"2026-10-{1 + i % 28:02d} {i // 60 % 24:02d}:{i % 60:02d}",
             "closed_at": "" if i % 2 else f"2026-11-{1 + i % 28:02d} {i // 60 % 24:02d}:{i % 60:02d}",
             "change": ("新开", "关闭", "新开、关闭")[i % 3]} for i in range(n)]


def _baselines(pdf: bytes) -> list[dict[str, float]]:
    """Per page: each text run's baseline (the y of its text matrix)."""
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        found: dict[str, float] = {}

        def visit(text, cm, tm, *_, found=found):
            if text.strip():
                found.setdefault(text.strip(), round(cm[5] + tm[5] * cm[3], 1))

        page.extract_text(visitor_text=visit)
        pages.append(found)
    return pages


@pytest.mark.parametrize("name, column_at_a_time", [("张三", True), ("阿卜杜热合曼·买买提·艾力", False)])
def test_ticket_list_rows_line_up_on_every_page(name, column_at_a_time):
    """The customer's tickets, 150 of them over several pages: typeset a column at a time when every
    value fits its column, a cell per value when one does not (a long name wraps in its cell); either
    way each ticket's number, handling engineer and creation time sit on one line, and every value is printed."""
    from fieldrecon.outputs import render

    data = report("weekly", 3) | {"tickets": _tickets(150, name), "tickets_opened": 150}
    assert render.fits_columns(data["tickets"], reports.TICKET_COLUMNS) is column_at_a_time
    pdf = reports.render_pdf(data, "abc")
    pages = _baselines(pdf)
    assert len(pages) >= 3
    seen = 0
    for found in pages:
        for t in data["tickets"]:
            if t["ticket_no"] in found:
                seen += 1
                assert found[t["created_at"]] == found[t["ticket_no"]], t
                if t["engineer_name"] != name:
                    assert found[t["engineer_name"]] == found[t["ticket_no"]], t
    assert seen == 150
    assert name in "".join(render.pdf_text(pdf).split())


def test_text_width_is_an_upper_bound_at_the_regular_weight():
    from fieldrecon.outputs import render

    assert render.text_width_em("已关闭") == 3.0  # ideographs: 1 em each
    digits = render.text_width_em("2026-10-13 13:55")
    assert 7.5 < digits < 8.4  # Noto Sans SC at wght 400: digits 0.555 em, plus 2 %
    assert render.text_width_em("张San") > render.text_width_em("张") + render.text_width_em("San")  # CJK-Latin space
    columns = [("a", 3.0)]
    assert render.fits_columns([{"a": "已关闭"}], columns)
    assert not render.fits_columns([{"a": "已关闭了"}], columns)
    assert render.fits_columns([{"a": None}], columns)
