"""CH-01…CH-08 (change requests) on a real PostgreSQL: the rulebook's boundary cases, asserted as
exact sets of (rule_code, subject keys)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldrecon.dates import as_of as as_of_for
from fieldrecon.recon.rules import SUBJECT_KEYS, run_family
from tests.factories import clear, findings, put

pytestmark = pytest.mark.db

BD = dt.date(2026, 11, 3)
AS_OF = as_of_for(BD)  # 2026-11-04 00:00
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)

RULE_KEYS = {
    "CH-01": ("rfc_no",), "CH-02": ("rfc_no",), "CH-03": ("rfc_no",), "CH-08": ("rfc_no",),
    "CH-04": ("rfc_no", "task_no"), "CH-05": ("rfc_no", "task_no"), "CH-06": ("rfc_no", "task_no"),
    "CH-07": ("rfc_no", "task_no"),
}


def subjects(engine, business_date=BD, codes=None) -> set[tuple]:
    out = set()
    for f in findings(engine, business_date):
        if codes and f["rule_code"] not in codes:
            continue
        keys = RULE_KEYS[f["rule_code"]]
        extra = {k: f[k] for k in SUBJECT_KEYS if k not in keys and f[k] is not None}
        assert not extra, (f["rule_code"], extra)
        out.add((f["rule_code"], *(f[k] for k in keys)))
    return out


def rfc(no, **kw):
    row = {"rfc_no": no, "status": "实施", "region": "浙江", "submitted_at": dt.datetime(2026, 9, 1, 9)}
    row.update(kw)
    return row


def task(no, rfc_no, status="未开始", **kw):
    row = {"task_no": no, "rfc_no": rfc_no, "status": status}
    row.update(kw)
    return row


@pytest.fixture(autouse=True)
def _clean(engine):
    clear(engine)
    yield


def test_overdue_closure_deadline_extension_and_tasks(engine):
    rfcs = [
        # 31-day deadline one hour either side, and exactly at as_of (CH-02's inclusive upper bound)
        rfc("R-PAST", pm_approved_at=AS_OF - 31 * D - H),
        rfc("R-NEAR", status="客户审批", pm_approved_at=AS_OF - 31 * D + H),
        rfc("R-EXACT", pm_approved_at=AS_OF - 31 * D),
        # CH-02 window start: deadline - 7 days == as_of (inclusive) and one hour earlier (not yet)
        rfc("R-WIN-START", pm_approved_at=AS_OF - 24 * D),
        rfc("R-WIN-BEFORE", pm_approved_at=AS_OF - 24 * D + H),
        # extension approved (+34 days) keeps it open; rejected does not
        rfc("R-EXT-OK", pm_approved_at=AS_OF - 40 * D, extension="已通过"),
        rfc("R-EXT-NO", pm_approved_at=AS_OF - 40 * D, extension="已驳回"),
        rfc("R-EXT-PENDING", pm_approved_at=AS_OF - 40 * D, extension="审批中"),
        # extended deadline one hour past -> overdue
        rfc("R-EXT-PAST", pm_approved_at=AS_OF - 65 * D - H, extension="已通过"),
        # tasks: a started one blocks, only cancelled ones do not, 准备 blocks, mix of 未开始/取消 does not
        rfc("R-STARTED", pm_approved_at=AS_OF - 40 * D),
        rfc("R-CANCELLED", pm_approved_at=AS_OF - 40 * D),
        rfc("R-PREP", pm_approved_at=AS_OF - 40 * D),
        rfc("R-MIX", pm_approved_at=AS_OF - 40 * D),
        # out of scope: other status, no PM approval
        rfc("R-PMREVIEW", status="PM审批", pm_approved_at=AS_OF - 40 * D),
        rfc("R-DONE", status="完成", pm_approved_at=AS_OF - 40 * D),
        rfc("R-NOPM", pm_approved_at=None),
    ]
    tasks = [
        task("T-S1", "R-STARTED", "实施中"),
        task("T-S2", "R-STARTED", "取消"),
        task("T-C1", "R-CANCELLED", "取消"),
        task("T-C2", "R-CANCELLED", "取消"),
        task("T-P1", "R-PREP", "准备"),
        task("T-M1", "R-MIX", "未开始"),
        task("T-M2", "R-MIX", "取消"),
    ]
    put(engine, "netcare_rfcs", rfcs, dt.date(2026, 11, 2))
    put(engine, "netcare_rfc_tasks", tasks, dt.date(2026, 11, 2))
    run_family(engine, "changes", BD)
    assert subjects(engine, codes={"CH-01", "CH-02"}) == {
        ("CH-01", "R-PAST"),
        ("CH-02", "R-NEAR"),
        ("CH-02", "R-EXACT"),
        ("CH-02", "R-WIN-START"),
        ("CH-01", "R-EXT-NO"),
        ("CH-01", "R-EXT-PENDING"),
        ("CH-01", "R-EXT-PAST"),
        ("CH-01", "R-CANCELLED"),
        ("CH-01", "R-MIX"),
    }
    rows = {f["rfc_no"]: f for f in findings(engine, BD, "CH-01")}
    assert rows["R-PAST"]["region"] == "浙江"
    assert rows["R-PAST"]["severity"] == "error"

    with engine.connect() as c:
        watch = {
            r.rfc_no: r
            for r in c.execute(sa.text("select * from mart.rfc_watch where business_date = :d"), {"d": BD})
        }
    assert set(watch) == {r["rfc_no"] for r in rfcs if r["status"] in ("客户审批", "实施")}
    assert watch["R-PAST"].state == "overdue" and watch["R-PAST"].days_left < 0
    assert watch["R-NEAR"].state == "due_soon" and watch["R-NEAR"].days_left > 0
    assert watch["R-EXT-OK"].extension_applied and watch["R-EXT-OK"].state == "open"
    assert watch["R-EXT-OK"].deadline == AS_OF - 40 * D + 65 * D
    assert watch["R-STARTED"].state == "started"
    assert watch["R-NOPM"].state == "no_pm_approval" and watch["R-NOPM"].deadline is None


def test_the_run_is_a_function_of_as_of(engine):
    put(engine, "netcare_rfcs", [rfc("R1", pm_approved_at=dt.datetime(2026, 10, 1, 10))], dt.date(2026, 10, 1))
    # deadline 2026-11-01 10:00: CH-02 from 2026-10-25 10:00 (business date 10-25: as_of 10-26 00:00)
    run_family(engine, "changes", dt.date(2026, 10, 24))
    assert subjects(engine, dt.date(2026, 10, 24)) == set()
    run_family(engine, "changes", dt.date(2026, 10, 25))
    assert subjects(engine, dt.date(2026, 10, 25)) == {("CH-02", "R1")}
    run_family(engine, "changes", dt.date(2026, 10, 31))
    assert subjects(engine, dt.date(2026, 10, 31)) == {("CH-02", "R1")}
    run_family(engine, "changes", dt.date(2026, 11, 1))
    assert subjects(engine, dt.date(2026, 11, 1)) == {("CH-01", "R1")}


def test_review_lead_time_by_score_then_level(engine):
    sub = dt.datetime(2026, 10, 1, 9)
    rfcs = [
        rfc("R7", risk_score=7, risk_level="Fatal", planned_start_at=sub + D),  # under 8: no check
        rfc("R8", risk_score=8, planned_start_at=sub + 7 * D - H),  # High, under 7 days
        rfc("R8-OK", risk_score=8, planned_start_at=sub + 7 * D),  # exactly 7 days: not under
        rfc("R13", risk_score=13, risk_level="Low", planned_start_at=sub + 6 * D),  # score decides
        rfc("R13-OK", risk_score=13, planned_start_at=sub + 9 * D),  # High needs only 7
        rfc("R14", risk_score=14, planned_start_at=sub + 9 * D),  # Fatal, under 10 days
        rfc("R14-OK", risk_score=14, planned_start_at=sub + 10 * D),
        rfc("R-LVL-HIGH", risk_level="High", planned_start_at=sub + 5 * D),  # no score: level
        rfc("R-LVL-FATAL", risk_level="Fatal", planned_start_at=sub + 9 * D + 23 * H),
        rfc("R-LVL-MED", risk_level="Medium", planned_start_at=sub + D),
        rfc("R-NOPLAN", risk_score=20, planned_start_at=None),
        rfc("R-NEG", risk_score=9, status="完成", planned_start_at=sub - D),  # any status; negative lead
    ]
    for r in rfcs:
        r["submitted_at"] = sub
    put(engine, "netcare_rfcs", rfcs, dt.date(2026, 11, 1))
    run_family(engine, "changes", BD)
    assert subjects(engine, codes={"CH-03"}) == {
        ("CH-03", "R8"), ("CH-03", "R13"), ("CH-03", "R14"), ("CH-03", "R-LVL-HIGH"),
        ("CH-03", "R-LVL-FATAL"), ("CH-03", "R-NEG"),
    }


def test_task_rules(engine):
    approved = dt.datetime(2026, 10, 1, 10)
    put(engine, "netcare_rfcs", [
        rfc("R1", status="完成", plan_approved_at=approved),
    ], dt.date(2026, 11, 1))
    fin = dt.datetime(2026, 10, 20, 12)
    tasks = [
        # CH-04 on calendar days: approved Oct 1 -> valid through Oct 31
        task("T-D30", "R1", "实施中", started_at=dt.datetime(2026, 10, 31, 23)),
        task("T-D31", "R1", "实施中", started_at=dt.datetime(2026, 11, 1, 0, 30)),
        # CH-05: verification gap 29 min (flagged), 30 min (fine), 29 min but not 完成 (not checked)
        task("T-V29", "R1", "完成", verified_at=fin - dt.timedelta(minutes=29), completed_at=fin),
        task("T-V30", "R1", "完成", verified_at=fin - dt.timedelta(minutes=30), completed_at=fin),
        task("T-V29X", "R1", "完成失败", verified_at=fin - dt.timedelta(minutes=29), completed_at=fin),
        # CH-06: guarantor missing / 2 h (fine) / 2 h 1 min (late) / no guarantor (not checked)
        task("T-G-MISS", "R1", "完成", guarantor_id="E9", completed_at=fin),
        task("T-G-2H", "R1", "完成", guarantor_id="E9", completed_at=fin, guarantor_completed_at=fin + 2 * H),
        task("T-G-LATE", "R1", "完成", guarantor_id="E9", completed_at=fin,
             guarantor_completed_at=fin + 2 * H + dt.timedelta(minutes=1)),
        task("T-G-NONE", "R1", "完成", completed_at=fin),
        # CH-07: window inclusive; start before / completion after; one end missing -> not checked
        task("T-A-IN", "R1", "实施中", auth_start_at=fin - 2 * H, auth_end_at=fin, started_at=fin - 2 * H),
        task("T-A-EARLY", "R1", "实施中", auth_start_at=fin - 2 * H, auth_end_at=fin, started_at=fin - 3 * H),
        task("T-A-LATEDONE", "R1", "实施中", auth_start_at=fin - 2 * H, auth_end_at=fin,
             started_at=fin - H, completed_at=fin + dt.timedelta(seconds=1)),
        task("T-A-OPEN", "R1", "实施中", auth_start_at=fin - 2 * H, started_at=fin - 3 * H),
        # a task of an unknown RFC: CH-04 cannot be checked, CH-05 still is
        task("T-ORPHAN", "R-UNKNOWN", "完成", started_at=dt.datetime(2026, 12, 1),
             verified_at=fin, completed_at=fin),
    ]
    put(engine, "netcare_rfc_tasks", tasks, dt.date(2026, 11, 1))
    run_family(engine, "changes", BD)
    assert subjects(engine, codes={"CH-04", "CH-05", "CH-06", "CH-07"}) == {
        ("CH-04", "R1", "T-D31"),
        ("CH-05", "R1", "T-V29"),
        ("CH-05", "R-UNKNOWN", "T-ORPHAN"),
        ("CH-06", "R1", "T-G-MISS"),
        ("CH-06", "R1", "T-G-LATE"),
        ("CH-07", "R1", "T-A-EARLY"),
        ("CH-07", "R1", "T-A-LATEDONE"),
    }
    orphan = findings(engine, BD, "CH-05")
    assert {f["task_no"]: f["region"] for f in orphan} == {"T-V29": "浙江", "T-ORPHAN": None}


def test_failed_change_retrospective_on_working_days(engine):
    with engine.connect() as c:
        wd = c.execute(sa.text("select ops.working_days_after(date '2026-09-29', 5)")).scalar_one()
        wd_bd = c.execute(sa.text("select ops.working_days_after(date '2026-10-27', 5)")).scalar_one()
    # National Day 2026: Sep 30, then Oct 8, 9, 10 (make-up Saturday), 12 -> Oct 12
    assert wd == dt.date(2026, 10, 12)
    assert wd_bd == BD
    fail_at = dt.datetime(2026, 9, 29, 22)
    put(engine, "netcare_rfcs", [
        rfc("F-ONTIME", status="完成失败", retro_submitted_at=dt.datetime(2026, 10, 12, 23, 59)),
        rfc("F-LATE", status="完成失败", retro_submitted_at=dt.datetime(2026, 10, 13, 0, 1)),
        rfc("F-MISSING", status="完成失败"),
        # no failed task with a completion: 计划完成时间 gives the failure day
        rfc("F-PLANNED", status="完成失败", planned_end_at=dt.datetime(2026, 10, 20, 18)),
        # deadline is the business date itself: not yet past
        rfc("F-DUE-TODAY", status="完成失败", planned_end_at=dt.datetime(2026, 10, 27, 18)),
        rfc("F-RECENT", status="完成失败", planned_end_at=dt.datetime(2026, 11, 2, 18)),
        rfc("F-NOT-FAILED", status="完成", planned_end_at=dt.datetime(2026, 9, 1, 18)),
    ], dt.date(2026, 11, 1))
    put(engine, "netcare_rfc_tasks", [
        task("FT1", "F-ONTIME", "完成失败", completed_at=fail_at),
        task("FT2", "F-LATE", "完成失败", completed_at=fail_at - 5 * D),
        task("FT3", "F-LATE", "完成失败", completed_at=fail_at),  # the latest failed task counts
        task("FT4", "F-MISSING", "完成失败", completed_at=fail_at),
        task("FT5", "F-MISSING", "完成", completed_at=fail_at + 30 * D),  # not a failed task
        task("FT6", "F-PLANNED", "完成失败"),
    ], dt.date(2026, 11, 1))
    run_family(engine, "changes", BD)
    assert subjects(engine, codes={"CH-08"}) == {
        ("CH-08", "F-LATE"), ("CH-08", "F-MISSING"), ("CH-08", "F-PLANNED"),
    }
    kinds = {f["rfc_no"]: f["details"]["kind"] for f in findings(engine, BD, "CH-08")}
    assert kinds == {"F-LATE": "late", "F-MISSING": "missing", "F-PLANNED": "missing"}
    run_family(engine, "changes", BD + D)
    assert ("CH-08", "F-DUE-TODAY") in subjects(engine, BD + D, codes={"CH-08"})


def sheet(engine, title, business_date=BD):
    from fieldrecon.outputs import exports
    from fieldrecon.recon import rules

    query = next(q for _, t, q in exports.mart_queries("sheets") if t == title)
    params = rules.bind_params(business_date)
    with engine.begin() as conn:
        exports.sheet_session(conn, business_date, params)
        result = conn.execute(sa.text(query), params)
        return list(result.keys()), [dict(zip(result.keys(), r, strict=True)) for r in result]


def test_watch_list_and_findings_sheets(engine):
    put(engine, "netcare_rfcs", [
        rfc("R-LATE", pm_approved_at=AS_OF - 40 * D, title="核心交换机升级"),
        rfc("R-SOON", pm_approved_at=AS_OF - 30 * D),
        rfc("R-EXT", pm_approved_at=AS_OF - 40 * D, extension="已通过"),
        rfc("R-GO", status="客户审批", pm_approved_at=AS_OF - 40 * D),
        rfc("R-CLOSED", status="完成", pm_approved_at=AS_OF - 40 * D, risk_score=15,
            planned_start_at=dt.datetime(2026, 9, 3)),
    ], dt.date(2026, 11, 1))
    put(engine, "netcare_rfc_tasks", [task("T1", "R-GO", "准备"), task("T2", "R-LATE", "取消")], dt.date(2026, 11, 1))
    run_family(engine, "changes", BD)
    cols, rows = sheet(engine, "RFC跟踪")
    assert cols[:3] == ["RFC单号", "标题", "区域"] and "剩余天数" in cols and "处理建议" in cols
    # sorted by days left (ties by RFC number); a started RFC is listed but not at risk
    assert [r["RFC单号"] for r in rows] == ["R-GO", "R-LATE", "R-SOON", "R-EXT"]
    by = {r["RFC单号"]: r for r in rows}
    assert by["R-LATE"]["剩余天数"] < 0 and "超期关闭" in by["R-LATE"]["处理建议"]
    assert by["R-LATE"]["期限日期"] == (AS_OF - 9 * D).date() and by["R-LATE"]["任务状态"] == "取消×1"
    assert "已有任务开始" in by["R-GO"]["处理建议"] and by["R-GO"]["任务状态"] == "准备×1"
    assert "立即开始任务" in by["R-SOON"]["处理建议"]
    assert by["R-EXT"]["是否已延期"].startswith("是")
    cols, rows = sheet(engine, "变更单规则")
    assert cols == ["规则", "问题", "级别", "区域", "RFC单号", "任务单号", "问题说明", "处理办法", "处理系统", "责任人",
                    "处理期限", "已说明", "首次发现", "是否新增"]
    assert {(r["规则"], r["RFC单号"]) for r in rows} == {("CH-01", "R-LATE"), ("CH-02", "R-SOON"), ("CH-03", "R-CLOSED")}
    assert all(r["问题说明"] and r["处理系统"] == "NetCare" and r["责任人"] == "PM" and r["是否新增"] in ("是", "否") for r in rows)
    assert all(r["首次发现"] is None for r in rows)  # no order-dependent first_seen_as_of (issue 14); `since` when rules give it
