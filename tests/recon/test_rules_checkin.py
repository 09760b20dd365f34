"""Check-in family (PD-01…PD-09, POC-01, DQ-01…DQ-03) on real PostgreSQL: per rule a violating
case, a clean case and the rulebook's boundaries. Every case asserts the exact set of findings of
the whole family as (rule_code, ticket_no, engineer_id, day), so a case also proves that nothing
else fires."""

from __future__ import annotations

import datetime as dt
import itertools
import math

import pytest
import sqlalchemy as sa

from fieldrecon.recon.rules import DEFAULT_PARAMS, run_family
from tests import factories

pytestmark = pytest.mark.db

BD = dt.date(2026, 11, 3)  # business date of every run; extracts are dated 2026-11-01
D1, D2, D3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
SITE_LNG, SITE_LAT = 120.0, 30.0
KM_PER_DEG = float(DEFAULT_PARAMS["earth_radius_km"]) * math.pi / 180  # along a meridian
ENGINEERS = ("E1", "E2", "E3")
_ids = itertools.count(1)


def at(day: dt.date, hhmm: str) -> dt.datetime:
    h, m = hhmm.split(":")
    return dt.datetime.combine(day, dt.time(int(h), int(m)))


def wo(ticket_no: str, **kw) -> dict:
    row = {
        "ticket_no": ticket_no, "ticket_type": "单次现场服务", "status": "履行中", "region": "浙江",
        "customer_name": "客户甲", "site_lng": SITE_LNG, "site_lat": SITE_LAT, "classified": False,
        "created_at": at(dt.date(2026, 10, 30), "09:00"), "engineer_id": "E1",
    }
    row.update(kw)
    return row


def punch(ticket: str, eng: str, kind: str, when: dt.datetime, lng=SITE_LNG, lat=SITE_LAT, pid=None) -> dict:
    return {"punch_id": pid or f"P{next(_ids):06d}", "ticket_no": ticket, "engineer_id": eng, "punch_type": kind,
            "punched_at": when, "lng": lng, "lat": lat}


def visit(ticket: str, eng: str, arrive: dt.datetime, leave: dt.datetime | None) -> list[dict]:
    """A well-formed visit: 到达 → 开始 → 完成 → 离场 (no 完成/离场 when leave is None)."""
    rows = [punch(ticket, eng, "到达", arrive), punch(ticket, eng, "开始", arrive + dt.timedelta(minutes=1))]
    if leave is not None:
        rows += [punch(ticket, eng, "完成", leave - dt.timedelta(minutes=1)), punch(ticket, eng, "离场", leave)]
    return rows


def entry(ticket: str | None, eng: str, day: dt.date, kind="现场", approval="已审批", hours=8) -> dict:
    return {"entry_id": f"T{next(_ids):06d}", "engineer_id": eng, "work_date": day, "ticket_no": ticket,
            "hours": hours, "work_kind": kind, "approval": approval}


def run(engine, workorders=(), punches=(), entries=(), engineers=ENGINEERS, attendance=(), **overrides) -> set:
    factories.clear(engine)
    factories.put(engine, "timesheet_engineers",
                  [{"engineer_id": e, "engineer_name": f"工程师{e}", "region": "浙江", "phone": "13800000000"}
                   for e in engineers])
    if workorders:
        factories.put(engine, "netcare_workorders", list(workorders))
    if punches:
        factories.put(engine, "netcare_punches", list(punches))
    if entries:
        factories.put(engine, "timesheet_entries", list(entries))
    if attendance:
        factories.put(engine, "netcare_resident_attendance", list(attendance))
    run_family(engine, "checkin", BD, overrides or None)
    return {(f["rule_code"], f["ticket_no"], f["engineer_id"], f["day"]) for f in factories.findings(engine, BD)}


def one(engine, code: str, key: tuple) -> dict:
    rows = [f for f in factories.findings(engine, BD, code)
            if (f["ticket_no"], f["engineer_id"], f["day"]) == key]
    assert len(rows) == 1
    return rows[0]


# --- the shared visit model ------------------------------------------------------------------


def test_clean_tickets_give_no_findings(engine):
    found = run(
        engine,
        [wo("T1", dispatched_person_days=2, close_requested_at=at(D3, "10:00"))],
        [punch("T1", "E1", "出发", at(D1, "08:00"), lng=121.0, lat=31.0),  # 出发 is never geofenced
         *visit("T1", "E1", at(D1, "09:00"), at(D1, "17:00")),
         punch("T1", "E1", "暂停", at(D1, "12:00")),  # a pause does not end a visit
         *visit("T1", "E1", at(D2, "09:00"), at(D2, "17:00"))],
        [entry("T1", "E1", D1), entry("T1", "E1", D2)],
    )
    assert found == set()


def test_visit_model_pairs_arrivals_with_leaves(engine):
    run(
        engine,
        [wo("T1"), wo("T2")],
        [punch("T1", "E1", "到达", at(D1, "09:00"), pid="A1"), punch("T1", "E1", "暂停", at(D1, "10:00")),
         punch("T1", "E1", "完成", at(D1, "10:30"), pid="C1"), punch("T1", "E1", "离场", at(D1, "11:00"), pid="L1"),
         punch("T1", "E1", "离场", at(D1, "11:30"), pid="L2"),  # second leave: orphan
         punch("T1", "E1", "到达", at(D1, "13:00"), pid="A2"), punch("T1", "E1", "完成", at(D1, "14:00"), pid="C2"),
         punch("T1", "E1", "完成", at(D1, "15:00"), pid="C3"),  # ended by the last 完成
         punch("T1", "E1", "到达", at(D2, "09:00"), pid="A3"),  # open
         punch("T2", "E1", "离场", at(D2, "08:00"), pid="L3")],  # before any arrival: orphan
    )
    with engine.begin() as conn:
        # the runner's temp tables are gone after its transaction: rebuild the models here
        from fieldrecon.recon.rules import bind_params, materialise_models, materialise_staging

        params = bind_params(BD)
        materialise_staging(conn, params["as_of"])
        materialise_models(conn, "checkin", params)
        visits = conn.execute(sa.text("select arrival_id, end_id, end_type from visits order by arrival_id")).all()
        orphans = conn.execute(sa.text("select punch_id from orphan_leaves order by punch_id")).scalars().all()
        ppd = conn.execute(sa.text("select ticket_no, engineer_id, day from punched_person_days order by 1, 2, 3")).all()
    assert visits == [("A1", "L1", "离场"), ("A2", "C3", "完成"), ("A3", None, None)]
    assert orphans == ["L2", "L3"]
    assert ppd == [("T1", "E1", D1)]


# --- PD-01 -------------------------------------------------------------------------------------


def test_pd01_more_punched_days_any_time(engine):
    found = run(
        engine,
        [wo("T1", dispatched_person_days=1)],
        [*visit("T1", "E1", at(D1, "09:00"), at(D1, "17:00")), *visit("T1", "E1", at(D2, "09:00"), at(D2, "17:00"))],
        [entry("T1", "E1", D1), entry("T1", "E1", D2)],
    )
    assert found == {("PD-01", "T1", "E1", None)}
    assert one(engine, "PD-01", ("T1", "E1", None))["details"] == {
        "dispatched": 1, "punched": 2, "kind": "more", "days": [D1.isoformat(), D2.isoformat()]}


@pytest.mark.parametrize(
    ("extra", "flagged"),
    [
        ({}, False),  # fewer, but no close request yet
        ({"close_requested_at": at(D3, "10:00")}, True),  # close request, any status
        ({"status": "待审核"}, True),
        ({"status": "已关闭", "closed_at": at(D3, "10:00")}, True),
    ],
)
def test_pd01_fewer_punched_days_only_once_closing(engine, extra, flagged):
    found = run(
        engine,
        [wo("T1", dispatched_person_days=2, **extra), wo("T2", dispatched_person_days=1, **extra)],
        [*visit("T1", "E1", at(D1, "09:00"), at(D1, "11:00")),
         *visit("T2", "E1", at(D2, "09:00"), at(D2, "11:00"))],  # T2: equal, never a finding
        [entry("T1", "E1", D1), entry("T2", "E1", D2)],
    )
    assert found == ({("PD-01", "T1", "E1", None)} if flagged else set())


def test_pd01_person_day_tickets_only_and_fse_only(engine):
    found = run(
        engine,
        [wo("T1", ticket_type="巡检", dispatched_person_days=1),  # not a person-day ticket
         wo("T2", dispatched_person_days=None, close_requested_at=at(D3, "10:00")),  # 派单人天 not set
         wo("T3", engineer_id=None, dispatched_person_days=1, close_requested_at=at(D3, "10:00"))],  # no FSE
        [*visit("T1", "E1", at(D1, "09:00"), at(D1, "10:00")), *visit("T1", "E1", at(D2, "09:00"), at(D2, "10:00"))],
        [entry("T1", "E1", D1), entry("T1", "E1", D2)],
    )
    assert found == set()


def test_cross_day_visit_is_one_punched_day_on_arrival_day_and_pd07(engine):
    found = run(
        engine,
        [wo("T1", dispatched_person_days=1, close_requested_at=at(D3, "10:00"))],
        [punch("T1", "E1", "到达", at(D1, "23:59")), punch("T1", "E1", "离场", at(D2, "00:01"))],
        [entry("T1", "E1", D1)],
    )
    # punched = 1 = dispatched (no PD-01); the entry on D1 matches it (no PD-09); PD-07 on D1
    assert found == {("PD-07", "T1", "E1", D1)}
    assert one(engine, "PD-07", ("T1", "E1", D1))["details"]["kinds"] == ["cross_day"]


# --- PD-02 -------------------------------------------------------------------------------------


def test_pd02_other_engineer_on_fse_ticket(engine):
    found = run(
        engine,
        [wo("T1"), wo("T2", engineer_id=None)],
        [*visit("T1", "E1", at(D1, "09:00"), at(D1, "10:00")),
         punch("T1", "E2", "出发", at(D1, "08:00")),  # any punch type counts
         *visit("T1", "E2", at(D1, "09:00"), at(D1, "10:00")),
         *visit("T2", "E3", at(D1, "09:00"), at(D1, "10:00"))],  # no FSE: no PD-02
        [entry("T1", "E1", D1), entry("T1", "E2", D1), entry("T2", "E3", D1)],
    )
    assert found == {("PD-02", "T1", "E2", None)}
    assert one(engine, "PD-02", ("T1", "E2", None))["details"]["punches"] == 5


# --- PD-03 -------------------------------------------------------------------------------------


def test_pd03_overlapping_visits(engine):
    found = run(
        engine,
        [wo("T1"), wo("T2"), wo("T3")],
        [*visit("T1", "E1", at(D1, "09:00"), at(D1, "12:00")),
         *visit("T2", "E1", at(D1, "11:00"), at(D1, "11:30")),  # inside T1's visit
         *visit("T3", "E1", at(D1, "11:15"), at(D1, "13:00"))],  # overlaps T1 and T2
        [entry(t, "E1", D1) for t in ("T1", "T2", "T3")],
    )
    # T2 overlaps T1; T3 overlaps T1 and T2 (one finding, both listed). T3 follows T2 with a
    # negative gap: PD-03's, not PD-04's.
    assert found == {("PD-03", "T2", "E1", D1), ("PD-03", "T3", "E1", D1)}
    assert one(engine, "PD-03", ("T3", "E1", D1))["details"]["other_tickets"] == ["T1", "T2"]


def test_pd03_touching_visits_do_not_overlap(engine):
    found = run(
        engine,
        [wo("T1"), wo("T2")],
        [*visit("T1", "E1", at(D1, "09:00"), at(D1, "12:00")), *visit("T2", "E1", at(D1, "12:00"), at(D1, "14:00"))],
        [entry("T1", "E1", D1), entry("T2", "E1", D1)],
    )
    assert found == {("PD-04", "T2", "E1", D1)}  # gap 0 is PD-04's


def test_pd03_open_visits_and_resident_tickets_left_out(engine):
    found = run(
        engine,
        [wo("T1"), wo("T2"), wo("R1", ticket_type="驻场", site_lng=None, site_lat=None, classified=True)],
        [punch("R1", "E1", "开始", at(D1, "08:00")), punch("R1", "E1", "到达", at(D1, "08:00")),
         punch("R1", "E1", "离场", at(D1, "18:00")),  # resident: governed by RA, never PD
         *visit("T1", "E1", at(D1, "10:00"), at(D1, "11:00")),
         punch("T2", "E1", "到达", at(D1, "10:30"))],  # open: PD-07 only
        [entry("T1", "E1", D1)],
    )
    assert found == {("PD-07", "T2", "E1", D1)}


# --- PD-04 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("arrive", "flagged"), [("10:59", True), ("11:00", False), ("10:00", True)])
def test_pd04_handover_gap(engine, arrive, flagged):
    found = run(
        engine,
        [wo("T1"), wo("T2")],
        [*visit("T1", "E1", at(D1, "09:00"), at(D1, "10:00")), *visit("T2", "E1", at(D1, arrive), at(D1, "15:00"))],
        [entry("T1", "E1", D1), entry("T2", "E1", D1)],
    )
    assert found == ({("PD-04", "T2", "E1", D1)} if flagged else set())
    if flagged:
        gap = one(engine, "PD-04", ("T2", "E1", D1))["details"]["gap_minutes"]
        assert gap == (59 if arrive == "10:59" else 0)


def test_pd04_only_same_day_and_different_tickets(engine):
    found = run(
        engine,
        [wo("T1"), wo("T2")],
        [*visit("T1", "E1", at(D1, "22:00"), at(D1, "23:50")),
         *visit("T2", "E1", at(D2, "00:10"), at(D2, "02:00")),  # 20 min later but the next day
         *visit("T2", "E1", at(D2, "02:10"), at(D2, "04:00"))],  # same ticket: no hand-over
        [entry("T1", "E1", D1), entry("T2", "E1", D2)],
    )
    assert found == set()


# --- PD-05 -------------------------------------------------------------------------------------


def _north(km: float) -> float:
    return SITE_LAT + km / KM_PER_DEG


@pytest.mark.parametrize(("km", "flagged"), [(2.99, False), (3.01, True)])
def test_pd05_geofence_boundary(engine, km, flagged):
    found = run(
        engine,
        [wo("T1")],
        [punch("T1", "E1", "到达", at(D1, "09:00"), lat=_north(km)), punch("T1", "E1", "离场", at(D1, "10:00"))],
        [entry("T1", "E1", D1)],
    )
    assert found == ({("PD-05", "T1", "E1", D1)} if flagged else set())
    if flagged:
        (p,) = one(engine, "PD-05", ("T1", "E1", D1))["details"]["punches"]
        assert p["distance_km"] == pytest.approx(3.01, abs=0.001)


def test_pd05_missing_coordinates_and_exemptions(engine):
    far = _north(50)
    found = run(
        engine,
        [wo("T1"), wo("S1", classified=True, site_lng=None, site_lat=None),  # classified: exempt
         wo("S2", site_lat=None)],  # no coordinates: cannot be checked (DQ-02)
        [punch("T1", "E1", "出发", at(D1, "08:00"), lat=far),  # 出发 exempt
         punch("T1", "E1", "到达", at(D1, "09:00"), lng=None),  # missing
         punch("T1", "E1", "离场", at(D1, "10:00")),
         punch("S1", "E2", "到达", at(D1, "09:00"), lat=far), punch("S1", "E2", "离场", at(D1, "10:00"), lat=far),
         punch("S2", "E3", "到达", at(D1, "09:00"), lat=far), punch("S2", "E3", "离场", at(D1, "10:00"), lat=None)],
        [entry("T1", "E1", D1), entry("S1", "E2", D1), entry("S2", "E3", D1)],
        engineers=ENGINEERS,
    )
    # S1's and S2's FSE is E1, so E2/E3 are PD-02 there
    assert found == {("PD-05", "T1", "E1", D1), ("DQ-02", "S2", None, None),
                     ("PD-02", "S1", "E2", None), ("PD-02", "S2", "E3", None)}
    (p,) = one(engine, "PD-05", ("T1", "E1", D1))["details"]["punches"]
    assert p["distance_km"] == "missing"


# --- PD-06 -------------------------------------------------------------------------------------


def test_pd06_authorisation_window(engine):
    window = {"auth_start_at": at(D1, "08:00"), "auth_end_at": at(D1, "18:00")}
    found = run(
        engine,
        [wo("T1", **window), wo("T2", **window), wo("T3", auth_start_at=at(D1, "08:00"))],
        [punch("T1", "E1", "到达", at(D1, "07:00")), punch("T1", "E1", "开始", at(D1, "08:00")),  # bounds inclusive
         punch("T1", "E1", "离场", at(D1, "18:00")),
         punch("T2", "E1", "到达", at(D2, "07:00")), punch("T2", "E1", "开始", at(D2, "07:30")),
         punch("T2", "E1", "离场", at(D2, "18:01")),
         punch("T3", "E1", "到达", at(D3, "07:00")), punch("T3", "E1", "开始", at(D3, "07:30")),  # one end only
         punch("T3", "E1", "离场", at(D3, "09:00"))],
        [entry("T1", "E1", D1), entry("T2", "E1", D2), entry("T3", "E1", D3)],
    )
    assert found == {("PD-06", "T2", "E1", D2)}
    assert len(one(engine, "PD-06", ("T2", "E1", D2))["details"]["punches"]) == 2


# --- PD-07 -------------------------------------------------------------------------------------


def test_pd07_open_orphan_and_cross_day(engine):
    found = run(
        engine,
        [wo("T1"), wo("T2"), wo("T3"), wo("T4")],
        [punch("T1", "E1", "到达", at(D1, "09:00")),  # open, its day is over
         punch("T2", "E1", "离场", at(D2, "10:00")),  # orphan leave
         punch("T3", "E1", "到达", at(D1, "22:00")), punch("T3", "E1", "完成", at(D2, "01:00")),  # ended by 完成, next day
         punch("T4", "E1", "到达", at(D3 + dt.timedelta(days=1), "09:00"))],  # open, its day is not over
        [entry("T3", "E1", D1)],
    )
    assert found == {("PD-07", "T1", "E1", D1), ("PD-07", "T2", "E1", D2), ("PD-07", "T3", "E1", D1)}
    assert one(engine, "PD-07", ("T2", "E1", D2))["details"]["kinds"] == ["orphan_leave"]


def test_pd07_open_visit_on_business_date_is_over_at_as_of(engine):
    found = run(engine, [wo("T1")], [punch("T1", "E1", "到达", at(BD, "23:00"))])
    assert found == {("PD-07", "T1", "E1", BD)}


# --- PD-08 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("arrive", "flagged"), [("09:00", False), ("09:01", True)])
def test_pd08_late_arrival_against_appointment(engine, arrive, flagged):
    found = run(
        engine,
        [wo("T1", appointment_at=at(D1, "09:00"), required_arrival_at=at(D1, "12:00"))],
        [*visit("T1", "E1", at(D1, arrive), at(D1, "15:00")), *visit("T1", "E1", at(D2, "08:00"), at(D2, "09:00"))],
        [entry("T1", "E1", D1), entry("T1", "E1", D2)],
    )
    assert found == ({("PD-08", "T1", "E1", None)} if flagged else set())
    if flagged:
        assert one(engine, "PD-08", ("T1", "E1", None))["details"]["minutes_late"] == 1


def test_pd08_required_time_and_fse_only(engine):
    found = run(
        engine,
        [wo("T1", required_arrival_at=at(D1, "09:00"))],
        [*visit("T1", "E2", at(D1, "08:00"), at(D1, "08:30")),  # another engineer on time: PD-02 only
         *visit("T1", "E1", at(D1, "10:00"), at(D1, "11:00"))],
        [entry("T1", "E1", D1), entry("T1", "E2", D1)],
    )
    assert found == {("PD-08", "T1", "E1", None), ("PD-02", "T1", "E2", None)}


# --- PD-09 -------------------------------------------------------------------------------------


def test_pd09_timesheet_against_punches(engine):
    found = run(
        engine,
        [wo("T1"), wo("T2"), wo("T3"), wo("P1", ticket_type="POC", site_lng=None, site_lat=None, classified=True)],
        [*visit("T1", "E1", at(D1, "09:00"), at(D1, "10:00")),  # filed only as 已驳回: not filed
         *visit("T2", "E1", at(D1, "11:00"), at(D1, "12:00")),  # filed as 草稿: filed
         punch("T3", "E1", "到达", at(D2, "09:00"))],  # open visit: not a punched person-day
        [entry("T1", "E1", D1, approval="已驳回"),
         entry("T2", "E1", D1, approval="草稿", kind="远程"),
         entry("T3", "E1", D2, approval="已驳回"),  # 现场 in any state, no punched day: filed, not punched
         entry("T3", "E1", D3, kind="远程"),  # not on-site: nothing
         entry("P1", "E1", D1)],  # POC: not punched in NetCare
    )
    assert found == {("PD-09", "T1", "E1", D1), ("PD-09", "T3", "E1", D2), ("PD-07", "T3", "E1", D2)}
    sev = {f["ticket_no"]: (f["severity"], f["details"]["kind"]) for f in factories.findings(engine, BD, "PD-09")}
    assert sev == {"T1": ("warning", "punched_not_filed"), "T3": ("error", "filed_not_punched")}


# --- POC-01 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "dispatched", "flagged"),
                         [("已关闭", 2, False), ("已关闭", 3, True), ("履行中", 3, False)])
def test_poc01_person_days(engine, status, dispatched, flagged):
    poc = wo("P1", ticket_type="POC", status=status, dispatched_person_days=dispatched, site_lng=None,
             site_lat=None, classified=True)
    found = run(
        engine,
        [poc],
        [],
        [entry("P1", "E1", D1, hours=4), entry("P1", "E1", D1, hours=4),  # one person-day
         entry("P1", "E2", D1), entry("P1", "E2", D2, approval="已提交")],  # not approved: not counted
    )
    assert found == ({("POC-01", "P1", None, None)} if flagged else set())


# --- DQ ----------------------------------------------------------------------------------------


def test_dq01_unknown_tickets_are_dq_only(engine):
    found = run(
        engine,
        [wo("T1")],
        [*visit("X1", "E1", at(D1, "09:00"), at(D1, "10:00")), punch("X1", "E2", "到达", at(D1, "09:00"))],
        [entry("X2", "E1", D1), entry(None, "E1", D2, kind="培训")],
    )
    assert found == {("DQ-01", "X1", None, None), ("DQ-01", "X2", None, None)}
    # the ticket is unknown: the region comes from the engineers whose rows name it
    assert one(engine, "DQ-01", ("X1", None, None))["region"] == "浙江"


def test_dq02_site_without_coordinates(engine):
    found = run(
        engine,
        [wo("T1", site_lng=None), wo("T2", site_lat=None, classified=None),  # empty 是否涉密 = 否
         wo("T3", site_lng=None, site_lat=None, classified=True), wo("T4")],
    )
    assert found == {("DQ-02", "T1", None, None), ("DQ-02", "T2", None, None)}


def test_dq03_unknown_engineer(engine):
    found = run(
        engine,
        [wo("T1", engineer_id="E9")],
        [*visit("T1", "E9", at(D1, "09:00"), at(D1, "10:00")), *visit("T1", "E8", at(D2, "09:00"), at(D2, "10:00"))],
        [entry("T1", "E9", D1), entry("T1", "E8", D2), entry(None, "E7", D3, kind="培训")],
        engineers=("E1",),
    )
    assert found == {("DQ-03", None, "E9", None), ("DQ-03", None, "E8", None), ("DQ-03", None, "E7", None),
                     ("PD-02", "T1", "E8", None)}
    # the engineer is unknown: the region comes from the tickets naming it; none known -> 总部 (empty)
    assert one(engine, "DQ-03", (None, "E9", None))["region"] == "浙江"
    assert one(engine, "DQ-03", (None, "E7", None))["region"] is None


def test_rerun_is_identical(engine):
    args = ([wo("T1", dispatched_person_days=1)],
            [*visit("T1", "E1", at(D1, "09:00"), at(D1, "17:00")), *visit("T1", "E1", at(D2, "09:00"), at(D2, "17:00"))])
    first = run(engine, *args)
    rows = factories.findings(engine, BD)
    run_family(engine, "checkin", BD)
    again = factories.findings(engine, BD)
    assert first == {("PD-01", "T1", "E1", None), ("PD-09", "T1", "E1", D1), ("PD-09", "T1", "E1", D2)}
    assert [(r["finding_id"], r["details"]) for r in rows] == [(r["finding_id"], r["details"]) for r in again]


def test_clerks_sheet_lists_open_findings(engine):
    from fieldrecon.outputs import exports
    from fieldrecon.recon.rules import bind_params
    from fieldrecon.settings import SQL_DIR

    run(engine, [wo("T1", dispatched_person_days=1)],
        [*visit("T1", "E1", at(D1, "09:00"), at(D1, "17:00")), *visit("T1", "E1", at(D2, "09:00"), at(D2, "17:00"))],
        [entry("T1", "E1", D1)])
    sheet = SQL_DIR / "mart" / "sheets" / "10_checkin.sql"
    text = sheet.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "-- sheet: 打卡核对"
    with engine.begin() as conn:
        params = bind_params(BD)
        exports.sheet_session(conn, BD, params)
        result = conn.execute(sa.text(text), params)
        cols = list(result.keys())
        rows = [dict(zip(cols, r, strict=True)) for r in result]
    assert cols == ["规则", "问题", "级别", "区域", "工单号", "工程师工号", "工程师姓名", "日期", "问题说明", "处理办法",
                    "处理系统", "责任人", "处理期限", "已说明", "首次发现", "是否新增"]
    assert [(r["规则"], r["工单号"], r["工程师姓名"], r["日期"], r["问题"]) for r in rows] == [
        ("PD-01", "T1", "工程师E1", None, "打卡人天与派单人天不符"),
        ("PD-09", "T1", "工程师E1", D2, "工时填报与打卡不符"),
    ]
    assert rows[0]["问题说明"] == f"派单 1 人天，打卡 2 人天（{D1:%m-%d}、{D2:%m-%d}）：多打卡 1 人天"
    assert rows[1]["问题说明"] == "当天有打卡（1 次在场）但没有填报工时" and rows[1]["处理系统"] == "工时系统 2.0"
    assert all(r["是否新增"] in ("是", "否") for r in rows)  # new: tests/recon/test_new_findings.py
    assert not any("13800000000" in str(v) for r in rows for v in r.values())


def test_leave_at_the_instant_of_an_arrival_ends_no_visit(engine):
    found = run(
        engine,
        [wo("T1")],
        [punch("T1", "E1", "到达", at(D1, "09:00")), punch("T1", "E1", "离场", at(D1, "11:00")),
         punch("T1", "E1", "离场", at(D1, "13:00")), punch("T1", "E1", "到达", at(D1, "13:00")),  # same instant
         punch("T1", "E1", "离场", at(D1, "14:00"))],
        [entry("T1", "E1", D1)],
    )
    # 09:00–11:00 and 13:00–14:00 are visits; the 13:00 leave is later than 11:00's visit's end but
    # not before the 13:00 arrival: an orphan leave
    assert found == {("PD-07", "T1", "E1", D1)}
    assert one(engine, "PD-07", ("T1", "E1", D1))["details"]["kinds"] == ["orphan_leave"]
