"""Acceptance packages (issue 6): one zip per acceptance to-do item, immutable and versioned.

`build_all(engine, ctx)` runs after the exports. For every item of `mart.acceptance_todo` (a due or
rejected 维保/驻场 cycle, a per-ticket PO line whose tickets are all closed) it gathers the rows the
item covers — the PO line, its cycle, tickets, attachments, punched person-days, resident
attendance, the open findings that concern it (with the clerks' triage marks) and the quarantined
input rows about its PO — and renders:

- `验收单_<key>.html` / `.pdf` (include/templates/acceptance_doc.html.j2, fieldrecon.outputs.render),
- `附件明细_<key>.xlsx` (工单明细, 驻场考勤, 相关问题, 排除的数据行),
- `manifest.json`: the rows the pack covers (source, key, sha256 of the row's values), every file's
  sha256, status `ready`/`blocked` with reasons,

zipped as `验收包_<PO号>-<行号>_<YYYYMMDD>-<YYYYMMDD>.zip` (cycle) or `验收包_<PO号>-<行号>.zip`.

Immutability: everything in the pack comes from its data, nothing from the runs that met it: no
preparation date (the signatories date the form by hand) and no running version number. The content
hash (all of the pack's data) identifies a version in `packs.versions`: the same content is the same
version and the same bytes; a change makes a new version stored next to the old one
(`<store>/<region>/<pack key>/<label>/<zip>`, label = the content hash's first 8 hex digits, printed
as the document's 版本), with what changed. So a date's packs, paths and documents.csv are the same
whichever dates ran before or at the same time (issue 14 item 5); the registry's running number and
first business date stay in the warehouse for the download page's history. `packs.pack_runs` records which
version each business date produced. The store is `FIELDRECON_PACKS` (default
`<FIELDRECON_HOME>/packs`). Per-region copies of the run's findings.csv, acceptance_todo.csv and
exceptions.xlsx go to `<store>/runs/<business date>/<region>/` for the clerks' download page.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import time
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from openpyxl import load_workbook

from fieldrecon import labels, settings
from fieldrecon.contract import REQUIRED_ATTACHMENTS, SOURCES
from fieldrecon.outputs import documents as run_documents
from fieldrecon.outputs import exports, render
from fieldrecon.outputs.files import bom_csv, safe_name, write_atomic, zip_archive
from fieldrecon.outputs.sentences import HQ_REGION
from fieldrecon.outputs.xlsx import table_workbook
from fieldrecon.recon import rules
from fieldrecon.settings import SQL_DIR
from fieldrecon.warehouse import asof_state

log = logging.getLogger(__name__)

SOURCE_ZH = {
    "isc_po_lines": "ISC PO行", "isc_acceptances": "ISC验收单", "netcare_workorders": "NetCare工单",
    "netcare_punches": "NetCare打卡", "netcare_resident_attendance": "NetCare驻场考勤",
    "netcare_attachments": "NetCare附件", "timesheet_entries": "工时填报", "timesheet_engineers": "工程师主数据",
    "cycle_schedule": "验收周期", "punched_person_days": "打卡人天", "findings": "问题",
    "resident_reports": "驻场月报",
}
SERVICE_LABEL = {
    "维保": "维保服务（按周期验收）", "驻场": "驻场服务", "巡检": "巡检服务", "整改": "整改服务",
    "单次": "单次/人天现场服务", "交付": "交付服务", "POC": "POC售前测试", "用云支持": "用云支持服务",
}
GATHER_KEYS = (("isc_po_lines", "po_no"), ("isc_acceptances", "po_no"), ("netcare_workorders", "ticket_no"),
               ("netcare_attachments", "ticket_no"), ("netcare_resident_attendance", "ticket_no"),
               ("punched_person_days", "ticket_no"))


def sources_read() -> tuple[str, ...]:
    """The sources a pack reads as of the run: those it gathers per item and those of the check-in
    models it reuses (punched person-days); the timesheet and the change requests it never reads."""
    wanted = {table for table, _ in GATHER_KEYS} | set(rules.sources_named("recon/checkin/models"))
    return tuple(name for name in SOURCES if name in wanted)


RUN_FILES = ("exceptions.xlsx", "findings.csv", "acceptance_todo.csv", "reminders.csv", "问题清单.csv", "验收待办.csv")
REGION_HEADERS = ("区域", "region")
ALL_REGIONS_SHEETS = ("规则说明",)  # sheets with no regional data, kept in every region's copy


# ---------------------------------------------------------------- names and places


def company_name() -> str:
    """The service provider printed on the 验收单 (a `company_name` setting if there is one; else a line
    to fill in by hand)."""
    return getattr(settings.get(), "company_name", None) or ""


def packs_dir() -> Path:
    """The pack store: `FIELDRECON_PACKS`, default `<FIELDRECON_HOME>/packs`."""
    return settings.packs_dir()


def pack_key(item: dict) -> str:
    base = f"{item['po_no']}-{item['po_line_no']}"
    if item["item_kind"] == "cycle":
        return f"{base}_{item['cycle_start']:%Y%m%d}-{item['cycle_end']:%Y%m%d}"
    return base


def zip_name(item: dict) -> str:
    return safe_name(f"验收包_{pack_key(item)}") + ".zip"


def region_dir(region: str | None) -> str:
    """Findings without a region are head office's (总部, outputs/sentences.py)."""
    return safe_name(region or HQ_REGION)


def _region_col(header: list) -> int | None:
    return next((i for i, h in enumerate(header) if h in REGION_HEADERS), None)


def _region_of(value) -> str | None:
    """A row's region in a run file: empty and 总部 both mean head office (None)."""
    return None if value in (None, "", HQ_REGION) else value


# ---------------------------------------------------------------- canonical data


def _plain(value):
    """JSON-ready, stable representation (dates ISO, decimals as text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def canonical(obj) -> bytes:
    return json.dumps(_plain(obj), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def row_hash(row: dict, drop=("file_id", "row_no", "extract_date")) -> str:
    return sha256(canonical({k: v for k, v in row.items() if k not in drop}))


# ---------------------------------------------------------------- gathering


def _rows(conn, query: str, params: dict) -> list[dict]:
    return [dict(r._mapping) for r in conn.execute(sa.text(query), params)]


def _data_rows(conn, query: str, params: dict) -> list[dict]:
    """Rows of a source without where they came from (file, row number, extract date): a pack shows
    values, so the same values delivered again in a later file do not change it."""
    drop = ("file_id", "row_no", "extract_date")
    return [{k: v for k, v in r.items() if k not in drop} for r in _rows(conn, query, params)]


def _sql(name: str) -> str:
    return (SQL_DIR / "mart" / "packs" / name).read_text(encoding="utf-8")


def _attendance_view(attendance: list[dict]) -> tuple[list[dict], list[dict]]:
    """Per engineer: scheduled, present, leave and absent days; and the exception days (missing,
    late or early punches, leave not approved) for the annex."""
    summary: dict[tuple, dict] = {}
    exceptions = []
    for a in attendance:
        k = (a["ticket_no"], a["engineer_id"])
        s = summary.setdefault(k, {"ticket_no": a["ticket_no"], "engineer_id": a["engineer_id"],
                                   "engineer_name": a.get("engineer_name"), "scheduled_days": 0, "present_days": 0,
                                   "leave_days": 0, "absent_days": 0, "exception_days": 0,
                                   "first_day": a["work_date"], "last_day": a["work_date"]})
        s["scheduled_days"] += 1
        clock_in, clock_out = a.get("clock_in_at"), a.get("clock_out_at")
        on_leave = bool(a.get("leave_type")) and a.get("leave_type") != "加班"
        if clock_in or clock_out:
            s["present_days"] += 1
        elif on_leave:
            s["leave_days"] += 1
        else:
            s["absent_days"] += 1
        s["first_day"] = min(s["first_day"], a["work_date"])
        s["last_day"] = max(s["last_day"], a["work_date"])
        problems = []
        if (clock_in or clock_out) and not (clock_in and clock_out):
            problems.append("缺卡")
        if not (clock_in or clock_out) and not on_leave:
            problems.append("缺勤（无打卡、无请假）")
        start = dt.datetime.combine(a["work_date"], a["shift_start"]) if a.get("shift_start") else None
        end = dt.datetime.combine(a["work_date"], a["shift_end"]) if a.get("shift_end") else None
        if start and end and end <= start:
            end += dt.timedelta(days=1)  # night shift
        if clock_in and start and clock_in > start:
            problems.append(f"迟到 {int((clock_in - start).total_seconds() // 60)} 分钟")
        if clock_out and end and clock_out < end:
            problems.append(f"早退 {int((end - clock_out).total_seconds() // 60)} 分钟")
        if on_leave and a.get("leave_approval") != "已通过":
            problems.append(f"请假（{a['leave_type']}）审批{a.get('leave_approval') or '未提交'}")
        if problems:
            s["exception_days"] += 1
            exceptions.append({"ticket_no": a["ticket_no"], "engineer_id": a["engineer_id"],
                               "engineer_name": a.get("engineer_name"), "work_date": a["work_date"],
                               "problem": "；".join(problems), "exception_flow": a.get("exception_flow") or "无"})
    return sorted(summary.values(), key=lambda s: (s["ticket_no"], s["engineer_id"])), exceptions


def _has_table(conn, name: str) -> bool:
    return bool(conn.execute(sa.text("select to_regclass(:n) is not null"), {"n": name}).scalar())


def _formula(cycle: dict) -> str | None:
    """The pro-rata formula of a cycle: line amount × cycle days ÷ service days."""
    if not cycle or not cycle.get("days_in_period") or cycle.get("days_in_cycle") is None:
        return None
    exact = Decimal(cycle["line_amount"]) * cycle["days_in_cycle"] / cycle["days_in_period"]
    text = (f"{render.money(cycle['line_amount'])} × {cycle['days_in_cycle']} ÷ {cycle['days_in_period']} "
            f"= {render.money(exact.quantize(Decimal('0.01')))}")
    if Decimal(cycle["cycle_amount"]) != exact.quantize(Decimal("0.01")):
        text += f"；末期取余数（各期合计等于PO行金额）：{render.money(cycle['cycle_amount'])}"
    return text


def _item_tickets(item: dict) -> list[str]:
    if item["service_type"] == "维保":
        return list(item.get("site_issue_tickets") or [])
    return list(item.get("tickets") or [])


class _ByKey:
    """Rows of one set-based query grouped by a key, in the query's order: `take(keys)` gives the rows
    of several keys in that order too (so a pack sees them as if it had queried its keys alone)."""

    def __init__(self, rows: list[dict], key):
        self.groups: dict = {}
        self.rank: dict = {}
        for r in rows:
            k = key(r)
            if k not in self.groups:
                self.groups[k] = []
                self.rank[k] = len(self.rank)
            self.groups[k].append(r)

    def take(self, keys) -> list[dict]:
        present = sorted({k for k in keys if k in self.groups}, key=self.rank.__getitem__)
        return [r for k in present for r in self.groups[k]]


class Prefetch:
    """Everything the night's packs show, in one query per source for all items (was one per item and
    source: hundreds of round trips a night); `gather` takes an item's rows from here."""

    def __init__(self, conn, items: list[dict], business_date: dt.date):
        pos = sorted({i["po_no"] for i in items})
        tickets = sorted({t for i in items for t in _item_tickets(i)})
        resident = sorted({t for i in items if i["service_type"] == "驻场" and i["item_kind"] == "cycle"
                           for t in _item_tickets(i)})
        self.lines = _ByKey(_rows(conn, "select * from isc_po_lines where po_no = any(:p)", {"p": pos}),
                            lambda r: (r["po_no"], r["po_line_no"]))
        self.cycles = _ByKey(_rows(conn, "select * from mart.cycle_schedule where business_date = :d "
                                         "and po_no = any(:p)", {"d": business_date, "p": pos}),
                             lambda r: (r["po_no"], r["po_line_no"], r["cycle_start"]))
        self.tickets = _ByKey(_rows(conn, "select * from netcare_workorders where ticket_no = any(:t) "
                                          "order by ticket_no", {"t": tickets}), lambda r: r["ticket_no"])
        self.attachments = _ByKey(_rows(conn, "select * from netcare_attachments where ticket_no = any(:t) "
                                              "order by ticket_no, kind, file_name", {"t": tickets}),
                                  lambda r: r["ticket_no"])
        self.ppd = _ByKey(_rows(conn, "select ticket_no, engineer_id, day, visits from punched_person_days "
                                      "where ticket_no = any(:t) order by ticket_no, engineer_id, day", {"t": tickets})
                          if asof_state.temp_kind(conn, "punched_person_days") else [], lambda r: r["ticket_no"])
        self.attendance = _ByKey(_data_rows(conn, "select * from netcare_resident_attendance where ticket_no = any(:t) "
                                                  "order by ticket_no, engineer_id, work_date", {"t": resident}),
                                 lambda r: r["ticket_no"])
        self.acceptances = _ByKey(_rows(conn, "select * from isc_acceptances where po_no = any(:p) "
                                              "order by acceptance_no", {"p": pos}),
                                  lambda r: (r["po_no"], r["po_line_no"]))
        monthly = []
        if resident and _has_table(conn, "mart.resident_reports"):
            monthly = _rows(conn, "select ticket_no, engineer_id, period_key, period_start, period_end, version_label, "
                                  "content_hash, pdf_path from mart.resident_reports where business_date = :d "
                                  "and report_kind = 'monthly' and ticket_no = any(:t) and pdf_path is not null "
                                  "order by ticket_no, engineer_id, period_key", {"d": business_date, "t": resident})
        self.monthly = _ByKey(monthly, lambda r: r["ticket_no"])
        cells = _rows(conn, _sql("20_excluded_cells.sql"), {"business_date": business_date})
        for pos, c in enumerate(cells):  # the query's order (the warehouse's collation) decides, as it did per pack
            c["position"] = pos
        self.excluded_by_po = _ByKey([c for c in cells if c["match_po"] is not None], lambda r: r["match_po"])
        self.excluded_by_ticket = _ByKey([c for c in cells if c["match_ticket"] is not None],
                                         lambda r: r["match_ticket"])

    def excluded(self, po_no: str, ticket_nos: list[str]) -> list[dict]:
        """The quarantined rows that concern one pack (its PO号 or one of its tickets): one row per
        (source, key, column, value, reason) still present in its source's newest visible extract (a
        problem fixed in a later delivery drops out), with the first file that had it (so the same
        problem delivered again the next night does not change the pack)."""
        cells = {c["position"]: c for c in self.excluded_by_po.take([po_no]) + self.excluded_by_ticket.take(ticket_nos)}
        ordered = [cells[p] for p in sorted(cells)]

        def problem(c):
            return (c["source"], c["row_key"], c["header"], c["value"], c["reason"])

        current = {problem(c) for c in ordered if c["extract_date"] == c["newest_date"]}
        first: dict = {}
        for c in ordered:  # ordered by problem, then extract date, file name, row: the first is the earliest
            if problem(c) in current:
                first.setdefault(problem(c), c)
        return [{"source": c["source"], "row_key": c["row_key"], "header": c["header"], "value": c["value"],
                 "reason": c["reason"], "first_file": c["file_name"], "first_row_no": c["row_no"]}
                for c in first.values()]


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def gather(conn, item: dict, business_date: dt.date, findings: list[dict], catalogue: dict,
           pre: Prefetch | None = None) -> dict:
    """Everything one pack shows, from the temp tables of the run's as_of (rules.materialise_staging),
    taken from the night's `Prefetch` (made for this item alone when none is given)."""
    pre = pre or Prefetch(conn, [item], business_date)
    line = (pre.lines.take([(item["po_no"], item["po_line_no"])]) or [{}])[0]
    cycle = {}
    if item["item_kind"] == "cycle":
        cycle = (pre.cycles.take([(item["po_no"], item["po_line_no"], item["cycle_start"])]) or [{}])[0]
    ticket_nos = _item_tickets(item)
    tickets = pre.tickets.take(ticket_nos)
    known = {t["ticket_no"] for t in tickets}
    tickets += [{"ticket_no": t, "status": None} for t in ticket_nos if t not in known]
    attachments = pre.attachments.take(ticket_nos)
    ppd = pre.ppd.take(ticket_nos)
    attendance = []
    if item["service_type"] == "驻场" and item["item_kind"] == "cycle":
        attendance = [a for a in pre.attendance.take(ticket_nos)
                      if item["cycle_start"] <= a["work_date"] <= item["cycle_end"]]
    acceptances = pre.acceptances.take([(item["po_no"], item["po_line_no"])])
    excluded = pre.excluded(item["po_no"], ticket_nos)
    monthly_reports = []
    if item["service_type"] == "驻场" and item["item_kind"] == "cycle":
        monthly_reports = [{**r, "file_name": Path(r["pdf_path"]).name} for r in pre.monthly.take(ticket_nos)
                           if _month_start(item["cycle_start"]) <= r["period_key"] <= item["cycle_end"]]

    files_by_ticket: dict[str, list] = {}
    for a in attachments:
        files_by_ticket.setdefault(a["ticket_no"], []).append({"kind": a["kind"], "file_name": a["file_name"]})
    punched: dict[str, int] = {}
    for p in ppd:
        punched[p["ticket_no"]] = punched.get(p["ticket_no"], 0) + 1
    ticket_view = []
    for t in sorted(tickets, key=lambda r: r["ticket_no"]):
        files = files_by_ticket.get(t["ticket_no"], [])
        have = sorted({f["kind"] for f in files})
        need = REQUIRED_ATTACHMENTS.get(t.get("ticket_type") or "", ())
        ticket_view.append({
            "ticket_no": t["ticket_no"], "ticket_type": t.get("ticket_type"), "status": t.get("status"),
            "engineer_id": t.get("engineer_id"), "engineer_name": t.get("engineer_name"),
            "site_address": t.get("site_address"), "product_line": t.get("product_line"),
            "created_at": t.get("created_at"), "closed_at": t.get("closed_at"),
            "dispatched_person_days": t.get("dispatched_person_days"),
            "punched_person_days": punched.get(t["ticket_no"], 0),
            "attachments": have, "required": list(need), "missing_kinds": [k for k in need if k not in have],
            "files": files,
        })

    att_summary, att_exceptions = _attendance_view(attendance)

    finding_view = []
    for f in findings:
        rule = catalogue.get(f["rule_code"])
        subject = " ".join(str(x) for x in (f.get("ticket_no"), f.get("acceptance_no"), f.get("engineer_id"),
                                            f.get("day")) if x) or f"{item['po_no']}-{item['po_line_no']}"
        finding_view.append({
            "finding_id": f["finding_id"], "rule_code": f["rule_code"], "severity": f["severity"],
            "subject": subject, "title": rule.title if rule else f["rule_code"], "details": f.get("details"),
            "fix": rule.explain if rule else "",
            "triage_reason": f.get("triage_reason"), "triage_filing_ref": f.get("triage_filing_ref"),
            "triage_by": f.get("triage_by"),
            "triage_at": f["triage_at"].astimezone(dt.UTC).replace(tzinfo=None) if f.get("triage_at") else None,
        })
    blocking = [f for f in finding_view if not f["triage_reason"]]
    reasons = sorted({f"{f['rule_code']} {f['subject']}" for f in blocking})
    status = "blocked" if blocking else "ready"

    rows = [{"source": "isc_po_lines", "key": f"{item['po_no']}-{item['po_line_no']}", "sha256": row_hash(line)}]
    if cycle:
        rows.append({"source": "cycle_schedule", "key": pack_key(item),
                     "sha256": row_hash(cycle, drop=("business_date", "submit_deadline"))})
    rows += [{"source": "isc_acceptances", "key": a["acceptance_no"], "sha256": row_hash(a)} for a in acceptances]
    rows += [{"source": "netcare_workorders", "key": t["ticket_no"], "sha256": row_hash(t)} for t in tickets
             if t["ticket_no"] in known]
    rows += [{"source": "netcare_attachments", "key": f"{a['ticket_no']} {a['kind']} {a['file_name']}",
              "sha256": row_hash(a)} for a in attachments]
    rows += [{"source": "punched_person_days", "key": f"{p['ticket_no']} {p['engineer_id']} {p['day']}",
              "sha256": row_hash(p)} for p in ppd]
    rows += [{"source": "netcare_resident_attendance", "key": f"{a['ticket_no']} {a['engineer_id']} {a['work_date']}",
              "sha256": row_hash(a)} for a in attendance]
    rows += [{"source": "findings", "key": f["finding_id"], "sha256": row_hash(f)} for f in finding_view]
    rows += [{"source": "resident_reports", "key": r["file_name"], "sha256": r["content_hash"]} for r in monthly_reports]
    rows.sort(key=lambda r: (r["source"], r["key"]))

    item_view = {k: item[k] for k in ("item_kind", "po_no", "po_line_no", "service_type", "region", "customer_name",
                                      "contract_no", "cycle_start", "cycle_end", "amount", "remark", "cycle_state")}
    line_view = {k: line.get(k) for k in ("contract_no", "customer_name", "item_desc", "service_start", "service_end",
                                          "line_amount", "quantity", "unit", "unit_price", "tax_rate")}
    cycle_view = {k: cycle.get(k) for k in ("cycle_no", "days_in_cycle", "days_in_period", "line_amount",
                                            "cycle_amount")} if cycle else {}
    acceptance_view = [{k: a.get(k) for k in ("acceptance_no", "period_start", "period_end", "quantity", "amount",
                                               "submitted_on", "approval", "decided_on", "reject_reason", "remark")}
                       for a in acceptances]
    dispatched = sum((Decimal(str(t["dispatched_person_days"])) for t in ticket_view
                      if t["dispatched_person_days"] is not None), Decimal(0))
    return {
        "item": item_view, "line": line_view, "cycle": cycle_view, "formula": _formula(cycle), "tickets": ticket_view,
        "person_days": {"dispatched": dispatched, "punched": sum(t["punched_person_days"] for t in ticket_view)},
        "attendance": attendance, "attendance_summary": att_summary, "attendance_exceptions": att_exceptions,
        "acceptances": acceptance_view, "monthly_reports": [{k: r[k] for k in ("file_name", "content_hash", "pdf_path",
                                                                             "engineer_id", "period_start", "period_end")}
                                                            for r in monthly_reports],
        "test_reports": [f for t in ticket_view for f in t["files"] if f["kind"] == "售前测试报告"],
        "findings": finding_view, "excluded": excluded, "status": status, "reasons": reasons, "rows": rows,
    }



# ---------------------------------------------------------------- rendering


def annex_workbook(data: dict) -> bytes:
    """The pack's annex (工单明细; 驻场考勤 and 考勤异常 for a resident pack; 相关问题; 排除的数据行), written
    by `xlsx.table_workbook` (dates and times as Excel dates)."""
    sheets = [("工单明细", ["工单号", "工单类型", "状态", "工程师工号", "工程师", "创建时间", "关单时间", "派单人天", "打卡人天",
                        "已有附件", "缺少附件"],
               [[t["ticket_no"], t["ticket_type"], t["status"] or "未知", t["engineer_id"], t["engineer_name"],
                 t["created_at"], t["closed_at"],
                 float(t["dispatched_person_days"]) if t["dispatched_person_days"] is not None else None,
                 t["punched_person_days"], "、".join(t["attachments"]), "、".join(t["missing_kinds"])]
                for t in data["tickets"]])]
    if data["item"]["service_type"] == "驻场":
        sheets.append(("驻场考勤", ["工单号", "工程师工号", "工程师", "日期", "班次开始", "班次结束", "签到", "签退", "请假类型",
                                "请假审批", "异常流程"],
                       [[a["ticket_no"], a["engineer_id"], a.get("engineer_name"), a["work_date"], a.get("shift_start"),
                         a.get("shift_end"), a.get("clock_in_at"), a.get("clock_out_at"), a.get("leave_type"),
                         a.get("leave_approval"), a.get("exception_flow")] for a in data["attendance"]]))
        sheets.append(("考勤异常", ["工单号", "工程师工号", "工程师", "日期", "异常", "异常电子流"],
                       [[a["ticket_no"], a["engineer_id"], a["engineer_name"], a["work_date"], a["problem"],
                         a["exception_flow"]] for a in data["attendance_exceptions"]]))
    # no "first seen" column: it depends on which earlier dates have run, and a pack's content must not
    sheets.append(("相关问题", ["规则", "级别", "对象", "问题", "证据", "处理", "说明", "备案号", "标记人", "标记时间(UTC)"],
                   [[f["rule_code"], labels.SEVERITY.get(f["severity"], f["severity"]),
                     f["subject"], f["title"], canonical(f["details"]).decode() if f["details"] else "",
                     "已说明（不阻塞）" if f["triage_reason"] else "未处理（阻塞）", f["triage_reason"],
                     f["triage_filing_ref"], f["triage_by"], f["triage_at"]] for f in data["findings"]]))
    sheets.append(("排除的数据行", ["数据来源", "行标识", "列", "原值", "隔离原因", "首次出现的文件", "行号"],
                   [[SOURCE_ZH.get(r["source"], r["source"]), r["row_key"], r["header"], r["value"], r["reason"],
                     r["first_file"], r["first_row_no"]] for r in data["excluded"]]))
    return table_workbook(sheets)


def doc_number(key: str) -> str:
    """The printed document number of a pack's 验收单 (the footer; the version is printed beside it)."""
    return f"YS-{key}"


PACK_FORMAT = "2"  # 2: no preparation date or running number in the pack; content-addressed label and path


def version_label(content_sha: str) -> str:
    """A pack version as documents and paths name it: from its content alone."""
    return content_sha[:8]


def pack_files(data: dict, key: str, version: str, extra: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """The files of one pack, by name (without the manifest): the customer's 验收单 (PDF, and the
    same content as HTML for the browser), the internal 核对单, the annex workbook, and `extra`
    (the month's 驻场月报 PDFs of a resident pack)."""
    ctx = dict(data, version=version, doc_no=doc_number(key), company=data.get("company", ""),
               source_zh=SOURCE_ZH, service_label=SERVICE_LABEL.get(data["item"]["service_type"],
                                                                                data["item"]["service_type"]))
    stem = safe_name(key)
    files = {
        f"验收单_{stem}.html": render.render_html("acceptance_doc.html.j2", ctx).encode("utf-8"),
        f"验收单_{stem}.pdf": render.render_pdf("acceptance_customer.typ.j2", ctx),
        f"核对单_{stem}.pdf": render.render_pdf("acceptance_internal.typ.j2", ctx),
        f"附件明细_{stem}.xlsx": annex_workbook(data),
    }
    files.update(extra or {})
    return files


def manifest(data: dict, key: str, version: str, files: dict[str, bytes]) -> bytes:
    body = {
        "pack": key,
        "version": version,
        "status": data["status"],
        "reasons": data["reasons"],
        "po_no": data["item"]["po_no"],
        "po_line_no": data["item"]["po_line_no"],
        "region": data["item"]["region"],
        "service_type": data["item"]["service_type"],
        "customer_name": data["item"]["customer_name"],
        "period": ([_plain(data["item"]["cycle_start"]), _plain(data["item"]["cycle_end"])]
                   if data["item"]["cycle_start"] else None),
        "amount": _plain(data["item"]["amount"]),
        "rows": data["rows"],
        "files": {name: sha256(body) for name, body in sorted(files.items())},
    }
    return (json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def build_zip(data: dict, key: str, version: str, extra: dict[str, bytes] | None = None) -> bytes:
    files = pack_files(data, key, version, extra)
    files["manifest.json"] = manifest(data, key, version, files)
    return zip_archive(files)


# ---------------------------------------------------------------- versions


def _summary(data: dict) -> dict:
    return _plain({
        "amount": data["item"]["amount"], "status": data["status"], "reasons": data["reasons"],
        "tickets": [t["ticket_no"] for t in data["tickets"]],
        "rows": {f"{r['source']}|{r['key']}": r["sha256"] for r in data["rows"]},
        "explained": sorted(f["finding_id"] for f in data["findings"] if f["triage_reason"]),
    })


def describe_changes(old: dict | None, new: dict) -> list[str]:
    """What changed between two versions' summaries, in Chinese (e.g. "工单 WO1 新增")."""
    if not old:
        return ["首个版本"]
    out = []
    if old.get("amount") != new.get("amount"):
        out.append(f"金额 {render.money(old.get('amount'))} → {render.money(new.get('amount'))}")
    if old.get("status") != new.get("status"):
        zh = labels.PACK_STATUS
        out.append(f"状态 {zh.get(old.get('status'), old.get('status'))} → {zh.get(new.get('status'), new.get('status'))}")
    ot, nt = set(old.get("tickets", [])), set(new.get("tickets", []))
    out += [f"工单 {t} 新增" for t in sorted(nt - ot)] + [f"工单 {t} 移除" for t in sorted(ot - nt)]
    oe, ne = set(old.get("explained", [])), set(new.get("explained", []))
    out += [f"问题 {f} 已说明" for f in sorted(ne - oe)] + [f"问题 {f} 取消说明" for f in sorted(oe - ne)]
    orows, nrows = old.get("rows", {}), new.get("rows", {})
    for k in sorted(set(orows) | set(nrows)):
        source, _, key = k.partition("|")
        label = f"{SOURCE_ZH.get(source, source)} {key}"
        if k not in orows:
            out.append(f"{label} 新增")
        elif k not in nrows:
            out.append(f"{label} 移除")
        elif orows[k] != nrows[k]:
            out.append(f"{label} 数据变化")
    return out or ["内容变化"]


def _plan_version(conn, store: Path, item: dict, key: str, data: dict, business_date: dt.date,
                  source_files: list[dict]) -> dict:
    """What to do for one pack: reuse the version of the same content (re-render only when its zip
    is missing or altered on disk), or a new version to render and record."""
    content_sha = sha256(canonical({k: v for k, v in data.items()}))
    existing = conn.execute(sa.text("select * from packs.versions where pack_key = :k and content_sha256 = :c"),
                            {"k": key, "c": content_sha}).mappings().first()
    if existing:
        path = store / existing["zip_path"]
        render_job = None
        if not path.exists() or sha256(path.read_bytes()) != existing["zip_sha256"]:
            render_job = (data, key, version_label(content_sha))
        return {"row": dict(existing), "new": False, "job": render_job, "path": path}
    previous = conn.execute(sa.text("select * from packs.versions where pack_key = :k order by version_no desc limit 1"),
                            {"k": key}).mappings().first()
    version = (previous["version_no"] if previous else 0) + 1
    rel = Path(region_dir(item["region"])) / safe_name(key) / version_label(content_sha) / zip_name(item)
    summary = _summary(data)
    row = {
        "pack_key": key, "version_no": version, "content_sha256": content_sha, "zip_sha256": None,
        "zip_path": rel.as_posix(), "file_name": zip_name(item), "item_kind": item["item_kind"],
        "region": item["region"], "po_no": item["po_no"], "po_line_no": item["po_line_no"],
        "service_type": item["service_type"], "customer_name": item["customer_name"],
        "cycle_start": item["cycle_start"], "cycle_end": item["cycle_end"], "amount": item["amount"],
        "status": data["status"], "reasons": data["reasons"], "first_business_date": business_date,
        "source_files": json.dumps(source_files, ensure_ascii=False),
        "changes": json.dumps(describe_changes(previous["summary"] if previous else None, summary), ensure_ascii=False),
        "content_rows": json.dumps(data["rows"], ensure_ascii=False),
        "summary": json.dumps(summary, ensure_ascii=False),
    }
    return {"row": row, "new": True, "job": (data, key, version_label(content_sha)), "path": store / rel}


def _extra_files(data: dict, reports_root: str | Path | None = None) -> dict[str, bytes]:
    """The 驻场月报 PDFs a resident pack carries, read from the report store."""
    if not data.get("monthly_reports"):
        return {}
    from fieldrecon.outputs import reports

    root = Path(reports_root) if reports_root else reports.reports_dir()
    out = {}
    for r in data["monthly_reports"]:
        path = root / r["pdf_path"]
        if path.is_file():
            out[r["file_name"]] = path.read_bytes()
        else:
            log.warning("monthly report %s missing on disk: pack without it", path)
    return out


def _render_job(job: tuple) -> bytes:
    """One pack's zip, in a worker: (data, key, version[, report store])."""
    data, key, version, *rest = job
    return build_zip(data, key, version, _extra_files(data, rest[0] if rest else None))


INSERT_VERSION = sa.text(
    "insert into packs.versions (pack_key, version_no, content_sha256, zip_sha256, zip_path, file_name, item_kind, "
    "region, po_no, po_line_no, service_type, customer_name, cycle_start, cycle_end, amount, status, reasons, "
    "first_business_date, source_files, changes, content_rows, summary) values (:pack_key, :version_no, "
    ":content_sha256, :zip_sha256, :zip_path, :file_name, :item_kind, :region, :po_no, :po_line_no, :service_type, "
    ":customer_name, :cycle_start, :cycle_end, :amount, :status, :reasons, :first_business_date, "
    "cast(:source_files as jsonb), cast(:changes as jsonb), cast(:content_rows as jsonb), cast(:summary as jsonb))")


def source_files_of(conn, business_date: dt.date) -> list[dict]:
    """The extract files a run of this date sees: name and sha256 (for the version index)."""
    return [{"name": r["file_name"], "sha256": r["sha256"]} for r in conn.execute(sa.text(
        "select file_name, sha256 from ops.files where status = 'loaded' and extract_date <= :d "
        "order by source, extract_date, delivery_no, file_name"), {"d": business_date}).mappings()]


# ---------------------------------------------------------------- per-region run files


def regional_run_files(engine: sa.Engine, ctx, store: Path) -> dict:
    """Copies of the run's clerk files per region under `<store>/runs/<date>/<region>/`: rows of other
    regions removed, sheets without a 区域 column left out (except the rule explanations)."""
    out_dir = Path(ctx.output_dir)
    base = store / "runs" / ctx.business_date
    regions: set[str | None] = set()
    tables: dict[str, tuple[list[str], list[list[str]]]] = {}
    for name in RUN_FILES[1:]:
        path = out_dir / name
        if not path.exists():
            continue
        rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
        if rows:
            tables[name] = (rows[0], rows[1:])
            i = _region_col(rows[0])
            if i is not None:
                regions |= {_region_of(r[i]) for r in rows[1:]}
    xlsx_path = out_dir / "exceptions.xlsx"
    with engine.connect() as conn:
        regions |= set(conn.execute(sa.text("select distinct region from packs.versions")).scalars())
    sheets = _workbook_tables(xlsx_path.read_bytes()) if xlsx_path.exists() else None
    written = 0
    for region in sorted(regions, key=lambda r: r or ""):
        target = base / region_dir(region)
        for name, (header, body) in tables.items():
            i = _region_col(header)
            rows = [r for r in body if i is not None and _region_of(r[i]) == region]
            write_atomic(target / name, bom_csv(header, rows))
            written += 1
        if sheets is not None:
            write_atomic(target / "exceptions.xlsx", _regional_tables(sheets, region))
            written += 1
    return {"regions": len(regions), "files": written}


def _calamine_value(value):
    """A cell as the run workbook holds it: calamine reads every number as a float and an empty cell as ""."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _workbook_tables(data: bytes) -> list[tuple[str, list, list[list], frozenset]]:
    """A workbook's sheets as (title, header, rows, percent columns), read once: the values by calamine
    (a company's run workbook holds ~35,000 rows: openpyxl took 4.9 s, calamine 0.4 s), the percent
    formats of the first data row by openpyxl, which stops reading after it."""
    from python_calamine import CalamineWorkbook

    styles = load_workbook(io.BytesIO(data), read_only=True)
    percent_of = {ws.title: frozenset(j for row in ws.iter_rows(min_row=2, max_row=2) for j, c in enumerate(row)
                                      if getattr(c, "number_format", None) == "0.00%") for ws in styles.worksheets}
    styles.close()
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheets = []
    for title in book.sheet_names:
        rows = [[_calamine_value(v) for v in r] for r in book.get_sheet_by_name(title).to_python(skip_empty_area=False)]
        width = max((len(r) for r in rows), default=0)
        rows = [r + [None] * (width - len(r)) for r in rows]
        sheets.append((title, rows[0] if rows else [], rows[1:], percent_of.get(title, frozenset())))
    return sheets


def _regional_tables(sheets: list[tuple[str, list, list[list], frozenset]], region: str | None) -> bytes:
    """One region's copy: its rows of every sheet with a 区域 column, and the sheets of no region."""
    out = []
    for title, header, rows, percent in sheets:
        col = next((i for i, h in enumerate(header) if h in REGION_HEADERS), None)
        if col is None:
            if title in ALL_REGIONS_SHEETS:
                out.append((title, header, rows, percent))
            continue
        out.append((title, header, [r for r in rows if _region_of(r[col]) == region], percent))
    return table_workbook(out or [("无数据", [], [])])


def regional_workbook(data: bytes, region: str | None) -> bytes:
    """One region's copy of a run workbook (see `regional_run_files`)."""
    return _regional_tables(_workbook_tables(data), region)


# ---------------------------------------------------------------- entry point


def build_all(engine: sa.Engine, ctx) -> dict:
    """Render every acceptance to-do item's pack of ctx's business date into the pack store: only
    packs whose content hash is new are rendered, in parallel worker processes."""
    t0 = time.monotonic()
    store = packs_dir()
    business_date = ctx.date
    params = rules.bind_params(business_date, ctx.params)
    catalogue = rules.catalogue(ctx.params)
    counts = {"packs": 0, "ready": 0, "blocked": 0, "new_versions": 0, "rendered": 0}
    documents = []
    with engine.begin() as conn:
        # one builder at a time: version numbers are allocated per pack key
        conn.execute(sa.text("select pg_advisory_xact_lock(hashtext('fieldrecon.packs'))"))
        exports.acceptance_todo_table(conn, business_date)
        items = _rows(conn, "select * from acceptance_todo", {})
        all_findings = _rows(conn, _sql("10_item_findings.sql"), {"business_date": business_date})
        by_item: dict[tuple, list[dict]] = {}
        for f in all_findings:
            by_item.setdefault((f["item_po_no"], f["item_po_line_no"], f["item_cycle_start"]), []).append(f)
        rules.materialise_staging(conn, params["as_of"], sources_read(), shared=True)
        try:
            with conn.begin_nested():
                rules.materialise_models(conn, "checkin", params)
        except Exception:  # noqa: BLE001 - person-days are informative; a pack without them is still useful
            log.exception("punched person-days unavailable; packs show 0")
        for table, column in GATHER_KEYS:  # gather looks rows up per item: index the run's tables
            asof_state.index(conn, table, params["as_of"], column)
        source_files = source_files_of(conn, business_date)
        company = company_name()
        plans = []
        pre = Prefetch(conn, items, business_date)
        for item in items:
            key = pack_key(item)
            data = gather(conn, item, business_date,
                          by_item.get((item["po_no"], item["po_line_no"], item["cycle_start"]), []), catalogue, pre)
            data["company"] = company
            data["format"] = PACK_FORMAT
            plan = _plan_version(conn, store, item, key, data, business_date, source_files)
            plan.update(item=item, key=key, status=data["status"])
            plans.append(plan)
        jobs = [p for p in plans if p["job"]]
        from fieldrecon.outputs import reports  # the 驻场月报 a resident pack carries

        reports_root = str(reports.reports_dir())
        for plan, body in zip(jobs, run_documents.map_parallel(_render_job, [(*p["job"], reports_root) for p in jobs]),
                              strict=True):
            if not plan["new"] and sha256(body) != plan["row"]["zip_sha256"]:
                # same content, another layout (a newer renderer): the version's zip is the new one from now on,
                # else the next night would find the file "altered" and render it again, and every night after
                log.warning("pack %s v%s rebuilt with different bytes", plan["key"], plan["row"]["version_no"])
                plan["row"]["zip_sha256"] = sha256(body)
                conn.execute(sa.text("update packs.versions set zip_sha256 = :s where pack_key = :k and version_no = :v"),
                             {"s": plan["row"]["zip_sha256"], "k": plan["key"], "v": plan["row"]["version_no"]})
            write_atomic(plan["path"], body)
            if plan["new"]:
                plan["row"]["zip_sha256"] = sha256(body)
                conn.execute(INSERT_VERSION, plan["row"])
            counts["rendered"] += 1
        for plan in plans:
            row = plan["row"]
            conn.execute(sa.text(
                "insert into packs.pack_runs (business_date, pack_key, version_no) values (:d, :k, :v) "
                "on conflict (business_date, pack_key) do update set version_no = excluded.version_no"),
                {"d": business_date, "k": plan["key"], "v": row["version_no"]})
            counts["packs"] += 1
            counts[plan["status"]] += 1
            counts["new_versions"] += int(plan["new"])
            item = plan["item"]
            documents.append({
                "kind": "验收包", "region": item["region"] or "",
                "subject": plan["key"] if item["item_kind"] == "cycle" else f"{plan['key']}（按单）",
                "version": version_label(row["content_sha256"]),
                "status": labels.PACK_STATUS[plan["status"]],
                "path": row["zip_path"], "sha256": row["zip_sha256"],
            })
        conn.execute(sa.text("delete from packs.pack_runs where business_date = :d and not (pack_key = any(:k))"),
                     {"d": business_date, "k": [p["key"] for p in plans]})
    counts["run_files"] = regional_run_files(engine, ctx, store)
    write_index(engine, store)
    counts["documents_csv"] = str(run_documents.write_documents_csv(ctx.output_dir, ("验收包",), documents))
    counts["seconds"] = round(time.monotonic() - t0, 2)
    return counts


def list_versions(conn, business_date: dt.date | None = None) -> list[dict]:
    """Every stored version, newest first, with the business dates whose runs produced it."""
    rows = conn.execute(sa.text(
        "select v.pack_key, v.version_no, v.file_name, v.zip_path, v.zip_sha256, v.item_kind, v.region, v.po_no, "
        "v.po_line_no, v.service_type, v.customer_name, v.cycle_start, v.cycle_end, v.amount, v.status, v.reasons, "
        "v.first_business_date, v.changes, left(v.content_sha256, 8) as version_label, "
        "coalesce((select array_agg(r.business_date order by r.business_date) from packs.pack_runs r "
        "where r.pack_key = v.pack_key and r.version_no = v.version_no), '{}') as business_dates, "
        "v.version_no = (select max(x.version_no) from packs.versions x where x.pack_key = v.pack_key) as is_latest "
        "from packs.versions v "
        "where cast(:d as date) is null or exists (select 1 from packs.pack_runs r where r.pack_key = v.pack_key "
        "and r.version_no = v.version_no and r.business_date = cast(:d as date)) "
        "order by v.first_business_date desc, v.region, v.po_no, v.po_line_no, v.cycle_start desc nulls last, "
        "v.pack_key, v.version_no desc"), {"d": business_date}).mappings()
    return [dict(r) for r in rows]


def write_index(engine: sa.Engine, store: Path) -> None:
    """`<store>/index.json`: the version index as a file, for readers without the warehouse."""
    with engine.connect() as conn:
        rows = list_versions(conn)
    body = json.dumps(_plain(rows), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    write_atomic(store / "index.json", body.encode("utf-8"))
