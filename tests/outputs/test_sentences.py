"""Every rule code has a Chinese sentence built from its evidence and an action (what, where, who,
by when); the codes come from the rule files themselves, so a new rule without words fails here."""

from __future__ import annotations

import re

import pytest

from fieldrecon.outputs import sentences
from fieldrecon.settings import SQL_DIR

pytestmark = pytest.mark.unit

# SL-01 … SL-04 are in the rulebook; their rule files may land after this test
RULEBOOK_CODES = {"SL-01", "SL-02", "SL-03", "SL-04"}


def rule_codes() -> set[str]:
    codes = set()
    for path in (SQL_DIR / "recon").rglob("*.sql"):
        m = re.search(r"^--\s*rule:\s*(\S+)", path.read_text(encoding="utf-8"), re.M)
        if m:
            codes.add(m.group(1))
    return codes


# one realistic evidence sample per rule (shapes as the rule files write them)
SAMPLES = {
    "PD-01": ({"dispatched": 2, "punched": 3, "kind": "more", "days": ["2026-10-14", "2026-10-15", "2026-10-16"]},
              ["派单 2 人天，打卡 3 人天（10-14、10-15、10-16）", "多打卡 1 人天"]),
    "PD-02": ({"fse": "F10010", "punches": 4, "first_punch_at": "2026-11-06T08:05:00",
               "last_punch_at": "2026-11-06T16:24:00"}, ["F10010", "F10014", "4 次", "11-06 08:05"]),
    "PD-03": ({"pairs": [{"arrived_at": "2026-10-22T10:57:00", "ended_at": "2026-10-22T14:18:00",
                          "other_ticket_no": "WO2", "other_arrived_at": "2026-10-22T08:22:00",
                          "other_ended_at": "2026-10-22T11:37:00"}]}, ["WO2", "10-22 10:57", "11:37"]),
    "PD-04": ({"gap_minutes": 30.0, "gaps": [{"arrived_at": "2026-09-22T11:58:00", "gap_minutes": 30.0,
                                               "previous_ended_at": "2026-09-22T11:28:00",
                                               "previous_ticket_no": "WO9"}]}, ["30 分钟", "WO9", "11:28"]),
    "PD-05": ({"punches": [{"distance_km": 6.696, "punch_type": "到达", "punched_at": "2026-10-16T08:40:00"},
                           {"distance_km": "missing", "punch_type": "离场", "punched_at": "2026-10-16T15:59:00"}]},
              ["6.7 公里", "无定位", "到达卡"]),
    "PD-06": ({"auth_start_at": "2026-08-26T09:12:00", "auth_end_at": "2026-08-26T21:00:00",
               "punches": [{"punch_type": "开始", "punched_at": "2026-08-26T08:57:00"}]}, ["08-26 08:57", "09:12"]),
    "PD-07": ({"causes": [{"kind": "cross_day", "punched_at": "2026-11-06T08:32:00", "ended_at": "2026-11-07T00:39:00"}],
               "kinds": ["cross_day"]}, ["跨天", "11-07 00:39"]),
    "PD-08": ({"due_at": "2026-11-19T08:54:00", "due_kind": "appointment", "first_arrived_at": "2026-11-19T09:19:00",
               "minutes_late": 25.0}, ["预约到达时间", "25 分钟"]),
    "PD-09": ({"kind": "filed_not_punched", "entries": [{"entry_id": "TS1", "hours": 2, "approval": "已审批"}]},
              ["TS1", "2 小时"]),
    "POC-01": ({"dispatched": 4, "person_days": 3}, ["派单 4 人天", "3 人天"]),
    "DQ-01": ({"rows": {"netcare_punches": 2}}, ["NetCare 打卡 2 行"]),
    "DQ-02": ({"missing": "both", "ticket_type": "巡检"}, ["经度和纬度"]),
    "DQ-03": ({"rows": {"netcare_rfc_tasks.guarantor_id": 1}}, ["NetCare 变更任务（保障人） 1 行"]),
    "CAL-01": ({"year": 2027, "used_by": ["RA-06"]}, ["2027 年", "RA-06"]),
    "RA-01": ({"exception_flow": "已通过", "slots": [{"slot": "in", "kind": "late", "minutes": 36,
                                                      "expected_at": "2026-10-08T09:00:00",
                                                      "punched_at": "2026-10-08T09:36:00"}]},
              ["上班迟到 36 分钟", "晚于审批截止日"]),
    "RA-04": ({"count": 5, "missing": 4, "late": 1, "early": 0}, ["5 次", "缺卡 4"]),
    "RA-05": ({"count": 13, "months": {"2026-09": 4, "2026-10": 4, "2026-11": 5}}, ["13 次", "2026-11 5 次"]),
    "RA-06": ({"deadline": "2026-11-06", "decided_at": "2026-11-08T10:00:00", "exception_flow": "已通过",
               "slots": [{"kind": "late", "slot": "in"}]}, ["2026-11-08 10:00", "2026-11-06"]),
    "RA-07": ({"days_early": 3, "first_day": "2026-09-09", "po_no": "PO1", "po_line_no": 1,
               "service_start": "2026-09-12"}, ["2026-09-09", "PO1", "早 3 天"]),
    "CH-01": ({"days_overdue": 7.21, "deadline": "2026-11-13T19:04:00", "extension_applied": True,
               "pm_approved_at": "2026-09-09T19:04:00", "status": "客户审批", "tasks": "未开始×1"},
              ["2026-11-13 19:04", "7.2 天", "延期"]),
    "CH-02": ({"days_left": 1.5, "deadline": "2026-11-22T12:00:00", "status": "实施", "tasks": "无任务"},
              ["还剩 1.5 天"]),
    "CH-03": ({"effective_level": "High", "lead_days": 5.52, "planned_start_at": "2026-11-05T22:30:00",
               "required_days": 7, "risk_score": 9, "submitted_at": "2026-10-31T10:00:00"}, ["5.5 天", "至少 7 天"]),
    "CH-04": ({"days_after_approval": 38, "plan_approved_at": "2026-09-28T19:37:00", "started_at": "2026-11-05T22:00:00",
               "valid_through": "2026-10-28"}, ["2026-10-28", "第 38 天"]),
    "CH-05": ({"completed_at": "2026-10-31T00:32:00", "gap_minutes": 15.0, "verified_at": "2026-10-31T00:17:00"},
              ["15 分钟"]),
    "CH-06": ({"completed_at": "2026-11-12T03:17:00", "guarantor_completed_at": "2026-11-12T05:47:00",
               "guarantor_id": "F10026", "hours_after": 2.5, "kind": "late"}, ["F10026", "2.5 小时"]),
    "CH-07": ({"auth_start_at": "2026-11-13T23:00:00", "auth_end_at": "2026-11-14T05:00:00",
               "started_at": "2026-11-13T22:40:00", "outside": ["start"]}, ["实际开始 11-13 22:40"]),
    "CH-08": ({"deadline": "2026-10-27", "failure_day": "2026-10-20", "kind": "missing"}, ["2026-10-27", "未提交"]),
    "PO-01": ({"service_start": "2026-10-26", "service_end": "2027-06-30"}, ["2027-06-30"]),
    "PO-02": ({"cycle_amount": 28536.99, "cycle_end": "2026-10-31", "deadline": "2026-11-06",
               "remark": "验收周期:2026-10-01至2026-10-31"}, ["28,536.99 元", "验收周期:2026-10-01至2026-10-31"]),
    "PO-03": ({"approval": "审批中", "kind": "misaligned", "period_start": "2026-08-05", "period_end": "2026-09-04",
               "po_no": "PO2", "po_line_no": 1}, ["2026-08-05", "PO2"]),
    "PO-04": ({"expected": "验收周期:2026-08-01至2026-08-31", "remark": "验收周期:2026-8-1至2026-8-31"},
              ["验收周期:2026-08-01至2026-08-31"]),
    "PO-05": ({"accepted": 8400.0, "excess": 8400.0, "line_amount": 8400.0, "submitted": 8400,
               "acceptances": ["YS1", "YS2"]}, ["8,400.00 元", "YS1"]),
    "PO-06": ({"decided": 15, "rejected": 1, "rate": 0.0667, "rejected_acceptances": ["YS3"], "partner_rate": 0.02},
              ["15 单", "6.7%", "全公司当月驳回率 2.0%"]),
    "PO-08": ({"closed_at": "2026-09-22T15:12:00", "ticket_po_no": None, "ticket_type": "巡检"}, ["09-22 15:12"]),
    "PO-09": ({"attendance_rows": 61, "first_day": "2026-08-24", "kind": "no_po"}, ["61 天", "没有 PO号"]),
    "AT-01": ({"missing": ["健康检查报告"], "ticket_type": "巡检"}, ["健康检查报告"]),
    "AT-02": ({"files": [{"file_name": "报告.pdf", "has_customer": False, "has_ticket_no": True}]}, ["报告.pdf", "客户名称"]),
    "SL-01": ({"received": "2026-11-02T18:30:00", "dispatched": "2026-11-03T09:20:00",
               "deadline": "2026-11-03T09:00:00", "minutes_late": 20}, ["11-02 18:30", "20 分钟"]),
    "SL-02": ({"received": "2026-10-01T10:00:00", "dispatched": None, "deadline": "2026-10-30T23:59:59"},
              ["仍未派发"]),
    "SL-03": ({"completed_at": "2026-11-02T16:00:00", "deadline": "2026-11-09", "close_requested_at": None},
              ["2026-11-09", "仍未申请关单"]),
    "SL-04": ({"deadline": "2026-11-23"}, ["2026-11-23"]),
}
FINDING = {"engineer_id": "F10014", "month": "2026-10", "cycle_start": "2026-10-01"}


def test_every_rule_code_has_a_sentence_and_an_action():
    codes = rule_codes() | RULEBOOK_CODES
    assert len(codes) >= 41
    missing = sorted(c for c in codes if not sentences.has_sentence(c))
    assert not missing, f"rule codes without a sentence in outputs/sentences.py: {missing}"
    assert codes <= set(SAMPLES), f"add an evidence sample for {sorted(codes - set(SAMPLES))}"


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_sentence_is_built_from_the_evidence(code):
    details, expected = SAMPLES[code]
    text = sentences.sentence(code, details, dict(FINDING, rule_code=code))
    assert "{" not in text and "=" not in text.replace("打卡人天=派单人天", ""), text
    for part in expected:
        assert part in text, (part, text)
    a = sentences.action(code, details)
    assert a.what and a.by_when
    assert a.system in {"NetCare", "ISC", "工时系统 2.0", "NetCare / 工时系统 2.0", "工时系统 2.0 / NetCare",
                        "对账平台（运维）"}
    assert set(a.who.split("、")) <= {"FSE", "PM", "文员", "管理员"}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_empty_or_odd_evidence_never_raises(code):
    for details in (None, {}, "not json", {"slots": "x", "pairs": 3, "rows": None}):
        assert isinstance(sentences.sentence(code, details), str)
        assert sentences.action(code, details).what


def test_describe_gives_the_clerk_columns_and_accepts_json_text():
    row = {"rule_code": "PD-01", "region": None, "details": '{"dispatched":1,"kind":"more","punched":2}'}
    d = sentences.describe(row)
    assert list(d) == list(sentences.DESCRIBE_COLUMNS)
    assert d["问题说明"] == "派单 1 人天，打卡 2 人天：多打卡 1 人天"
    assert d["处理系统"] == "NetCare"
    assert sentences.region_label(None) == sentences.HQ_REGION == "总部"


def test_ra01_on_a_late_approved_flow_says_it_came_after_the_deadline():
    text = sentences.sentence("RA-01", {"exception_flow": "已通过", "slots": [{"slot": "out", "kind": "missing"}]})
    assert "下班缺卡" in text and "晚于审批截止日" in text
