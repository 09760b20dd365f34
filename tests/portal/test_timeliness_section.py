"""The download page's timeliness sections (issue 16): reminders at the top and the monthly KPI trends
as inline SVG (no script), each restricted to the clerk's regions; 全部 only for every-region users."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fieldrecon.portal import queries, timeliness
from fieldrecon.portal.page import render_page
from fieldrecon.recon.rules import run_family
from tests.factories import clear
from tests.outputs.test_timeliness_outputs import BD, seed

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def seeded(engine):
    clear(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.cycle_schedule, mart.kpi_monthly, mart.attendance_summary, mart.rfc_watch"))
    seed(engine)
    for family in ("attendance", "changes", "po", "timeliness"):
        run_family(engine, family, BD)


def page_of(view, regions) -> str:
    return render_page(user="clerk", regions=regions, can_mark=False, csrf_token="t", filters=queries.Filters(),
                       packs=[], files=[], reports_date=None, reports=[], findings_date=None, findings=[],
                       rule_codes=[], timeliness=view)


def test_clerk_sees_own_region_only(engine, seeded):
    view = timeliness.timeliness_view(engine, {"浙江"})
    assert view["business_date"] == BD
    assert [(r["kind"], r["region"]) for r in view["reminders"]] == [("PO-02", "浙江"), ("SL-04", "浙江"), ("RA-06", "浙江")]
    assert [c["kpi"] for c in view["charts"]] == ["po_rejection"]  # the dispatch KPI here is 上海's only
    assert {r["region"] for c in view["charts"] for r in c["rows"]} == {"浙江"}
    html = page_of(view, {"浙江"})
    assert html.index('id="reminders"') < html.index('id="packs"')  # at the top
    assert "K1" in html and "RFC1" not in html and "上海" not in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "目标 3%" in svg and 'stroke-dasharray="5,3"' in svg and "<circle" in svg
    assert "<script" not in html


def test_every_region_user_sees_the_partner_line(engine, seeded):
    view = timeliness.timeliness_view(engine, None)
    assert [c["kpi"] for c in view["charts"]] == ["dispatch", "po_rejection"]
    assert {r["region"] for r in view["charts"][0]["rows"]} == {"上海", "全部"}
    assert {r["kind"] for r in view["reminders"]} == {"CH-02", "PO-02", "SL-04", "RA-06"}
    assert "全部" in page_of(view, None)


def test_nothing_yet(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.kpi_monthly"))
    view = timeliness.timeliness_view(engine, {"浙江"})
    assert view == {"business_date": None, "reminders": [], "charts": []}
    assert "暂无即将到期的事项" in page_of(view, {"浙江"})
