"""What a finding means for a clerk, in Chinese: one sentence built from the finding's evidence
(numbers, times, names) and what to do about it — in which system, by whom and by when.

The one place the workbook, the clerks' CSVs, the packs and the download page take these words from:

    sentence(rule_code, details, finding=None) -> str
    action(rule_code, details=None) -> Action(what, system, who, by_when)
    describe(finding) -> {"问题说明": …, "处理办法": …, "处理系统": …, "责任人": …, "处理期限": …}

`finding` is a row of recon.findings_as_of (subject keys, region, details); `details` may be a dict or
its JSON text. Every rule code of include/sql/recon/** has an entry (tests/outputs/test_sentences.py);
an unknown code still gets a plain sentence so a new rule never breaks a night.
Findings without a region (CAL-01, and DQ rows whose ticket and engineer are both unknown) are for
head office: their region reads HQ_REGION in the clerks' outputs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import NamedTuple

from fieldrecon.labels import PUNCH_PROBLEM, amount, number

HQ_REGION = "总部"

NETCARE, ISC, TIMESHEET, PIPELINE = "NetCare", "ISC", "工时系统 2.0", "对账平台（运维）"
FSE, PM, CLERK, ADMIN = "FSE", "PM", "文员", "管理员"


class Action(NamedTuple):
    what: str
    system: str
    who: str
    by_when: str


# ---------------------------------------------------------------- formatting helpers

def _parse(value):
    if isinstance(value, dt.datetime | dt.date):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.datetime.fromisoformat(value) if ("T" in value or " " in value) else dt.date.fromisoformat(value)
    except ValueError:
        return None


def _t(value) -> str:
    """A local time as 'MM-DD HH:MM' (extract times are local, to the minute)."""
    v = _parse(value)
    if isinstance(v, dt.datetime):
        return v.strftime("%m-%d %H:%M")
    if isinstance(v, dt.date):
        return v.strftime("%m-%d")
    return str(value) if value not in (None, "") else "-"


def _day(value) -> str:
    v = _parse(value)
    return v.strftime("%m-%d") if isinstance(v, dt.date) else (str(value) if value else "-")


def _date(value) -> str:
    """A deadline or period bound with its year: 'YYYY-MM-DD' (and ' HH:MM' when it has a time)."""
    v = _parse(value)
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(value) if value not in (None, "") else "-"


def _n(value, places: int = 2) -> str:
    """A number without noise: 25.0 -> '25', 6.696 -> '6.7', 5.52 -> '5.5'."""
    return number(value, places, empty="-")


def _money(value) -> str:
    return amount(value, empty="-", unit=" 元")


def _list(values, fmt: Callable = str, sep: str = "、") -> str:
    return sep.join(fmt(v) for v in (values or []))


SOURCE_ZH = {
    "netcare_workorders": "NetCare 工单",
    "netcare_punches": "NetCare 打卡",
    "netcare_attachments": "NetCare 附件",
    "netcare_resident_attendance": "NetCare 驻场考勤",
    "netcare_rfcs": "NetCare 变更单",
    "netcare_rfc_tasks": "NetCare 变更任务",
    "isc_po_lines": "ISC PO行",
    "isc_acceptances": "ISC 验收单",
    "timesheet_entries": "工时系统 2.0 工时填报",
    "timesheet_engineers": "工时系统 2.0 人员主数据",
}
_COLUMN_ZH = {"engineer_id": "工号", "implementer_id": "实施人", "guarantor_id": "保障人"}
_SLOT_ZH = {"in": "上班", "out": "下班"}
_PUNCH_KIND_ZH = PUNCH_PROBLEM


def source_zh(name: str) -> str:
    """The Chinese name of an extract source (汇总 and the quality sections)."""
    return SOURCE_ZH.get(name, name)


def _rows(rows: Mapping | None) -> str:
    parts = []
    for key, n in sorted((rows or {}).items()):
        source, _, column = key.partition(".")
        label = source_zh(source) + (f"（{_COLUMN_ZH.get(column, column)}）" if column else "")
        parts.append(f"{label} {n} 行")
    return "、".join(parts)


# ---------------------------------------------------------------- sentences, per rule

def _pd01(d, f):
    dispatched, punched = d.get("dispatched"), d.get("punched")
    days = d.get("days")
    text = f"派单 {_n(dispatched)} 人天，打卡 {_n(punched)} 人天" + (f"（{_list(days, _day)}）" if days else "")
    try:
        diff = Decimal(str(punched)) - Decimal(str(dispatched))
    except ArithmeticError:
        return text
    return text + (f"：多打卡 {_n(diff)} 人天" if diff > 0 else f"：少打卡 {_n(-diff)} 人天（工单已申请关单）")


def _pd02(d, f):
    who = (f or {}).get("engineer_id") or "非派单工程师"
    return (f"工单派给 {d.get('fse') or '-'}，但 {who} 在本单打卡 {_n(d.get('punches'))} 次"
            f"（{_t(d.get('first_punch_at'))} 至 {_t(d.get('last_punch_at'))}）")


def _pd03(d, f):
    pairs = d.get("pairs") or []
    if not pairs:
        return f"与工单 {_list(d.get('other_tickets'))} 的在场时间重叠"
    return "；".join(
        f"本单 {_t(p.get('arrived_at'))}–{_t(p.get('ended_at'))[-5:]} 与工单 {p.get('other_ticket_no')} "
        f"{_t(p.get('other_arrived_at'))}–{_t(p.get('other_ended_at'))[-5:]} 在场时间重叠"
        for p in pairs
    )


def _pd04(d, f):
    gaps = d.get("gaps") or []
    if not gaps:
        return f"离开上一工单后 {_n(d.get('gap_minutes'))} 分钟即到达本单，要求间隔至少 60 分钟"
    return "；".join(
        f"{_t(g.get('previous_ended_at'))} 离开工单 {g.get('previous_ticket_no')}，{_t(g.get('arrived_at'))[-5:]} "
        f"到达本单，间隔 {_n(g.get('gap_minutes'))} 分钟（要求至少 60 分钟）"
        for g in gaps
    )


def _pd05(d, f):
    parts = []
    for p in d.get("punches") or []:
        where = ("无定位" if p.get("distance_km") == "missing"
                 else f"距客户地址 {_n(p.get('distance_km'), 1)} 公里")
        parts.append(f"{_t(p.get('punched_at'))} {p.get('punch_type') or ''}卡{where}")
    return "；".join(parts) + "（要求 3 公里内且有定位）" if parts else "打卡位置超出 3 公里或无定位"


def _pd06(d, f):
    punches = "、".join(f"{_t(p.get('punched_at'))} {p.get('punch_type') or ''}卡" for p in d.get("punches") or [])
    return f"{punches or '打卡'} 在授权时间 {_t(d.get('auth_start_at'))} 至 {_t(d.get('auth_end_at'))} 之外"


def _pd07(d, f):
    parts = []
    for c in d.get("causes") or [{"kind": k} for k in d.get("kinds") or []]:
        kind = c.get("kind")
        if kind == "cross_day":
            parts.append(f"{_t(c.get('punched_at'))} 到达，{_t(c.get('ended_at'))} 才结束（跨天）")
        elif kind == "open":
            parts.append(f"{_t(c.get('punched_at'))} 到达后当天没有离场卡")
        elif kind == "orphan_leave":
            parts.append(f"{_t(c.get('punched_at'))} 的离场卡没有对应的到达卡")
        else:
            parts.append(str(kind))
    return "；".join(parts) or "跨天打卡或缺离场卡"


def _pd08(d, f):
    target = "预约到达时间" if d.get("due_kind") == "appointment" else "要求到达时间"
    return (f"{target} {_t(d.get('due_at'))}，首次到达 {_t(d.get('first_arrived_at'))[-5:]}，"
            f"迟到 {_n(d.get('minutes_late'))} 分钟")


def _pd09(d, f):
    if d.get("kind") == "filed_not_punched":
        entries = "、".join(f"{e.get('entry_id')}（{_n(e.get('hours'))} 小时，{e.get('approval') or '-'}）"
                            for e in d.get("entries") or [])
        return f"当天填报了现场工时 {entries} 但没有打卡人天"
    return f"当天有打卡（{_n(d.get('visits'))} 次在场）但没有填报工时"


def _poc01(d, f):
    days = d.get("days")
    return (f"派单 {_n(d.get('dispatched'))} 人天，工时系统已审批 {_n(d.get('person_days'))} 人天"
            + (f"（{_list(days, _day)}）" if days else ""))


def _dq01(d, f):
    return f"工单导出中没有此工单号，却出现在 {_rows(d.get('rows'))}"


def _dq02(d, f):
    missing = {"both": "经度和纬度", "site_lat": "纬度", "site_lng": "经度"}.get(d.get("missing"), "经纬度")
    return f"{d.get('ticket_type') or ''}工单的非涉密局点缺少{missing}，无法核对打卡距离"


def _dq03(d, f):
    return f"人员主数据中没有此工号，却出现在 {_rows(d.get('rows'))}"


def _cal01(d, f):
    used = _list(d.get("used_by"))
    return f"{d.get('year') or '-'} 年不在工作日历中，已按周一至周五计算" + (f"（用于 {used} 期限）" if used else "")


def _slots(d) -> str:
    parts = []
    for s in d.get("slots") or []:
        text = _SLOT_ZH.get(s.get("slot"), s.get("slot") or "") + _PUNCH_KIND_ZH.get(s.get("kind"), s.get("kind") or "")
        if s.get("kind") in ("late", "early") and s.get("minutes") is not None:
            text += f" {_n(s.get('minutes'))} 分钟"
        if s.get("expected_at") and s.get("kind") != "missing":
            text += f"（应 {_t(s.get('expected_at'))[-5:]}，实际 {_t(s.get('punched_at'))[-5:]}）"
        parts.append(text)
    return "，".join(parts)


def _ra01(d, f):
    flow = d.get("exception_flow")
    text = _slots(d) or "考勤异常"
    if flow == "已通过":
        late = f"（{_date(d.get('decided_at'))} 通过，截止 {_date(d.get('deadline'))}）" if d.get("deadline") else ""
        return text + f"；异常电子流已通过，但晚于审批截止日{late}，异常不能消除（见 RA-06）"
    if flow == "已驳回":
        return text + "；异常电子流已驳回"
    if flow == "审批中":
        return text + "；异常电子流审批中，通过前仍计为异常"
    return text + "；没有请假或异常电子流"


def _ra04(d, f):
    return (f"{(f or {}).get('month') or '本月'} 考勤异常 {_n(d.get('count'))} 次（缺卡 {_n(d.get('missing'))}、"
            f"迟到 {_n(d.get('late'))}、早退 {_n(d.get('early'))}），超过每月 4 次")


def _ra05(d, f):
    months = "、".join(f"{m} {_n(n)} 次" for m, n in sorted((d.get("months") or {}).items()))
    return f"连续 3 个月考勤异常 {_n(d.get('count'))} 次（{months}），超过 12 次"


def _ra06(d, f):
    flow = d.get("exception_flow")
    head = (_slots(d) or "考勤异常") + "；"
    if flow == "已通过":
        return head + f"异常电子流 {_date(d.get('decided_at'))} 才通过，晚于截止日 {_date(d.get('deadline'))}，不能消除异常"
    return head + f"异常电子流仍在审批中，已过截止日 {_date(d.get('deadline'))}"


def _ra07(d, f):
    return (f"首个考勤日 {_date(d.get('first_day'))}，早于 PO {d.get('po_no')} 第 {d.get('po_line_no')} 行驻场服务开始日期 "
            f"{_date(d.get('service_start'))}（早 {_n(d.get('days_early'))} 天）")


def _ext(d) -> str:
    return "（含已批准延期 34 天）" if d.get("extension_applied") in (True, "true") else ""


def _ch01(d, f):
    return (f"PM 审批完成 {_date(d.get('pm_approved_at'))}，超期关闭期限 {_date(d.get('deadline'))}{_ext(d)}，"
            f"已超 {_n(d.get('days_overdue'), 1)} 天；状态 {d.get('status') or '-'}，任务：{d.get('tasks') or '无'}")


def _ch02(d, f):
    return (f"超期关闭期限 {_date(d.get('deadline'))}{_ext(d)}，还剩 {_n(d.get('days_left'), 1)} 天；"
            f"状态 {d.get('status') or '-'}，任务：{d.get('tasks') or '无'}")


def _ch03(d, f):
    score = d.get("risk_score")
    risk = f"风险 {_n(score)} 分（{d.get('effective_level')}）" if score is not None else f"风险等级 {d.get('effective_level')}"
    return (f"{risk}：{_date(d.get('submitted_at'))} 提交，计划 {_date(d.get('planned_start_at'))} 开始，"
            f"只提前 {_n(d.get('lead_days'), 1)} 天，要求至少 {_n(d.get('required_days'))} 天")


def _ch04(d, f):
    return (f"方案 {_date(d.get('plan_approved_at'))} 审核通过，有效至 {_date(d.get('valid_through'))}，"
            f"任务 {_date(d.get('started_at'))} 才开始（第 {_n(d.get('days_after_approval'))} 天）")


def _ch05(d, f):
    return (f"{_t(d.get('verified_at'))} 验证，{_t(d.get('completed_at'))[-5:]} 完成，"
            f"验证只有 {_n(d.get('gap_minutes'))} 分钟（要求至少 30 分钟）")


def _ch06(d, f):
    who = d.get("guarantor_id") or "保障人"
    if d.get("kind") == "missing":
        return f"任务 {_t(d.get('completed_at'))} 完成，保障人 {who} 没有完成时间"
    return (f"任务 {_t(d.get('completed_at'))} 完成，保障人 {who} {_t(d.get('guarantor_completed_at'))} 才完成，"
            f"晚 {_n(d.get('hours_after'), 1)} 小时（要求 2 小时内）")


def _ch07(d, f):
    outside = d.get("outside") or []
    parts = []
    if "start" in outside:
        parts.append(f"实际开始 {_t(d.get('started_at'))}")
    if "completion" in outside:
        parts.append(f"实际完成 {_t(d.get('completed_at'))}")
    return f"{'、'.join(parts) or '实施时间'} 在授权时间 {_t(d.get('auth_start_at'))} 至 {_t(d.get('auth_end_at'))} 之外"


def _ch08(d, f):
    head = f"变更 {_date(d.get('failure_day'))} 失败，回溯应在 {_date(d.get('deadline'))} 前提交"
    if d.get("kind") == "missing":
        return head + "，至今未提交"
    return head + f"，{_date(d.get('retro_submitted_at'))} 才提交"


def _po01(d, f):
    return f"维保 PO 行服务期 {_date(d.get('service_start'))} 至 {_date(d.get('service_end'))}，未止于 7 月 31 日"


def _po02(d, f):
    return (f"周期 {_date((f or {}).get('cycle_start'))} 至 {_date(d.get('cycle_end'))}（{_money(d.get('cycle_amount'))}）"
            f"未提交验收，截止 {_date(d.get('deadline'))} 已过；备注请填“{d.get('remark') or ''}”")


def _po03(d, f):
    line = f"PO {d.get('po_no')} 第 {d.get('po_line_no')} 行"
    if d.get("kind") == "no_period":
        return f"{line}的验收单（{d.get('approval') or '-'}）没有填写验收周期"
    return (f"{line}的验收单（{d.get('approval') or '-'}）周期 {_date(d.get('period_start'))} 至 "
            f"{_date(d.get('period_end'))} 与月度验收周期不对齐")


def _po04(d, f):
    return f"备注为“{d.get('remark') or ''}”，应包含“{d.get('expected') or ''}”"


def _po05(d, f):
    return (f"行金额 {_money(d.get('line_amount'))}，已通过 {_money(d.get('accepted'))} + 审批中 "
            f"{_money(d.get('submitted'))}，超出 {_money(d.get('excess'))}（验收单 {_list(d.get('acceptances'))}）")


def _pct(value) -> str:
    try:
        return f"{Decimal(str(value)) * 100:.1f}%"
    except ArithmeticError:
        return "-"


def _po06(d, f):
    text = (f"{(f or {}).get('month') or ''} 审批 {_n(d.get('decided'))} 单，驳回 {_n(d.get('rejected'))} 单"
            f"（{_list(d.get('rejected_acceptances'))}），驳回率 {_pct(d.get('rate'))}，超过 3%")
    if d.get("partner_rate") is not None:
        text += f"；全公司当月驳回率 {_pct(d.get('partner_rate'))}"
    return text


def _po08(d, f):
    po = d.get("ticket_po_no")
    return (f"{d.get('ticket_type') or ''}工单 {_t(d.get('closed_at'))} 已关闭超过 30 天，ISC 中仍没有 PO 行引用"
            + (f"（工单上的 PO号 {po} 在 ISC 中不存在）" if po else ""))


def _po09(d, f):
    head = f"{_date(d.get('first_day'))} 起已有 {_n(d.get('attendance_rows'))} 天驻场考勤"
    if d.get("kind") == "no_po":
        return head + "，工单没有 PO号"
    return head + f"，但 PO {d.get('ticket_po_no')} 在 ISC 中没有驻场行"


def _at01(d, f):
    return f"{d.get('ticket_type') or ''}工单已关闭，缺少附件：{_list(d.get('missing'))}"


def _at02(d, f):
    parts = []
    for x in d.get("files") or []:
        lacks = [w for w, ok in (("工单号", x.get("has_ticket_no")), ("客户名称", x.get("has_customer"))) if not ok]
        parts.append(f"“{x.get('file_name')}”缺少{'和'.join(lacks)}")
    return "；".join(parts) or "现场技术服务报告文件名不规范"


def _sl_dispatch(d, f, limit: str):
    received, dispatched = _t(d.get("received") or d.get("received_at")), d.get("dispatched") or d.get("dispatched_at")
    late = d.get("minutes_late")
    if late is None:
        late = d.get("working_days_late")
        late_text = f"，晚 {_n(late)} 个工作日" if late is not None else ""
    else:
        late_text = f"，晚 {_n(late)} 分钟"
    if dispatched:
        return f"{received} 收到（MSD 派单），{_t(dispatched)} 才派发给工程师，期限 {_t(d.get('deadline'))}{late_text}{limit}"
    return f"{received} 收到（MSD 派单），期限 {_t(d.get('deadline'))} 已过仍未派发{late_text}{limit}"


def _sl01(d, f):
    return _sl_dispatch(d, f, "")


def _sl02(d, f):
    return _sl_dispatch(d, f, "（要求 15 个工作日内）")


def _end_of_day(d) -> str:
    """An end-of-day deadline (SL-02 / SL-03 / SL-04 carry its day as deadline_day): 'YYYY-MM-DD 当天结束'
    rather than the next midnight."""
    return f"{_date(d['deadline_day'])} 当天结束" if d.get("deadline_day") else _date(d.get("deadline"))


def _sl03(d, f):
    used = d.get("working_days_used") if d.get("working_days_used") is not None else d.get("working_days")
    head = f"{_t(d.get('completed_at'))} 完工，关单申请期限 {_end_of_day(d)}"
    requested = d.get("close_requested_at")
    if requested:
        return head + f"，{_t(requested)} 才申请关单" + (f"（用了 {_n(used)} 个工作日）" if used is not None else "")
    return head + " 已过，仍未申请关单"


def _sl04(d, f):
    return f"关单申请期限 {_end_of_day(d)} 将到，尚未申请关单"


# what to do, where, by whom, by when — per rule; a rule whose action depends on its evidence
# passes a function of details instead
_ACTIONS: dict[str, Action | Callable[[dict], Action]] = {
    "PD-01": lambda d: Action(
        "核对多出的打卡日：确为现场工作则由 PM 申请调增派单人天，否则由 FSE 申请更正打卡"
        if d.get("kind") == "more" else
        "补齐缺的打卡人天（FSE 申请补卡），或由 PM 调减派单人天，使打卡人天=派单人天",
        NETCARE, f"{PM}、{FSE}", "关单审核前（最晚提交验收前）"),
    "PD-02": Action("一人一单：由实际履行的工程师接单（PM 在 NetCare 改派），或说明非派单工程师打卡的原因",
                    NETCARE, PM, "关单审核前"),
    "PD-03": Action("同一工程师不能同时在两单现场：FSE 说明实际在场时间，PM 在 NetCare 申请更正打卡", NETCARE,
                    f"{FSE}、{PM}", "本周内（关单审核前）"),
    "PD-04": Action("前一单离场与后一单到场需间隔 1 小时：FSE 说明原因，必要时在 NetCare 申请更正打卡", NETCARE,
                    FSE, "本周内（关单审核前）"),
    "PD-05": Action("FSE 说明打卡位置（开启定位、在客户现场打卡）；客户地址有误时由 PM 在 NetCare 更正局点地址",
                    NETCARE, f"{FSE}、{PM}", "关单审核前"),
    "PD-06": Action("开始/离场卡需在授权时间内：PM 在 NetCare 补授权或 FSE 说明原因", NETCARE, f"{PM}、{FSE}",
                    "关单审核前"),
    "PD-07": Action("在场每天打卡、不跨天：FSE 补打离场卡或在 NetCare 申请更正打卡", NETCARE, FSE, "次日内"),
    "PD-08": Action("FSE 说明迟到原因，PM 跟进（计入履行达成率 KPI）", NETCARE, f"{FSE}、{PM}", "本周内"),
    "PD-09": lambda d: Action(
        "FSE 更正或删除这条现场工时（没有打卡不能报现场），或补打卡；文员核对"
        if d.get("kind") == "filed_not_punched" else "FSE 在工时系统 2.0 补填当天工时",
        TIMESHEET, f"{FSE}、{CLERK}" if d.get("kind") == "filed_not_punched" else FSE, "本周内（月底工时结账前）"),
    "POC-01": Action("PM 核对 POC 任务工时：补审批缺的工时，或调整派单人天，使人天一致", TIMESHEET, PM,
                     "POC 结算（申请 PO）前"),
    "DQ-01": Action("文员核对工单号：录错的在原系统更正，工单缺失的请 NetCare 补导出", f"{NETCARE} / {TIMESHEET}", CLERK,
                    "下次导出前"),
    "DQ-02": Action("PM 在 NetCare 补全局点经纬度（涉密局点标记“是否涉密=是”）", NETCARE, PM, "关单审核前"),
    "DQ-03": Action("文员在工时系统 2.0 人员主数据中补录该工号，或在原系统更正录错的工号", f"{TIMESHEET} / {NETCARE}",
                    CLERK, "下次导出前"),
    "CAL-01": Action("管理员在日历文件（include/calendar/extra_days.csv）补充该年的节假日和调休", PIPELINE, ADMIN,
                     "该年第一个期限前"),
    "RA-01": lambda d: Action(
        "已驳回：FSE 补充证明重新提交异常电子流，或接受计为异常" if d.get("exception_flow") == "已驳回" else
        "电子流晚于截止日通过，不能消除：计入本月考勤异常，PM 提醒按时审批" if d.get("exception_flow") == "已通过" else
        "催 PM 在截止日前审批异常电子流" if d.get("exception_flow") == "审批中" else
        "FSE 在 NetCare 提交请假或考勤异常电子流，PM 审批",
        NETCARE, f"{FSE}、{PM}", "异常所在月结束后第 5 个工作日"),
    "RA-04": Action("PM 组织工程师提交考勤改进计划", NETCARE, PM, "下月第 5 个工作日前"),
    "RA-05": Action("PM 评估换人风险并与客户沟通，工程师提交改进计划", NETCARE, PM, "本月内"),
    "RA-06": lambda d: Action(
        "PM 立即审批异常电子流；已过截止日，该异常不能消除" if d.get("exception_flow") != "已通过" else
        "电子流审批晚于截止日：该异常计入考勤，PM 以后在截止日前审批",
        NETCARE, PM, f"立即（截止 {_date(d.get('deadline'))} 已过）" if d.get("deadline") else "立即"),
    "RA-07": Action("PM 核对入场日期：入场早于 PO 开始的天数不能验收；需要时文员请华为 PR 专员调整 PO 开始日期",
                    ISC, f"{PM}、{CLERK}", "下次验收前"),
    "CH-01": Action("PM 在 NetCare 对 RFC 办理超期关闭；还需实施的重新提交 RFC", NETCARE, PM, "立即"),
    "CH-02": lambda d: Action("PM 在期限前开始实施或取消任务（可申请一次延期 34 天）", NETCARE, PM,
                              f"{_date(d.get('deadline'))} 前"),
    "CH-03": Action("PM 与客户协商推迟计划开始时间，或按紧急变更审批", NETCARE, PM, "计划开始前"),
    "CH-04": Action("方案超过 30 天有效期：PM 重新提交方案审核后再实施，并说明本次原因", NETCARE, PM, "本周内"),
    "CH-05": Action("FSE 说明验证不足 30 分钟的原因；以后验证不少于 30 分钟", NETCARE, FSE, "本周内"),
    "CH-06": Action("保障人在 NetCare 补填完成时间或说明超时原因（要求实施完成后 2 小时内）", NETCARE, FSE, "本周内"),
    "CH-07": Action("实施超出授权时间窗：FSE 说明原因，PM 在 NetCare 补授权", NETCARE, f"{FSE}、{PM}", "本周内"),
    "CH-08": lambda d: Action("PM 在 NetCare 提交失败变更回溯" if d.get("kind") == "missing" else
                              "回溯已逾期提交：PM 说明逾期原因", NETCARE, PM,
                              "立即" if d.get("kind") == "missing" else "本周内"),
    "PO-01": Action("文员核对维保 PO 行服务期，应止于 7 月 31 日；有误请华为 PR 专员在 ISC 更正", ISC, CLERK, "首次验收前"),
    "PO-02": lambda d: Action(f"文员在 ISC 提交本周期验收，PO 行备注填“{d.get('remark') or ''}”", ISC, CLERK,
                              f"已过截止 {_date(d.get('deadline'))}，立即"),
    "PO-03": Action("文员在 ISC 撤回该验收单，按月度周期（起止为周期首末日）重新提交", ISC, CLERK, "审批前"),
    "PO-04": lambda d: Action(f"文员在 ISC 把备注改为包含“{d.get('expected') or ''}”", ISC, CLERK, "审批前"),
    "PO-05": Action("文员在 ISC 撤回多出的验收单，使验收金额不超过行金额", ISC, CLERK, "立即"),
    "PO-06": Action("文员核对驳回原因并整改验收资料（KPI：月度驳回率 ≤ 3%）", ISC, CLERK, "下月验收前"),
    "PO-08": Action("文员请华为 PR 专员下发 PO（或在 ISC 核对 PO 行的关联工单号）", ISC, CLERK, "本月内"),
    "PO-09": Action("No PO No Work：PM 确认驻场 PO 已在 ISC 下发并填到工单，没有 PO 前停止驻场", ISC, PM, "立即"),
    "AT-01": Action("FSE 在 NetCare 上传缺少的关单附件（验收包因此阻塞）", NETCARE, FSE, "提交验收前"),
    "AT-02": Action("FSE 按“工单号+客户名称”重命名现场技术服务报告并在 NetCare 重新上传", NETCARE, FSE, "提交验收前"),
    "SL-01": Action("PM（维护经理）说明派发超时原因；以后按时派发（小时级 10 分钟，非小时级 30 分钟）", NETCARE, PM,
                    "本周内（计入月度派发及时率）"),
    "SL-02": Action("PM（维护经理）说明派发超时原因，尽快派发给工程师", NETCARE, PM, "立即"),
    "SL-03": lambda d: Action("FSE 说明关单申请超时原因" if d.get("close_requested_at") else
                              "FSE 立即在 NetCare 提交关单申请", NETCARE, FSE,
                              "本周内" if d.get("close_requested_at") else "立即"),
    "SL-04": lambda d: Action("FSE 在期限前在 NetCare 提交关单申请", NETCARE, FSE, f"{_end_of_day(d)}前"),
}

_SENTENCES: dict[str, Callable[[dict, dict | None], str]] = {
    "PD-01": _pd01, "PD-02": _pd02, "PD-03": _pd03, "PD-04": _pd04, "PD-05": _pd05, "PD-06": _pd06,
    "PD-07": _pd07, "PD-08": _pd08, "PD-09": _pd09, "POC-01": _poc01,
    "DQ-01": _dq01, "DQ-02": _dq02, "DQ-03": _dq03, "CAL-01": _cal01,
    "RA-01": _ra01, "RA-04": _ra04, "RA-05": _ra05, "RA-06": _ra06, "RA-07": _ra07,
    "CH-01": _ch01, "CH-02": _ch02, "CH-03": _ch03, "CH-04": _ch04, "CH-05": _ch05, "CH-06": _ch06,
    "CH-07": _ch07, "CH-08": _ch08,
    "PO-01": _po01, "PO-02": _po02, "PO-03": _po03, "PO-04": _po04, "PO-05": _po05, "PO-06": _po06,
    "PO-08": _po08, "PO-09": _po09, "AT-01": _at01, "AT-02": _at02,
    "SL-01": _sl01, "SL-02": _sl02, "SL-03": _sl03, "SL-04": _sl04,
}

RULE_CODES = frozenset(_SENTENCES)


def _details(details) -> dict:
    if details is None:
        return {}
    if isinstance(details, str):
        try:
            details = json.loads(details)
        except ValueError:
            return {}
    return dict(details) if isinstance(details, Mapping) else {}


def has_sentence(rule_code: str) -> bool:
    return rule_code in _SENTENCES and rule_code in _ACTIONS


def sentence(rule_code: str, details=None, finding: Mapping | None = None) -> str:
    """The finding's evidence as one Chinese sentence."""
    d = _details(details)
    build = _SENTENCES.get(rule_code)
    if build is None:
        return "；".join(f"{k}：{v}" for k, v in sorted(d.items())) or rule_code
    try:
        return build(d, dict(finding) if finding is not None else None)
    except (TypeError, ValueError, AttributeError, KeyError):
        # evidence of an unexpected shape still reaches the clerk, as it is
        return json.dumps(d, ensure_ascii=False, sort_keys=True, default=str)


def action(rule_code: str, details=None) -> Action:
    """What to do, in which system, by whom and by when."""
    a = _ACTIONS.get(rule_code)
    if a is None:
        return Action("请管理员确认处理办法", PIPELINE, ADMIN, "-")
    return a(_details(details)) if callable(a) else a


def region_label(region) -> str:
    return region or HQ_REGION


DESCRIBE_COLUMNS = ("问题说明", "处理办法", "处理系统", "责任人", "处理期限")


def describe(finding: Mapping) -> dict:
    """The clerk's columns for one finding row (rule_code, details, subject keys)."""
    a = action(finding["rule_code"], finding.get("details"))
    return dict(zip(DESCRIBE_COLUMNS,
                    (sentence(finding["rule_code"], finding.get("details"), finding), a.what, a.system, a.who, a.by_when),
                    strict=True))
