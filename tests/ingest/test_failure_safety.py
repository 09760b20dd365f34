"""A load that fails half-way leaves nothing behind and succeeds when run again; failures alert."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from fieldrecon.ingest import loader, pull
from fieldrecon.orchestration import alerts
from tests import factories

pytestmark = pytest.mark.db


def test_mid_load_failure_leaves_no_partial_rows_and_rerun_completes(engine, tmp_path, monkeypatch):
    factories.clear(engine)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "timesheet_engineers_20261101.csv").write_text(
        "工号,姓名,区域,手机号\nE1,张三,浙江,1\nE2,李四,上海,2\n", encoding="utf-8")
    pull.pull(engine, landing, tmp_path / "archive")
    real_write = loader.write

    def write_then_fail(conn, file_id, extract_date, prep):
        real_write(conn, file_id, extract_date, prep)  # raw, typed and quarantine rows are written …
        raise ConnectionError("injected: connection lost after COPY")  # … then the task dies

    monkeypatch.setattr(loader, "write", write_then_fail)
    with pytest.raises(ConnectionError):
        loader.load_source(engine, "timesheet_engineers")
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from raw.timesheet_engineers")).scalar() == 0
        assert c.execute(sa.text("select count(*) from staging.timesheet_engineers_rows")).scalar() == 0
        assert c.execute(sa.text("select status from ops.files")).scalar() == "pending"
    monkeypatch.setattr(loader, "write", real_write)
    [result] = loader.load_source(engine, "timesheet_engineers")  # "clear the task and rerun"
    assert result["status"] == "loaded" and result["rows_loaded"] == 2
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from raw.timesheet_engineers")).scalar() == 2


class _TI:
    task_id = "load.netcare_punches"
    try_number = 3


class _Run:
    run_id = "scheduled__2026-11-03"
    conf = {"business_date": "2026-11-03"}


def test_failure_alert_is_logged_and_not_sent_without_a_connection(monkeypatch, caplog):
    monkeypatch.delenv("FIELDRECON_ALERT_WEBHOOK", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_ALERTS", raising=False)
    with caplog.at_level(logging.WARNING, logger="fieldrecon.orchestration.alerts"):
        how = alerts.notify_failure({"task_instance": _TI(), "dag_run": _Run(), "exception": RuntimeError("boom")})
    assert how == "logged"
    text = caplog.text
    assert "load.netcare_punches" in text and "2026-11-03" in text and "nothing sent" in text
