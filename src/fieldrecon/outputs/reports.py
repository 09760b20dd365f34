"""Resident (驻场) weekly and monthly reports (issue 7; rulebook RA-08).

`build_all(engine, ctx)` runs after the rule families of a business date (it reads the attendance
family's slot models and the PO family's `mart.cycle_schedule` snapshot of that date):

1. **Expected reports** (`include/sql/mart/reports/10_report_periods.sql`): for each ticket and engineer
   with resident attendance, every calendar week (Mon–Sun) and month with attendance, clipped to the
   engineer's first and last attendance day on the ticket; due on the next working day on or after the
   following Monday / the 1st of the following month (the warehouse calendar, `ops.next_working_day`).
2. **Content** of every report whose calendar period is over by as_of (the other SQL files of that
   folder): attendance by day with anomalies and exception-flow state, timesheet hours by work kind
   with the work notes, the tickets at the customer opened / closed in the period (state as of the
   period's end), month-to-date and 3-month anomaly totals against RA-04 / RA-05; monthly reports add
   the resident PO cycle(s) and the 3-month trend. The content is plain data (`report_data`); its
   hash, with `FORMAT_VERSION`, identifies a **version**.
3. **Versions** (`mart.resident_report_versions`): a content not seen before for that report is a new
   version. Everything a run writes names a version by its **label**, the first 8 hex digits of its
   content hash (`version_label`): the printed "版本", the store path and the CSVs, so they depend on
   the content only, never on which dates ran first (the registry's running number and
   `generated_on` stay in the warehouse for the record). Files (HTML and PDF through
   `fieldrecon.outputs.render`, Excel) are rendered only for a version whose files are not on disk;
   the bytes depend only on the content, so a rerun or a re-render gives identical bytes. Version
   assignment and rendering hold an advisory lock, so concurrent backfills of different dates build
   reports one after the other.
   Files: `<reports_dir>/<weekly|monthly>/<YYYY>/<ticket>/<engineer>/<name>_<label>.{html,pdf,xlsx}`.
4. **Status snapshot** (`mart.resident_reports`, one per business date; `report_status` explains the
   rule): not due / generated / backfilled / late / missing, from the extracts visible for the date
   and the configuration only; also written to `resident_reports.csv` in the run's output folder.

Nothing is read from the wall clock; no phone numbers are read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import sqlalchemy as sa

from fieldrecon import labels, settings
from fieldrecon.outputs import documents as run_documents
from fieldrecon.outputs.files import bom_csv, safe_name, write_atomic
from fieldrecon.outputs.xlsx import table_workbook
from fieldrecon.recon import rules
from fieldrecon.settings import SQL_DIR

log = logging.getLogger(__name__)

# Bump when the layout of the documents changes: every report then gets a new version.
FORMAT_VERSION = "5"  # 2: typeset with Typst; no PO number, amount, ISC state or deadline; 3: content-addressed label;
# 4: the printed report says what counts (note), never the exception flow's approval state or deadline; signatures
# kept with the last section; 5: a list's header and its rules repeated on every page it runs onto, tickets a column
# at a time
KINDS = ("weekly", "monthly")
KIND_ZH = {kind: "驻场" + word for kind, word in labels.REPORT_KIND.items()}  # 驻场周报, 驻场月报
TEMPLATES = {"weekly": "resident_weekly.html.j2", "monthly": "resident_monthly.html.j2"}
TYPST_TEMPLATE = "resident_report.typ.j2"
STATUS_ZH = labels.REPORT_STATUS
WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
KIND_SLOT_ZH = labels.PUNCH_PROBLEM
REQUIRED_FAMILIES = ("attendance", "po")
VERSION_LOCK = 724_050  # advisory lock: one version assigner at a time (backfills run concurrently)
OPENED_ZH, CLOSED_ZH = "新开", "关闭"  # a ticket's change in the period (本期), and what the totals count
WORK_MEM = "256MB"  # the content queries sort a year of work orders: in memory, not on disk
CONTENT_QUERIES = ("attendance", "timesheet", "tickets", "anomalies", "cycles", "trend")
# The printed list of the customer's tickets (五、问题处理清单): each column's key and width in em of the
# list's text (the last column takes the rest of the line). A list whose every value fits on one line is
# typeset a column at a time (`column-ledger`, half the cost), else a cell per value.
TICKET_COLUMNS = (("ticket_no", 9.4), ("ticket_type", 8.4), ("status", 3.2), ("engineer_name", 5.5),
                  ("created_at", 8.4), ("closed_at", 8.4), ("change", 5.2))


def reports_dir() -> Path:
    """Where report files live: env FIELDRECON_REPORTS, else <FIELDRECON_HOME>/reports."""
    return settings.reports_dir()


def _sql(stem: str) -> str:
    path = next((SQL_DIR / "mart" / "reports").glob(f"*_{stem}.sql"))
    return path.read_text(encoding="utf-8").strip().rstrip(";")


# ---------------------------------------------------------------------------------------------
# formatting (deterministic text for documents and the content hash)


def _d(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _zh_date(value: dt.date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def _num(value) -> str:
    """Hours and counts: up to 2 decimals, no trailing zeros (8, 7.5, 0.25)."""
    if value is None:
        return ""
    q = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = format(q, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _clock(value: dt.datetime | None, day: dt.date) -> str:
    if value is None:
        return "—"
    if value.date() == day:
        return value.strftime("%H:%M")
    if value.date() == day + dt.timedelta(days=1):
        return "次日 " + value.strftime("%H:%M")
    return value.strftime("%Y-%m-%d %H:%M")


def _slot_text(kind: str | None, minutes, judged: bool) -> str:
    if not judged:
        return "未判定"
    if kind is None:
        return "正常"
    text = KIND_SLOT_ZH.get(kind, kind)
    return f"{text} {minutes} 分钟" if minutes else text


def period_label(kind: str, start: dt.date, end: dt.date, key: dt.date) -> str:
    span = f"{_zh_date(start)}至{_zh_date(end)}"
    if kind == "monthly":
        return f"{key.year}年{key.month}月（{span}）"
    return span


def report_name(p: dict) -> str:
    kind_zh = KIND_ZH[p["report_kind"]]
    return f"{kind_zh}_{p['ticket_no']}_{p['engineer_id']}_{p['period_start']:%Y%m%d}-{p['period_end']:%Y%m%d}"


def version_label(content_hash: str) -> str:
    """A version as documents and paths name it: from its content alone (content-addressed), so the
    same content has the same name whichever dates' runs met it first."""
    return content_hash[:8]


def relative_paths(p: dict, label: str) -> dict[str, str]:
    folder = Path(p["report_kind"], f"{p['period_key']:%Y}", safe_name(p["ticket_no"]), safe_name(p["engineer_id"]))
    stem = safe_name(report_name(p)) + f"_{label}"
    return {ext: str(folder / f"{stem}.{ext}") for ext in ("html", "pdf", "xlsx")}


# ---------------------------------------------------------------------------------------------
# report content


def report_data(p: dict, rows: dict[str, list[dict]], params: dict) -> dict:
    """The content of one report as plain, JSON-safe data (strings and ints only): what the
    templates and the workbook show, and what the content hash covers."""
    kind = p["report_kind"]
    attendance = []
    n_anomalies = excused_days = leave_days = open_gaps = 0
    for a in rows.get("attendance", []):
        day = a["work_date"]
        anomalous = a["in_kind"] is not None or a["out_kind"] is not None
        n_anomalies += a["counted_anomalies"]
        leave = ""
        if a["leave_type"]:
            leave = a["leave_type"] + (f"（{a['leave_approval']}）" if a["leave_approval"] else "")
            if a["leave_excused"]:
                leave_days += 1
        flow = a["exception_flow"] or ""
        if flow and a["exception_decided_at"] and flow in ("已通过", "已驳回"):
            flow += f"（{a['exception_decided_at']:%Y-%m-%d}）"
        if a["leave_excused"]:
            handling = "请假已批准，豁免"
        elif a["flow_excused"]:
            handling = "异常电子流已批准，豁免"
        elif anomalous and a["counted_anomalies"]:
            open_gaps += 1
            if a["exception_flow"] == "审批中":
                handling = f"电子流审批中，须于 {_d(a['ra06_deadline'])} 前批准"
            elif a["exception_flow"] == "已驳回":
                handling = "电子流已驳回，计入异常"
            elif a["exception_flow"] == "已通过":
                handling = "电子流批准晚于截止日，计入异常"
            else:
                handling = f"未提交异常电子流（截止 {_d(a['ra06_deadline'])}）"
        else:
            handling = ""
        # what the customer reads (the PDF): whether the day counts, never the internal approval flow or its deadline
        if a["leave_excused"]:
            note = "请假，不计异常"
        elif a["flow_excused"]:
            note = "异常已说明，不计异常"
        elif anomalous and a["counted_anomalies"]:
            note = "计入异常"
        else:
            note = ""
        if a["leave_excused"] or a["flow_excused"]:
            excused_days += 1
        attendance.append({
            "date": _d(day),
            "weekday": WEEKDAY_ZH[day.weekday()],
            "shift": f"{a['shift_start']:%H:%M}-{a['shift_end']:%H:%M}" + ("（夜班）" if a["night_shift"] else ""),
            "clock_in": _clock(a["clock_in_at"], day),
            "clock_out": _clock(a["clock_out_at"], day),
            "in_status": _slot_text(a["in_kind"], a["in_minutes"], a["in_judged"]),
            "out_status": _slot_text(a["out_kind"], a["out_minutes"], a["out_judged"]),
            "leave": leave,
            "flow": flow,
            "handling": handling,
            "note": note,
            "counted": int(a["counted_anomalies"]),
        })
    by_kind: dict[str, list] = defaultdict(lambda: [Decimal(0), 0])
    timesheet = []
    total = Decimal(0)
    for t in rows.get("timesheet", []):
        hours = Decimal(str(t["hours"]))
        by_kind[t["work_kind"]][0] += hours
        by_kind[t["work_kind"]][1] += 1
        total += hours
        timesheet.append({"date": _d(t["work_date"]), "kind": t["work_kind"], "hours": _num(hours),
                          "note": t["work_note"] or ""})
    kind_order = ["现场", "远程", "差旅", "培训", "其他"]
    hours_by_kind = [{"kind": k, "hours": _num(v[0]), "entries": v[1]}
                     for k, v in sorted(by_kind.items(), key=lambda kv: (kind_order.index(kv[0]) if kv[0] in kind_order else 99, kv[0]))]
    tickets = rows.get("tickets", [])  # the customer's list for the period, shared: its own ticket left out
    if any(t["ticket_no"] == p["ticket_no"] for t in tickets):
        tickets = [t for t in tickets if t["ticket_no"] != p["ticket_no"]]
    an = (rows.get("anomalies") or [{}])[0]
    month_limit = int(an.get("month_limit", params["ra04_max_month_anomalies"]))
    three_limit = int(an.get("three_month_limit", params["ra05_max_quarter_anomalies"]))
    mtd, three = int(an.get("month_to_date", 0)), int(an.get("three_months", 0))
    anomalies = {
        "month": an.get("month", ""),
        "first_month_of_3": an.get("first_month_of_3", ""),
        "month_to_date": mtd,
        "month_limit": month_limit,
        "month_state": f"超过 {month_limit} 次：须提交改进计划" if mtd > month_limit else "未超限",
        "three_months": three,
        "three_month_limit": three_limit,
        "three_month_state": f"超过 {three_limit} 次：厂商可能要求换人" if three > three_limit else "未超限",
    }
    data = {
        "kind": kind,
        "title": KIND_ZH[kind],
        "ticket_no": p["ticket_no"],
        "engineer_id": p["engineer_id"],
        "engineer_name": p["engineer_name"] or "",
        "customer_name": p["customer_name"] or "",
        "site_address": p["site_address"] or "",
        "region": p["region"] or "",
        "period_key": _d(p["period_key"]),
        "period_start": _d(p["period_start"]),
        "period_end": _d(p["period_end"]),
        "period_label": period_label(kind, p["period_start"], p["period_end"], p["period_key"]),
        "attendance": attendance,
        "attendance_totals": {"days": len(attendance), "anomalies": n_anomalies, "excused_days": excused_days,
                              "leave_days": leave_days, "open_gaps": open_gaps},
        "hours_by_kind": hours_by_kind,
        "hours_total": _num(total),
        "timesheet": timesheet,
        "tickets": tickets,
        "tickets_opened": sum(1 for t in tickets if OPENED_ZH in t["change"]),
        "tickets_closed": sum(1 for t in tickets if CLOSED_ZH in t["change"]),
        "anomalies": anomalies,
    }
    if kind == "monthly":
        # the customer reads this report: the service cycle only, never its amount, ISC state or deadline
        data["cycles"] = [{
            "cycle_no": int(c["cycle_no"]), "cycle_start": _d(c["cycle_start"]), "cycle_end": _d(c["cycle_end"]),
            "cycle": f"{_zh_date(c['cycle_start'])}至{_zh_date(c['cycle_end'])}",
        } for c in rows.get("cycles", [])]
        data["trend"] = [{
            "month": t["month"], "attendance_days": int(t["attendance_days"]),
            "ticket_anomalies": int(t["ticket_anomalies"]), "engineer_anomalies": int(t["engineer_anomalies"]),
            "engineer_3m_anomalies": int(t["engineer_3m_anomalies"]), "hours": _num(t["hours"]),
        } for t in rows.get("trend", [])]
    return data


_HASH_JSON = {"ensure_ascii": False, "sort_keys": True, "separators": (",", ":")}
# where the ticket list goes in the hashed text (json writes NUL as \u0000: a value holding the same is
# seen by counting, and the report is then hashed the plain way)
_TICKETS_HOLE = '"\\u0000tickets\\u0000"'


def content_hash(data: dict, ticket_json: dict[int, str] | None = None) -> str:
    """sha256 of the report's content and FORMAT_VERSION. With `ticket_json` (a night's cache of the
    JSON of ticket lists, by list: the reports of a customer and period share theirs) each list is
    written once a night instead of once per report; the text hashed is the same."""
    tickets = data.get("tickets")
    blob = None
    if ticket_json is not None and tickets:
        blob = json.dumps({"format": FORMAT_VERSION, "data": {**data, "tickets": "\0tickets\0"}}, **_HASH_JSON)
        if blob.count(_TICKETS_HOLE) != 1:
            blob = None
    if blob is None:
        blob = json.dumps({"format": FORMAT_VERSION, "data": data}, **_HASH_JSON)
    else:
        text = ticket_json.get(id(tickets))
        if text is None:
            text = ticket_json[id(tickets)] = json.dumps(tickets, **_HASH_JSON)
        blob = blob.replace(_TICKETS_HOLE, text, 1)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# rendering


def render_html(data: dict, version: str) -> str:
    from fieldrecon.outputs import render

    return render.render_html(TEMPLATES[data["kind"]], {"r": data, "version": version})


def render_pdf(data: dict, version: str) -> bytes:
    """The printed report (Typst): what the resident e-mails to the customer, 代表处 and PM."""
    from fieldrecon.outputs import render

    widths = ", ".join(f"{em}em" for _, em in TICKET_COLUMNS[:-1]) + ", 1fr"
    return render.render_pdf(TYPST_TEMPLATE, {"r": data, "version": version, "title": data["title"],
                                              "doc_no": doc_number(data), "ticket_widths": widths,
                                              "ticket_keys": [key for key, _ in TICKET_COLUMNS],
                                              "ticket_lines": render.fits_columns(data["tickets"], TICKET_COLUMNS)})


def doc_number(data: dict) -> str:
    kind = "ZB" if data["kind"] == "weekly" else "YB"
    return f"{kind}-{data['ticket_no']}-{data['engineer_id']}-{data['period_start'].replace('-', '')}"


def workbook(data: dict, version: str) -> bytes:
    """The report's figures as an Excel workbook (Chinese headers), by `xlsx.table_workbook`."""
    summary = ("概要", ["项目", "内容"], [[label, value] for label, value in (
        ("报告", data["title"]), ("版本", version), ("工程师工号", data["engineer_id"]),
        ("工程师姓名", data["engineer_name"]), ("客户名称", data["customer_name"]), ("局点地址", data["site_address"]),
        ("区域", data["region"]), ("工单号", data["ticket_no"]), ("报告周期", data["period_label"]),
        ("考勤天数", data["attendance_totals"]["days"]), ("计入异常次数", data["attendance_totals"]["anomalies"]),
        ("待处理异常天数", data["attendance_totals"]["open_gaps"]), ("工时合计", data["hours_total"]),
        ("新开工单", data["tickets_opened"]), ("关闭工单", data["tickets_closed"]),
        (f"{data['anomalies']['month']} 月累计异常（上限 {data['anomalies']['month_limit']}）",
         data["anomalies"]["month_to_date"]),
        (f"近三个月累计异常 {data['anomalies']['first_month_of_3']} 起（上限 {data['anomalies']['three_month_limit']}）",
         data["anomalies"]["three_months"]),
    )])
    sheets = [summary,
        ("考勤明细", ["日期", "星期", "班次", "上班打卡", "下班打卡", "上班状态", "下班状态", "请假", "异常电子流", "处理", "计入异常"],
         [[a["date"], a["weekday"], a["shift"], a["clock_in"], a["clock_out"], a["in_status"], a["out_status"],
           a["leave"], a["flow"], a["handling"], a["counted"]] for a in data["attendance"]]),
        ("工时汇总", ["工作类型", "工时", "条数"],
         [[h["kind"], h["hours"], h["entries"]] for h in data["hours_by_kind"]] + [["合计", data["hours_total"], len(data["timesheet"])]]),
        ("工时明细", ["日期", "工作类型", "工时", "工作内容"],
         [[t["date"], t["kind"], t["hours"], t["note"]] for t in data["timesheet"]]),
        ("问题处理清单", ["工单号", "工单类型", "周期末状态", "处理工程师", "创建时间", "关单时间", "本期"],
         [[t["ticket_no"], t["ticket_type"], t["status"], t["engineer_name"], t["created_at"], t["closed_at"], t["change"]]
          for t in data["tickets"]]),
    ]
    if data["kind"] == "monthly":
        sheets += [
            ("服务周期", ["周期序号", "服务周期"], [[c["cycle_no"], c["cycle"]] for c in data["cycles"]]),
            ("近三个月趋势", ["月份", "考勤天数", "本工单异常", "工程师异常（全部工单）", "近三个月累计", "工时"],
             [[t["month"], t["attendance_days"], t["ticket_anomalies"], t["engineer_anomalies"],
               t["engineer_3m_anomalies"], t["hours"]] for t in data["trend"]]),
        ]
    return table_workbook(sheets)


def write_files(data: dict, version: str, paths: dict[str, str], root: Path) -> dict[str, str | None]:
    """Render one version's files (HTML, PDF, Excel); returns the paths written and the PDF's sha256."""
    html = render_html(data, version)
    write_atomic(root / paths["html"], html.encode("utf-8"))
    pdf = render_pdf(data, version)
    write_atomic(root / paths["pdf"], pdf)
    write_atomic(root / paths["xlsx"], workbook(data, version))
    return {**paths, "pdf_sha256": hashlib.sha256(pdf).hexdigest()}


# ---------------------------------------------------------------------------------------------
# the run


def _key(row) -> tuple:
    return (row["report_kind"], row["ticket_no"], row["engineer_id"], row["period_key"])


def ticket_entry(t: dict) -> dict:
    """A line of the customer's ticket list as the report shows it (plain strings)."""
    return {
        "ticket_no": t["ticket_no"],
        "ticket_type": t["ticket_type"] or "",
        "status": t["status"] or "",
        "engineer_name": t["engineer_name"] or "",
        "created_at": str(t["created_at"])[:16] if t["created_at"] else "",  # 2026-11-03 09:12 (str: faster than strftime)
        "closed_at": str(t["closed_at"])[:16] if t["closed_at"] else "",
        "change": "、".join(x for x, f in ((OPENED_ZH, t["opened_in_period"]), (CLOSED_ZH, t["closed_in_period"])) if f),
    }


def collect(conn: sa.Connection, params: dict) -> tuple[list[dict], dict[tuple, dict[str, list[dict]]]]:
    """Expected reports and, for those whose period is over, their content rows (by report key).
    The customer's ticket list is read once per customer and period and shared by its reports (the
    same entries; `report_data` leaves out the report's own ticket): a company's residents share a
    customer-week."""
    conn.execute(sa.text(f"set local work_mem = '{WORK_MEM}'"))
    rules.materialise_staging(conn, params["as_of"], rules.sources_named("mart/reports", "recon/attendance/models"), shared=True)
    rules.materialise_models(conn, "attendance", params)
    conn.execute(sa.text("drop table if exists pg_temp.report_periods"))
    conn.execute(sa.text(f"create temp table report_periods on commit drop as {_sql('report_periods')}"), params)
    conn.execute(sa.text("analyze pg_temp.report_periods"))
    periods = [dict(r._mapping) for r in conn.execute(sa.text(
        "select * from report_periods order by report_kind desc, ticket_no, engineer_id, period_key"))]
    content: dict[tuple, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    lists: dict[tuple, list[dict]] = defaultdict(list)
    for name in CONTENT_QUERIES:
        result = conn.execute(sa.text(_sql(f"report_{name}")), params)
        columns = tuple(result.keys())
        # the driver's tuples, without a SQLAlchemy Row each (a company's year: a million rows, ~5 s)
        fetched = result.cursor.fetchall()
        result.close()
        for values in fetched:
            row = dict(zip(columns, values, strict=True))
            if name == "tickets":
                lists[(row["customer_name"], row["period_start"], row["period_end"])].append(ticket_entry(row))
                continue
            if name in ("cycles", "trend"):
                key = ("monthly", row["ticket_no"], row["engineer_id"], row["period_key"])
            else:
                key = _key(row)
            content[key][name].append(row)
    for p in periods:
        shared = lists.get((p["customer_name"], p["period_start"], p["period_end"]))
        if shared and p["period_over"]:
            content[_key(p)]["tickets"] = shared
    return periods, content


def _check_families(conn: sa.Connection, business_date: dt.date) -> None:
    ran = set(conn.execute(sa.text("select distinct family from recon.rule_runs where business_date = :d"),
                           {"d": business_date}).scalars())
    missing = [f for f in REQUIRED_FAMILIES if f not in ran]
    if missing:
        raise RuntimeError(f"reports for {business_date} need the rule families {missing} to have run first")


_UNNEST_DRAFTS = (
    "select * from unnest(cast(:i as integer[]), cast(:k as text[]), cast(:t as text[]), cast(:e as text[]), "
    "cast(:p as date[]), cast(:h as text[]), cast(:s as date[]), cast(:en as date[]))")


def assign_versions(conn: sa.Connection, business_date: dt.date, drafts: list[dict]) -> None:
    """Give every draft (period dict + data + hash) its version: an existing one for a content seen
    before (its generated_on lowered to this date if earlier), else the next number. Set-based: a
    few statements for all of a night's reports (thousands at company scale), not three per report."""
    conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": VERSION_LOCK})
    if not drafts:
        return
    cols = {"i": list(range(len(drafts))), "k": [d["period"]["report_kind"] for d in drafts],
            "t": [d["period"]["ticket_no"] for d in drafts], "e": [d["period"]["engineer_id"] for d in drafts],
            "p": [d["period"]["period_key"] for d in drafts], "h": [d["hash"] for d in drafts],
            "s": [d["period"]["period_start"] for d in drafts], "en": [d["period"]["period_end"] for d in drafts]}
    conn.execute(sa.text("drop table if exists pg_temp.draft_versions"))
    conn.execute(sa.text(
        "create temp table draft_versions (i integer, report_kind text, ticket_no text, engineer_id text, "
        "period_key date, content_hash text, period_start date, period_end date) on commit drop"))
    conn.execute(sa.text(f"insert into draft_versions {_UNNEST_DRAFTS}"), cols)
    seen = {r.i: r for r in conn.execute(sa.text(
        "update mart.resident_report_versions as v set generated_on = least(v.generated_on, :d) "
        "from draft_versions as x where v.report_kind = x.report_kind and v.ticket_no = x.ticket_no "
        "and v.engineer_id = x.engineer_id and v.period_key = x.period_key and v.content_hash = x.content_hash "
        "returning x.i, v.version, v.generated_on, v.html_path, v.pdf_path, v.xlsx_path"), {"d": business_date})}
    latest = {(r.report_kind, r.ticket_no, r.engineer_id, r.period_key): r.version for r in conn.execute(sa.text(
        "select v.report_kind, v.ticket_no, v.engineer_id, v.period_key, max(v.version) as version "
        "from mart.resident_report_versions as v join draft_versions as x on v.report_kind = x.report_kind "
        "and v.ticket_no = x.ticket_no and v.engineer_id = x.engineer_id and v.period_key = x.period_key "
        "group by 1, 2, 3, 4"))}
    inserted: dict[tuple, int] = {}
    new_rows = {c: [] for c in ("k", "t", "e", "p", "v", "h", "s", "en")}
    for i, d in enumerate(drafts):
        p = d["period"]
        key = (p["report_kind"], p["ticket_no"], p["engineer_id"], p["period_key"])
        if i in seen:
            row = seen[i]
            d.update(version=row.version, generated_on=row.generated_on, new=False,
                     files={"html": row.html_path, "pdf": row.pdf_path, "xlsx": row.xlsx_path})
            continue
        if (*key, d["hash"]) in inserted:  # the same content twice in one night: one version
            d.update(version=inserted[(*key, d["hash"])], generated_on=business_date, files={}, new=False)
            continue
        version = latest.get(key, 0) + 1
        latest[key] = inserted[(*key, d["hash"])] = version
        for c, v in zip(new_rows, (*key, version, d["hash"], p["period_start"], p["period_end"]), strict=True):
            new_rows[c].append(v)
        d.update(version=version, generated_on=business_date, files={}, new=True)
    if new_rows["k"]:
        conn.execute(sa.text(
            "insert into mart.resident_report_versions (report_kind, ticket_no, engineer_id, period_key, version, "
            "content_hash, period_start, period_end, generated_on) select k, t, e, p, v, h, s, en, cast(:d as date) "
            "from unnest(cast(:k as text[]), cast(:t as text[]), cast(:e as text[]), cast(:p as date[]), "
            "cast(:v as integer[]), cast(:h as text[]), cast(:s as date[]), cast(:en as date[])) "
            "as n(k, t, e, p, v, h, s, en)"), {**new_rows, "d": business_date})


def _record_files(conn: sa.Connection, done: list[tuple[dict, dict]]) -> None:
    """The paths and PDF sha256 of the versions rendered this night, in one statement."""
    if not done:
        return
    cols = {c: [] for c in ("k", "t", "e", "p", "v", "html", "pdf", "xlsx", "sha")}
    for d, files in done:
        p = d["period"]
        for c, v in zip(cols, (p["report_kind"], p["ticket_no"], p["engineer_id"], p["period_key"], d["version"],
                               files["html"], files["pdf"], files["xlsx"], files["pdf_sha256"]), strict=True):
            cols[c].append(v)
    conn.execute(sa.text(
        "update mart.resident_report_versions as v set html_path = n.html, pdf_path = n.pdf, xlsx_path = n.xlsx, "
        "pdf_sha256 = n.sha from unnest(cast(:k as text[]), cast(:t as text[]), cast(:e as text[]), "
        "cast(:p as date[]), cast(:v as integer[]), cast(:html as text[]), cast(:pdf as text[]), "
        "cast(:xlsx as text[]), cast(:sha as text[])) "
        "as n(k, t, e, p, ver, html, pdf, xlsx, sha) where v.report_kind = n.k and v.ticket_no = n.t "
        "and v.engineer_id = n.e and v.period_key = n.p and v.version = n.ver"), cols)


def report_status(period_over: bool, rendered: bool, due_date: dt.date, available_on: dt.date,
                  go_live: dt.date | None, business_date: dt.date) -> str:
    """A report's status on a business date, from what that date's run sees and the configuration only.

    Runs of other dates never count: when a report was *first generated* depends on which dates ran
    first (a backfill, a first install, two dates at once), so the status compares the day the report
    *could first be generated* -- `available_on`, the later of its period's end and the earliest
    visible extract holding attendance of the period -- with its due date (rulebook RA-08, part 6
    4.2(5): the Monday / the 1st, postponed over holidays):

    - not due: period not over (nothing to generate yet), or rendering failed and the due date is not over;
    - missing: rendering failed and the due date is over;
    - backfilled (补生成): due before the go-live (FIELDRECON_GO_LIVE, default the warehouse's
      earliest extract date): the pipeline did not exist on the due date, so a first install renders
      the history afterwards -- never 逾期生成; a report due on the go-live day itself is judged;
    - late (逾期生成): its attendance became visible only after the due date (the data came late:
      "后补周报…按周报上传不及时统计考核", part 6 4.2(5)6));
    - generated (已生成): available on or before the due date (the due day itself is on time).
    `SNAPSHOT_SQL` is the same rule in SQL (tests/outputs/test_report_status.py holds them together).
    """
    if not period_over or not rendered:
        return "missing" if due_date <= business_date else "not due"
    if go_live is not None and due_date < go_live:
        return "backfilled"
    return "late" if available_on > due_date else "generated"


SNAPSHOT_SQL = """
insert into mart.resident_reports (
    business_date, report_kind, ticket_no, engineer_id, period_key, engineer_name, region, customer_name,
    site_address, period_start, period_end, attendance_days, due_date, period_over, status, available_on, go_live,
    version, version_generated_on, content_hash, version_label, html_path, pdf_path, xlsx_path, pdf_sha256
)
with go_live as (
    select coalesce(
        cast(:go_live as date),
        (select min(f.extract_date) from ops.files as f where f.status = 'loaded' and f.extract_date <= cast(:d as date))
    ) as go_live
)
select
    cast(:d as date), p.report_kind, p.ticket_no, p.engineer_id, p.period_key, p.engineer_name, p.region,
    p.customer_name, p.site_address, p.period_start, p.period_end, p.attendance_days, p.due_date, p.period_over,
    case
        when v.version is null and p.due_date <= cast(:d as date) then 'missing'
        when v.version is null then 'not due'
        when p.due_date < g.go_live then 'backfilled'
        when p.available_on > p.due_date then 'late'
        else 'generated'
    end,
    p.available_on, g.go_live, v.version, v.generated_on, v.content_hash, left(v.content_hash, 8),
    v.html_path, v.pdf_path, v.xlsx_path, v.pdf_sha256
from report_periods as p
cross join go_live as g
left join run_versions as rv
    on rv.report_kind = p.report_kind and rv.ticket_no = p.ticket_no and rv.engineer_id = p.engineer_id
    and rv.period_key = p.period_key
left join mart.resident_report_versions as v
    on v.report_kind = rv.report_kind and v.ticket_no = rv.ticket_no and v.engineer_id = rv.engineer_id
    and v.period_key = rv.period_key and v.version = rv.version
"""

SNAPSHOT_COLUMNS = [
    ("报告类型", "report_kind"), ("区域", "region"), ("客户名称", "customer_name"), ("工单号", "ticket_no"),
    ("工程师工号", "engineer_id"), ("工程师姓名", "engineer_name"), ("周期开始", "period_start"),
    ("周期结束", "period_end"), ("考勤天数", "attendance_days"), ("应交日期", "due_date"), ("状态", "status"),
    ("可生成日期（业务日期）", "available_on"), ("版本", "version_label"), ("PDF文件", "pdf_path"),
    ("HTML文件", "html_path"), ("Excel文件", "xlsx_path"),
]


def _snapshot_csv(rows: list[dict]) -> bytes:
    body = []
    for r in rows:
        out = []
        for _, c in SNAPSHOT_COLUMNS:
            v = r[c]
            if c == "report_kind":
                v = labels.REPORT_KIND[v]
            elif c == "status":
                v = STATUS_ZH[v]
            out.append("" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v))
        body.append(out)
    return bom_csv([h for h, _ in SNAPSHOT_COLUMNS], body)


def _render_job(job: tuple) -> tuple[dict | None, str | None]:
    """Render one report version in a worker: its paths, or the error (a failure stays per report)."""
    data, version, paths, root = job
    try:
        return write_files(data, version, paths, Path(root)), None
    except Exception as exc:  # noqa: BLE001 - reported per report by the caller
        log.exception("report %s v%s failed", data.get("ticket_no"), version)
        return None, f"{type(exc).__name__}: {exc}"


def _documents(engine: sa.Engine, snapshot: list[dict]) -> list[dict]:
    """The rows of documents.csv for the reports this date's snapshot points at: the PDF's sha256 as
    recorded when it was written. A version written before that record is hashed from its file once,
    and the hash recorded for the nights after."""
    out, hashed = [], {}
    root = reports_dir()
    for r in snapshot:
        if not r["pdf_path"]:
            continue
        sha = r["pdf_sha256"]
        if not sha and (root / r["pdf_path"]).is_file():
            sha = hashed[r["pdf_path"]] = hashlib.sha256((root / r["pdf_path"]).read_bytes()).hexdigest()
        out.append({"kind": KIND_ZH[r["report_kind"]], "region": r["region"] or "",
                    "subject": f"{r['ticket_no']}_{r['engineer_id']}_{r['period_start']:%Y%m%d}-{r['period_end']:%Y%m%d}",
                    "version": r["version_label"], "status": STATUS_ZH[r["status"]], "path": r["pdf_path"],
                    "sha256": sha or ""})
    if hashed:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "update mart.resident_report_versions as v set pdf_sha256 = n.sha from unnest(cast(:p as text[]), "
                "cast(:s as text[])) as n(path, sha) where v.pdf_path = n.path and v.pdf_sha256 is null"),
                {"p": list(hashed), "s": list(hashed.values())})
    return out


def _needs_files(files: dict, expected: dict[str, str], root: Path) -> bool:
    """Render when a file of the version is not recorded where its label puts it, or not on disk."""
    return not all(files.get(k) == expected[k] and (root / files[k]).is_file() for k in ("html", "pdf", "xlsx"))


def build_all(engine: sa.Engine, ctx) -> dict:
    """Expected reports, content, versions, files and the status snapshot of ctx's business date."""
    t0 = time.monotonic()
    business_date = ctx.date
    params = rules.bind_params(business_date, ctx.params)
    root = reports_dir()
    failed: list[str] = []
    with engine.begin() as conn:
        _check_families(conn, business_date)
        periods, content = collect(conn, params)
        drafts = []
        ticket_json: dict[int, str] = {}  # by list: the lists live in `drafts` as long as the cache
        for p in periods:
            if not p["period_over"]:
                continue
            data = report_data(p, content.get(_key(p), {}), params)
            drafts.append({"period": p, "data": data, "hash": content_hash(data, ticket_json)})
        assign_versions(conn, business_date, drafts)
        rendered = 0
        done: list[tuple[dict, dict]] = []
        todo = [d for d in drafts if _needs_files(d["files"], relative_paths(d["period"], version_label(d["hash"])), root)]
        jobs = [(d["data"], version_label(d["hash"]), relative_paths(d["period"], version_label(d["hash"])), str(root))
                for d in todo]
        for d, (files, error) in zip(todo, run_documents.map_parallel(_render_job, jobs), strict=True):
            if error:  # one bad report must not hide the others; it stays not due / missing
                log.error("report %s v%s failed: %s", report_name(d["period"]), d["version"], error)
                failed.append(report_name(d["period"]))
                d["failed"] = True
                continue
            rendered += 1
            done.append((d, files))
        _record_files(conn, done)
        ok = [d for d in drafts if not d.get("failed")]
        conn.execute(sa.text("create temp table run_versions (report_kind text, ticket_no text, engineer_id text, "
                             "period_key date, version integer) on commit drop"))
        if ok:
            conn.execute(sa.text("insert into run_versions values (:k, :t, :e, :p, :v)"),
                         [{"k": d["period"]["report_kind"], "t": d["period"]["ticket_no"], "e": d["period"]["engineer_id"],
                           "p": d["period"]["period_key"], "v": d["version"]} for d in ok])
        for d in drafts:
            if d.get("failed") and d["new"]:  # a version whose files were never written was not generated
                conn.execute(sa.text(
                    "delete from mart.resident_report_versions where report_kind = :k and ticket_no = :t "
                    "and engineer_id = :e and period_key = :p and version = :v"),
                    {"k": d["period"]["report_kind"], "t": d["period"]["ticket_no"], "e": d["period"]["engineer_id"],
                     "p": d["period"]["period_key"], "v": d["version"]})
        conn.execute(sa.text("delete from mart.resident_reports where business_date = :d"), {"d": business_date})
        conn.execute(sa.text(SNAPSHOT_SQL), {"d": business_date, "go_live": settings.get().go_live})
        snapshot = [dict(r._mapping) for r in conn.execute(sa.text(
            "select * from mart.resident_reports where business_date = :d "
            "order by due_date desc, region, ticket_no, engineer_id, report_kind desc, period_key"), {"d": business_date})]
    write_atomic(Path(ctx.output_dir) / "resident_reports.csv", _snapshot_csv(snapshot))
    documents_csv = run_documents.write_documents_csv(ctx.output_dir, tuple(KIND_ZH.values()), _documents(engine, snapshot))
    by_status = {s: sum(1 for r in snapshot if r["status"] == s) for s in STATUS_ZH}
    result = {
        "expected": len(snapshot),
        "by_status": by_status,
        "generated_this_run": sum(1 for d in drafts if d.get("new") and not d.get("failed")),
        "rendered": rendered,
        "failed": failed,
        "reports_dir": str(root),
        "documents_csv": str(documents_csv),
        "seconds": round(time.monotonic() - t0, 2),
    }
    return result
