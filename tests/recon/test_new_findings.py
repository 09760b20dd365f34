"""`new` and `resolved` come from the run's own two evaluations (as of D and as of D-1, on the same
data), never from which other dates have run: a first run of a date, with no history at all, says
the same as a run after every earlier date."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldrecon.dates import as_of
from fieldrecon.recon import rules
from fieldrecon.recon.rules import run_family
from tests import factories
from tests.recon.test_rules_checkin import D1, D2, at, visit, wo

pytestmark = pytest.mark.db

BD = dt.date(2026, 11, 3)


def _as_of(engine, d: dt.date) -> dict[tuple, tuple]:
    with engine.connect() as c:
        rows = c.execute(sa.text("select rule_code, ticket_no, day, is_new, status from recon.findings_as_of(:d)"),
                         {"d": d}).all()
    return {(r.rule_code, r.ticket_no, r.day): (r.is_new, r.status) for r in rows}


def test_new_and_resolved_from_the_runs_own_evaluation_of_the_day_before(engine):
    factories.clear(engine)
    factories.put(engine, "timesheet_engineers", [{"engineer_id": "E1", "engineer_name": "甲", "region": "浙江"}])
    # (one file per source and extract date: a later file of the same date replaces it wholesale)
    # T1: dispatched 1 day, punched 2, in the extracts of 11-01: held as of 11-02 and 11-03.
    # T2: the same, only in the extracts of 11-03: held as of 11-03 only (new).
    # T3: over-punched as of 11-02, dispatched 2 days in the work orders of 11-03 (resolved).
    two_days = [*visit("T1", "E1", at(D1, "09:00"), at(D1, "17:00")), *visit("T1", "E1", at(D2, "09:00"), at(D2, "17:00"))]
    factories.put(engine, "netcare_workorders", [wo("T1", dispatched_person_days=1), wo("T3", dispatched_person_days=1)])
    factories.put(engine, "netcare_punches", two_days + [dict(p, punch_id=p["punch_id"] + "-3", ticket_no="T3") for p in two_days])
    factories.put(engine, "netcare_workorders", [wo("T2", dispatched_person_days=1), wo("T3", dispatched_person_days=2)],
                  extract_date=BD)
    factories.put(engine, "netcare_punches", [dict(p, punch_id=p["punch_id"] + "-2", ticket_no="T2") for p in two_days],
                  extract_date=BD)

    run_family(engine, "checkin", BD)  # the first run ever: no earlier date has run
    first = _as_of(engine, BD)
    pd01 = {k[1]: v for k, v in first.items() if k[0] == "PD-01"}
    assert pd01 == {"T1": (False, "open"), "T2": (True, "open"), "T3": (False, "resolved")}

    run_family(engine, "checkin", BD - dt.timedelta(days=1))  # the day before runs afterwards ...
    run_family(engine, "checkin", BD - dt.timedelta(days=2))
    assert _as_of(engine, BD) == first  # ... and changes nothing of 11-03
    run_family(engine, "checkin", BD)
    assert _as_of(engine, BD) == first
    with engine.connect() as c:  # the evaluation of the day before wrote nothing of that date's own
        n = c.execute(sa.text("select count(*) from recon.finding_snapshots where business_date = :d and ticket_no = 'T2'"),
                      {"d": BD - dt.timedelta(days=1)}).scalar()
    assert n == 0


def test_the_day_before_reads_again_only_the_sources_a_new_extract_date_changed(engine):
    """The evaluation of the day before reuses this run's staging table of a source unless a file of
    that source became visible in between: the extract of the business date itself (visible once its
    day is over), not an older one nor one of the next day."""
    factories.clear(engine)
    factories.put(engine, "timesheet_engineers", [{"engineer_id": "E1", "engineer_name": "甲", "region": "浙江"}],
                  extract_date=BD - dt.timedelta(days=1))
    factories.put(engine, "netcare_workorders", [wo("T1")], extract_date=BD)
    factories.put(engine, "netcare_punches", [], extract_date=BD + dt.timedelta(days=1))
    with engine.connect() as c:
        changed = rules.sources_changed(c, ["timesheet_engineers", "netcare_workorders", "netcare_punches"],
                                        as_of(BD - dt.timedelta(days=1)), as_of(BD))
    assert changed == ["netcare_workorders"]


def test_visible_files_is_the_newest_delivery_of_each_extract_date_over_by_as_of(engine):
    """ops.visible_files, the one statement of which files a run sees: an extract date counts once its
    day is over by as_of, of a date only its latest loaded delivery, a file not loaded never."""
    factories.clear(engine)
    day = BD - dt.timedelta(days=1)
    factories.put(engine, "netcare_workorders", [wo("T1")], extract_date=day)  # replaced by the second delivery
    second = factories.put(engine, "netcare_workorders", [wo("T1")], extract_date=day, delivery_no=2)
    rejected = factories.put(engine, "netcare_workorders", [wo("T2")], extract_date=day, delivery_no=3)
    today = factories.put(engine, "netcare_workorders", [wo("T3")], extract_date=BD)
    with engine.begin() as c:
        c.execute(sa.text("update ops.files set status = 'rejected' where file_id = :f"), {"f": rejected})

        def visible(at):
            return c.execute(sa.text("select file_id from ops.visible_files('netcare_workorders', :a) order by 1"),
                             {"a": at}).scalars().all()

        assert visible(as_of(day) - dt.timedelta(seconds=1)) == []
        assert visible(as_of(day)) == [second]
        assert visible(as_of(BD) - dt.timedelta(microseconds=1)) == [second]
        assert visible(as_of(BD)) == [second, today]
