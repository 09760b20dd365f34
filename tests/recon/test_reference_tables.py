"""The warehouse's reference tables hold what the code defines, and the SQL reads them: AT-01 checks
the attachments ref.required_attachments lists (written from contract.REQUIRED_ATTACHMENTS on every
migrate), the sheets' words come from ref.labels, the titles from recon.rule_catalogue."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldrecon import labels
from fieldrecon.contract import REQUIRED_ATTACHMENTS
from fieldrecon.outputs import exports
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


def test_sheets_take_titles_and_levels_from_the_tables(engine):
    """The 服务时效 and 考勤规则 sheets read a rule's title from the date's catalogue (its threshold the
    run's parameter) and its level from ref.labels."""
    clear(engine)
    params = rules.bind_params(BD, {"sl02_dispatch_working_days": 12, "ra04_max_month_anomalies": 6})
    with engine.begin() as conn:
        conn.execute(sa.text(
            "insert into recon.finding_snapshots (business_date, as_of, finding_id, rule_code, severity, region, "
            "ticket_no, engineer_id, month, details) values "
            "(:d, :a, 'SL-02-x', 'SL-02', 'warning', '浙江', 'WO9', null, null, "
            "cast('{\"deadline_day\": \"2026-10-20\"}' as jsonb)), "
            "(:d, :a, 'RA-04-x', 'RA-04', 'error', '浙江', null, 'E1', '2026-10', cast('{}' as jsonb))"),
            {"d": BD, "a": params["as_of"]})
        exports.sheet_session(conn, BD, params)
        sheets = {title: sql for _, title, sql in exports.mart_queries("sheets")}
        timeliness = conn.execute(sa.text(sheets["服务时效"]), params).mappings().all()
        attendance = conn.execute(sa.text(sheets["考勤规则"]), params).mappings().all()
    assert [r["问题"] for r in timeliness] == ["巡检/整改工单派发超过12个工作日"]
    assert [(r["问题"], r["级别"]) for r in attendance] == [("月度考勤异常超过6次", "错误")]
