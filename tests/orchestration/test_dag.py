"""DagBag integrity: the DAG imports cleanly, is wired as documented, and touches no database or
connection while being parsed."""

from __future__ import annotations

import pytest

from fieldrecon import settings

pytestmark = pytest.mark.unit

DAGS = str(settings.PROJECT_ROOT / "dags")


@pytest.fixture(scope="session")
def dagbag(tmp_path_factory):
    import os

    os.environ.setdefault("AIRFLOW_HOME", str(tmp_path_factory.mktemp("airflow_home")))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=DAGS)


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "fieldrecon_nightly" in dagbag.dags


def test_nightly_dag_shape(dagbag):
    dag = dagbag.dags["fieldrecon_nightly"]
    assert set(dag.tags) >= {"fieldrecon", "nightly"}
    assert dag.catchup is False
    assert dag.doc_md and "business date" in dag.doc_md
    timetable = dag.timetable
    assert type(timetable).__name__ == "CronDataIntervalTimetable"
    assert timetable.expression == "0 2 * * *"
    assert str(getattr(timetable.timezone, "name", timetable.timezone)) == "Asia/Shanghai"
    for t in dag.tasks:
        assert t.retries >= 1, t.task_id
    ids = set(dag.task_ids)
    assert {"prepare", "pull", "quality_summary", "resident_reports", "exports", "acceptance_packs", "finish"} <= ids
    assert {f"load.{s}" for s in ("netcare_punches", "isc_po_lines")} <= ids
    assert {f"rules.{f}" for f in ("checkin", "attendance", "changes", "po")} <= ids
    # loading waits for the pull; rules for the quality summary; reports for every family, then exports, packs
    assert "pull" in dag.get_task("load.netcare_punches").upstream_task_ids
    assert "quality_summary" in dag.get_task("rules.checkin").upstream_task_ids
    assert {"rules.checkin", "rules.po", "rules.attendance"} <= dag.get_task("resident_reports").upstream_task_ids
    assert "resident_reports" in dag.get_task("exports").upstream_task_ids
    assert "exports" in dag.get_task("acceptance_packs").upstream_task_ids
    assert "acceptance_packs" in dag.get_task("finish").upstream_task_ids
    # the timeliness family runs with the others; the reminder digest beside the packs, after the exports
    assert "rules.timeliness" in dag.get_task("resident_reports").upstream_task_ids
    assert "exports" in dag.get_task("digest").upstream_task_ids
    assert "digest" in dag.get_task("finish").upstream_task_ids


def test_parsing_touches_no_database(monkeypatch, tmp_path):
    """Parse the DAG folder with every way to reach a database made to fail loudly."""
    import psycopg2
    import sqlalchemy

    import fieldrecon.warehouse.connection as wh

    def forbidden(*a, **k):
        raise AssertionError("database or connection access at DAG parse time")

    monkeypatch.setattr(sqlalchemy, "create_engine", forbidden)
    monkeypatch.setattr(psycopg2, "connect", forbidden)
    monkeypatch.setattr(wh, "embedded_server", forbidden)
    monkeypatch.setattr(wh, "warehouse_url", forbidden)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=DAGS)
    assert bag.import_errors == {} and "fieldrecon_nightly" in bag.dags
