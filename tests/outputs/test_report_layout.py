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
