"""The download page's timeliness sections (issue 16): what falls due (reminders, at the top) and the
monthly KPI trends as inline SVG (no script, no CDN), both restricted to the clerk's regions — the
partner-wide 全部 line only for users who see every region. Business date: the newest with KPI rows."""

from __future__ import annotations

import datetime as dt
import html

import sqlalchemy as sa

from fieldrecon.outputs import reminders
from fieldrecon.outputs.kpi import ALL, KPI_ZH, KPIS
from fieldrecon.portal.access import allowed
from fieldrecon.recon.rules import bind_params

COLOURS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
W, H, LEFT, RIGHT, TOP, BOTTOM = 560, 200, 44, 110, 12, 28


def latest_kpi_date(conn: sa.Connection) -> dt.date | None:
    return conn.execute(sa.text("select max(business_date) from mart.kpi_monthly")).scalar()


def timeliness_view(engine: sa.Engine, regions) -> dict:
    """{business_date, reminders: [...], charts: [{kpi, title, svg, rows}]} for these regions."""
    with engine.connect() as conn:
        d = latest_kpi_date(conn)
        if d is None:
            return {"business_date": None, "reminders": [], "charts": []}
        rows = reminders.reminder_rows(conn, bind_params(d))
        kpi = [dict(r._mapping) for r in conn.execute(sa.text(
            "select region, month, kpi, checked, on_time, rate, target, met from mart.kpi_monthly "
            "where business_date = :d order by month, region"), {"d": d})]
    due = [r for r in rows if allowed(regions, None if r["region"] == "总部" else r["region"])]
    visible = [r for r in kpi if (r["region"] == ALL and regions is None)
               or (r["region"] != ALL and allowed(regions, r["region"]))]
    charts = []
    for k in KPIS:
        mine = [r for r in visible if r["kpi"] == k]
        if mine:
            charts.append({"kpi": k, "title": KPI_ZH[k], "svg": trend_svg(mine, 0.03 if k == "po_rejection" else None),
                           "rows": mine})
    return {"business_date": d, "reminders": due, "charts": charts}


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def trend_svg(rows: list[dict], target: float | None) -> str:
    """One small line chart: monthly rate per region (0–100 %), a dashed target line when given."""
    months = sorted({r["month"] for r in rows})
    regions = sorted({r["region"] for r in rows}, key=lambda g: (g != ALL, g))
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (pw * i / (len(months) - 1) if len(months) > 1 else pw / 2)

    def y(v: float) -> float:
        return TOP + ph * (1 - v)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">']
    for v in (0, 0.25, 0.5, 0.75, 1):
        out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>'
                   f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{_pct(v)}</text>')
    for i, m in enumerate(months):
        out.append(f'<text x="{x(i):.1f}" y="{H - 8}" font-size="10" text-anchor="middle">{html.escape(m)}</text>')
    if target is not None:
        out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y(target):.1f}" y2="{y(target):.1f}" stroke="#c00000" '
                   f'stroke-dasharray="5,3"/><text x="{LEFT + pw + 4}" y="{y(target) + 4:.1f}" font-size="10" '
                   f'fill="#c00000">目标 {_pct(target)}</text>')
    rate = {(r["region"], r["month"]): float(r["rate"]) for r in rows}
    for n, g in enumerate(regions):
        colour = COLOURS[n % len(COLOURS)]
        pts = [(x(i), y(rate[(g, m)]), m) for i, m in enumerate(months) if (g, m) in rate]
        if len(pts) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in pts)
            out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for px, py, m in pts:
            out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"><title>{html.escape(g or "（无区域）")} '
                       f'{html.escape(m)}：{_pct(rate[(g, m)])}</title></circle>')
        ly = TOP + 12 + 14 * n
        out.append(f'<rect x="{W - RIGHT + 30}" y="{ly - 8}" width="10" height="3" fill="{colour}"/>'
                   f'<text x="{W - RIGHT + 44}" y="{ly}" font-size="11">{html.escape(g or "（无区域）")}</text>')
    out.append("</svg>")
    return "".join(out)
