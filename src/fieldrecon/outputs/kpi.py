"""The monthly KPI statistics for clerks (part 12 KPIs 8, 11, 12, 22): the table of kpi_monthly.csv in
Chinese words on sheet KPI统计 with one native Excel line chart per kpi — the monthly rate per region
and for the whole partner, with the 3 % target line on the PO rejection rate. The charts read a
month × region grid on sheet KPI趋势数据."""

from __future__ import annotations

import sqlalchemy as sa
from openpyxl.chart import LineChart, Reference
from openpyxl.workbook import Workbook

from fieldrecon.outputs.xlsx import finish_sheet
from fieldrecon.settings import SQL_DIR

KPIS = ("dispatch", "arrival", "closure", "po_rejection")
KPI_ZH = {
    "dispatch": "派发及时率（KPI 8）",
    "arrival": "到场及时率（KPI 11）",
    "closure": "关单及时率（KPI 12）",
    "po_rejection": "PO验收驳回率（KPI 22，目标 ≤ 3%）",
}
ALL = "全部"
SHEET, DATA_SHEET = "KPI统计", "KPI趋势数据"


def kpi_rows(conn: sa.Connection, params: dict) -> list[dict]:
    """The rows of kpi_monthly.csv (include/sql/mart/csv/kpi_monthly.sql)."""
    sql = (SQL_DIR / "mart" / "csv" / "kpi_monthly.sql").read_text(encoding="utf-8")
    return [dict(r._mapping) for r in conn.execute(sa.text(sql), params)]


def add_kpi_sheets(wb: Workbook, rows: list[dict]) -> int:
    """Sheet KPI统计 (table and charts) and its chart data sheet; returns the table's row count."""
    ws = wb.create_sheet(SHEET)
    ws.append(["区域", "月份", "指标", "考核数", "及时数（驳回率：驳回数）", "比率", "目标", "是否达标"])
    for r in rows:
        met = "" if r["met"] is None else ("达标" if r["met"] else "未达标")
        ws.append([r["region"] or "（无区域）", r["month"], KPI_ZH[r["kpi"]], r["checked"], r["on_time"],
                   float(r["rate"]), "≤ 3%" if r["target"] is not None else "无（仅展示）", met])
    for row in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        row[0].number_format = "0.00%"
    finish_sheet(ws)
    if not rows:
        return 0
    data = wb.create_sheet(DATA_SHEET)
    months = sorted({r["month"] for r in rows})
    regions = [ALL, *sorted({r["region"] for r in rows} - {ALL})]
    rate = {(r["region"], r["month"], r["kpi"]): float(r["rate"]) for r in rows}
    anchor_row = 2
    top = 1
    for kpi in KPIS:
        present = [g for g in regions if any((g, m, kpi) in rate for m in months)]
        if not present:
            continue
        target = next((float(r["target"]) for r in rows if r["kpi"] == kpi and r["target"] is not None), None)
        header = ["月份", *[g or "（无区域）" for g in present], *(["目标 3%"] if target is not None else [])]
        data.cell(top, 1, KPI_ZH[kpi])
        for j, h in enumerate(header, start=1):
            data.cell(top + 1, j, h)
        for i, m in enumerate(months, start=top + 2):
            data.cell(i, 1, m)
            for j, g in enumerate(present, start=2):
                if (g, m, kpi) in rate:
                    data.cell(i, j, rate[(g, m, kpi)]).number_format = "0.00%"
            if target is not None:
                data.cell(i, len(present) + 2, target).number_format = "0.00%"
        last = top + 1 + len(months)
        chart = LineChart()
        chart.title = KPI_ZH[kpi]
        chart.y_axis.title = "比率"
        chart.x_axis.title = "月份"
        chart.y_axis.number_format = "0%"
        chart.y_axis.scaling.min = 0
        chart.height, chart.width = 7.5, 16
        chart.add_data(Reference(data, min_col=2, max_col=len(header), min_row=top + 1, max_row=last),
                       titles_from_data=True)
        chart.set_categories(Reference(data, min_col=1, min_row=top + 2, max_row=last))
        for series in chart.series:
            series.marker.symbol = "circle"  # a month alone still shows
            series.smooth = False
        if target is not None:
            line = chart.series[-1]
            line.graphicalProperties.line.solidFill = "C00000"
            line.graphicalProperties.line.dashStyle = "dash"
            line.marker.symbol = "none"
        ws.add_chart(chart, f"J{anchor_row}")
        anchor_row += 16
        top = last + 2
    return len(rows)
