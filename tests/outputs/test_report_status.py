"""Resident report statuses at their boundaries (issue 14 item 5, issue 18): the day the report
could first be generated against its due date (the due day itself is on time), and the go-live
(a report due on the go-live day is judged, one due the day before is 补生成) -- in the rule
(`reports.report_status`) and in the snapshot the reports step writes."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldrecon.outputs import reports
from tests.factories import clear, put
from tests.outputs.test_reports import att, expected, run, workorder

D = dt.date
DUE = D(2026, 10, 19)  # the weekly report of Mon 12 Oct 2026: due Monday 19 Oct (a working day)


@pytest.mark.unit
@pytest.mark.parametrize(("available", "go_live", "status"), [
    (DUE - dt.timedelta(days=1), None, "generated"),
    (DUE, None, "generated"),  # available on the due day: on time
    (DUE + dt.timedelta(days=1), None, "late"),
    (DUE + dt.timedelta(days=1), DUE, "late"),  # due on the go-live day: judged
    (DUE + dt.timedelta(days=1), DUE + dt.timedelta(days=1), "backfilled"),  # due the day before go-live
    (DUE, DUE + dt.timedelta(days=1), "backfilled"),
])
def test_status_rule_at_its_boundaries(available, go_live, status):
    assert reports.report_status(True, True, DUE, available, go_live, D(2026, 11, 30)) == status


@pytest.mark.unit
def test_nothing_rendered_is_not_due_then_missing():
    assert reports.report_status(False, False, DUE, DUE, None, DUE - dt.timedelta(days=1)) == "not due"
    assert reports.report_status(True, False, DUE, DUE, None, DUE - dt.timedelta(days=1)) == "not due"
    assert reports.report_status(True, False, DUE, DUE, None, DUE) == "missing"
    assert reports.report_status(True, False, DUE, DUE, D(2027, 1, 1), DUE) == "missing"


@pytest.fixture
def world(engine, tmp_path, monkeypatch):
    """Three residents on one ticket, the week of Mon 12 Oct worked on Monday: A's day in the extract
    of 12 Oct, B's first in the extract of the due day (19 Oct), C's first in that of 20 Oct."""
    clear(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.cycle_schedule, mart.attendance_summary, mart.resident_reports, "
                             "mart.resident_report_versions"))
    monkeypatch.setenv("FIELDRECON_REPORTS", str(tmp_path / "reports"))
    monkeypatch.delenv("FIELDRECON_GO_LIVE", raising=False)
    put(engine, "netcare_workorders", [workorder("ZC-B1")], D(2026, 10, 1))
    day = D(2026, 10, 12)
    put(engine, "netcare_resident_attendance", [att("ZC-B1", "EA", day, name="甲")], day)
    put(engine, "netcare_resident_attendance", [att("ZC-B1", "EB", day, name="乙")], DUE)
    put(engine, "netcare_resident_attendance", [att("ZC-B1", "EC", day, name="丙")], DUE + dt.timedelta(days=1))
    return engine


def _weekly(engine, business_date) -> dict[str, dict]:
    return {k[2]: r for k, r in expected(engine, business_date).items() if k[0] == "weekly"}


@pytest.mark.db
def test_snapshot_status_on_the_due_day_and_after(world, tmp_path):
    bd = D(2026, 10, 31)
    run(world, tmp_path, bd)
    got = _weekly(world, bd)
    assert {e: (r["due_date"], r["available_on"], r["status"]) for e, r in got.items()} == {
        "EA": (DUE, D(2026, 10, 18), "generated"),  # the week's end (Sunday 18 Oct)
        "EB": (DUE, DUE, "generated"),
        "EC": (DUE, DUE + dt.timedelta(days=1), "late"),
    }
    assert all(r["go_live"] == D(2026, 10, 1) for r in got.values())  # unset: the earliest extract date
    for r in got.values():  # the SQL and the documented rule agree
        assert r["status"] == reports.report_status(r["period_over"], r["version"] is not None, r["due_date"],
                                                    r["available_on"], r["go_live"], bd)


@pytest.mark.db
@pytest.mark.parametrize(("go_live", "late_status"), [(DUE, "late"), (DUE + dt.timedelta(days=1), "backfilled")])
def test_snapshot_status_around_the_go_live(world, tmp_path, monkeypatch, go_live, late_status):
    monkeypatch.setenv("FIELDRECON_GO_LIVE", go_live.isoformat())
    bd = D(2026, 10, 31)
    run(world, tmp_path, bd)
    got = {e: r["status"] for e, r in _weekly(world, bd).items()}
    on_time = "generated" if go_live <= DUE else "backfilled"
    assert got == {"EA": on_time, "EB": on_time, "EC": late_status}


@pytest.mark.db
def test_a_first_install_shows_history_backfilled_never_late(world, tmp_path, monkeypatch):
    """Installed on 1 Nov with a window extract holding October: nothing of October is 逾期生成."""
    put(world, "netcare_resident_attendance", [att("ZC-B1", "ED", D(2026, 10, 12), name="丁")], D(2026, 11, 1))
    monkeypatch.setenv("FIELDRECON_GO_LIVE", "2026-11-01")
    bd = D(2026, 11, 1)
    run(world, tmp_path, bd)
    statuses = {r["status"] for r in expected(world, bd).values()}
    assert "late" not in statuses and "backfilled" in statuses
