"""The warehouse's reference tables hold what the code defines, and the SQL reads them: AT-01 checks
the attachments ref.required_attachments lists (written from contract.REQUIRED_ATTACHMENTS on every
migrate), the sheets' words come from ref.labels, the titles from recon.rule_catalogue."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldrecon import labels
from fieldrecon.contract import REQUIRED_ATTACHMENTS
from fieldrecon.recon import rules
from fieldrecon.recon.rules import run_family
from fieldrecon.warehouse import migrate
from tests.factories import clear, findings, put

pytestmark = pytest.mark.db

BD = dt.date(2026, 11, 3)
EXTRACT = dt.date(2026, 11, 1)


def test_tables_equal_the_definitions(engine):
    with engine.connect() as conn:
        attachments = conn.execute(sa.text(
            "select ticket_type, kind from ref.required_attachments order by ticket_type, list_order")).all()
        words = conn.execute(sa.text("select kind, code, label_zh from ref.labels")).all()
    expected = {t: tuple(k for tt, k in attachments if tt == t) for t, _ in attachments}
    assert expected == REQUIRED_ATTACHMENTS
    assert {(k, c): w for k, c, w in words} == {(k, c): w for k, d in labels.LABELS.items() for c, w in d.items()}


def test_at01_reads_the_attachments_table(engine):
    clear(engine)
    put(engine, "netcare_workorders", [
        {"ticket_no": "WO1", "ticket_type": "巡检", "status": "已关闭", "region": "浙江", "customer_name": "某银行",
         "created_at": dt.datetime(2026, 9, 1, 9)},
    ], EXTRACT)
    put(engine, "netcare_attachments", [
        {"ticket_no": "WO1", "kind": kind, "file_name": f"WO1_某银行_{kind}.zip"}
        for kind in REQUIRED_ATTACHMENTS["巡检"] if kind != "健康检查报告"
    ], EXTRACT)
    run_family(engine, "po", BD)
    assert [f["details"]["missing"] for f in findings(engine, BD, "AT-01")] == [["健康检查报告"]]
    with engine.begin() as conn:  # a warehouse whose table says 巡检 needs no 健康检查报告
        conn.execute(sa.text("delete from ref.required_attachments where ticket_type = '巡检' and kind = '健康检查报告'"))
    run_family(engine, "po", BD)
    assert findings(engine, BD, "AT-01") == []
    migrate.migrate(engine)  # every run rewrites the table from the code
    run_family(engine, "po", BD)
    assert [f["details"]["missing"] for f in findings(engine, BD, "AT-01")] == [["健康检查报告"]]


def test_rule_catalogue_per_date_with_its_thresholds(engine):
    with engine.begin() as conn:
        rules.write_catalogue(conn, BD, {"pd04_min_gap_minutes": 90})
        rules.write_catalogue(conn, BD + dt.timedelta(days=1))
        rules.write_catalogue(conn, BD, {"pd04_min_gap_minutes": 90})  # a rerun of the date replaces its rows
    with engine.connect() as conn:
        titles = dict(conn.execute(sa.text(
            "select business_date, title from recon.rule_catalogue where rule_code = 'PD-04'")).all())
        n = conn.execute(sa.text("select count(*) from recon.rule_catalogue where business_date = :d"), {"d": BD}).scalar()
    assert titles == {BD: "前后工单间隔不足1.5小时", BD + dt.timedelta(days=1): "前后工单间隔不足1小时"}
    assert n == len(rules.catalogue())
