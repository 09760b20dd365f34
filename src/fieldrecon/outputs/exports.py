"""Per-run exports: findings.csv, exceptions.xlsx (Chinese, for clerks) and the mart CSVs.

Sheets and CSVs beyond the findings list are SQL files: include/sql/mart/sheets/NN_<name>.sql
(first line `-- sheet: <sheet name>`) and include/sql/mart/csv/<name>.sql, run after every rule
family of the date, in one session that sees each source as of the run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections import Counter
from pathlib import Path

import sqlalchemy as sa

from fieldrecon import labels
from fieldrecon.outputs import kpi, reminders, sentences
from fieldrecon.outputs.files import bom_csv, write_atomic
from fieldrecon.outputs.xlsx import Workbook, finish_sheet, save_workbook
from fieldrecon.recon import rules
from fieldrecon.settings import SQL_DIR

log = logging.getLogger(__name__)

FINDINGS_CSV_COLUMNS = [
    "rule_code", "region", "ticket_no", "engineer_id", "day", "rfc_no", "task_no", "po_no", "po_line_no",
    "cycle_start", "acceptance_no", "month", "severity", "finding_id", "new", "details",
]
SEVERITY_ZH = labels.SEVERITY
FAMILY_ZH = labels.FAMILY
# The findings sheet each family's own SQL provides; a family without one gets a generated sheet.
FAMILY_SHEET = {"checkin": "打卡核对", "attendance": "考勤规则", "changes": "变更单规则", "po": "PO与附件规则",
                "timeliness": "服务时效"}


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "hour") else value.strftime("%Y-%m-%d")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(value)


def open_findings(conn: sa.Connection, business_date) -> list[dict]:
    rows = conn.execute(
        sa.text(
            "select * from recon.findings_as_of(:d) where status = 'open' order by rule_code, region nulls first, "
            "ticket_no nulls first, engineer_id nulls first, day nulls first, rfc_no nulls first, task_no nulls first, "
            "po_no nulls first, po_line_no nulls first, cycle_start nulls first, acceptance_no nulls first, "
            "month nulls first, finding_id"
        ),
        {"d": business_date},
    )
    return [dict(r._mapping) for r in rows]


def findings_csv(findings: list[dict]) -> bytes:
    return bom_csv(FINDINGS_CSV_COLUMNS, ([_fmt(dict(f, new=f["is_new"])[c]) for c in FINDINGS_CSV_COLUMNS] for f in findings))


def mart_queries(kind: str) -> list[tuple[str, str, str]]:
    """(name, title, sql) of include/sql/mart/<kind>/*.sql in file order."""
    out = []
    for path in sorted((SQL_DIR / "mart" / kind).glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        m = re.match(r"--\s*(?:sheet|csv):\s*(.+)", text)
        name = re.sub(r"^\d+_", "", path.stem)
        out.append((name, m.group(1).strip() if m else name, text.strip().rstrip(";")))
    return out


def _summary_sheet(wb: Workbook, ctx, findings: list[dict], quality: dict, catalogue: dict) -> None:
    ws = wb.active
    ws.title = "汇总"
    ws.append(["业务日期", ctx.business_date])
    ws.append(["数据截止 (as_of)", ctx.as_of])
    ws.append(["未关闭问题总数", len(findings)])
    ws.append([])
    ws.append(["数据来源", "使用的最新提取日期", "是否过期"])
    for name, s in (quality.get("sources") or {}).items():
        ws.append([sentences.source_zh(name), s["newest_extract_date"] or "无",
                   f"过期：{s.get('stale_reason') or '相关结果基于旧数据'}" if s["stale"] else "最新"])
    ws.append([])
    # findings without a region (data problems nobody's region owns) are head office's: 总部
    regions = sorted({sentences.region_label(f["region"]) for f in findings})
    ws.append(["规则", "问题", "严重程度", *regions, "合计"])
    counts = Counter((f["rule_code"], sentences.region_label(f["region"])) for f in findings)
    sev = {f["rule_code"]: f["severity"] for f in findings}
    for code in sorted({f["rule_code"] for f in findings}):
        per = [counts.get((code, r), 0) for r in regions]
        title = catalogue[code].title if code in catalogue else code
        ws.append([code, title, SEVERITY_ZH.get(sev[code], sev[code]), *per, sum(per)])
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 28
    ws.freeze_panes = "A2"


def _explanation_sheet(wb: Workbook, catalogue: dict) -> None:
    ws = wb.create_sheet("规则说明")
    ws.append(["规则", "类别", "严重程度", "问题", "说明", "依据条款"])
    for code, r in sorted(catalogue.items()):
        severity = " / ".join(SEVERITY_ZH.get(x.strip(), x.strip()) for x in r.severity.split("/"))
        ws.append([code, FAMILY_ZH.get(r.family, r.family), severity, r.title, r.explain, r.clause])
    finish_sheet(ws)


def _generic_family_sheet(wb: Workbook, family: str, findings: list[dict], catalogue: dict) -> None:
    ws = wb.create_sheet(FAMILY_ZH.get(family, family) + "问题")
    ws.append(["规则", "严重程度", "区域", "工单号", "工程师工号", "日期", "RFC单号", "任务单号", "PO号", "PO行号",
               "周期开始", "验收单号", "月份", "问题", *sentences.DESCRIBE_COLUMNS, "首次发现", "是否新增"])
    for f in findings:
        r = catalogue.get(f["rule_code"])
        if r is None or r.family != family:
            continue
        ws.append([f["rule_code"], SEVERITY_ZH.get(f["severity"]), sentences.region_label(f["region"]), f["ticket_no"],
                   f["engineer_id"], f["day"], f["rfc_no"], f["task_no"], f["po_no"], f["po_line_no"], f["cycle_start"],
                   f["acceptance_no"], f["month"], r.title, *sentences.describe(f).values(), _first_seen(f),
                   "是" if f["is_new"] else "否"])
    finish_sheet(ws)


def _timeliness_outputs(conn: sa.Connection, wb: Workbook, out_dir: Path, params: dict) -> dict:
    """The KPI sheets with their charts, the 到期提醒 sheet and reminders.csv (kpi_monthly.csv is a
    mart CSV like the others)."""
    rows = reminders.reminder_rows(conn, params)
    write_atomic(out_dir / "reminders.csv", reminders.reminders_csv(rows))
    reminders.add_reminders_sheet(wb, rows)
    return {"exceptions.xlsx:KPI统计": kpi.add_kpi_sheets(wb, kpi.kpi_rows(conn, params)),
            "exceptions.xlsx:到期提醒": len(rows), "reminders.csv": len(rows)}


# ---------------------------------------------------------------- clerks' words (sentences.py)

CLERK_FINDINGS_CSV = "问题清单.csv"  # findings.csv in Chinese for clerks; findings.csv stays the machine file
# sheets also written as a clerks' CSV (Chinese headers, same rows); acceptance_todo.csv stays the machine file
CLERK_CSV_SHEETS = {"验收待办": "验收待办.csv"}
CLERK_CSVS = (CLERK_FINDINGS_CSV, *CLERK_CSV_SHEETS.values())
CLERK_KEYS = [("工单号", "ticket_no"), ("工程师工号", "engineer_id"), ("日期", "day"), ("RFC单号", "rfc_no"),
              ("任务单号", "task_no"), ("PO号", "po_no"), ("PO行号", "po_line_no"), ("周期开始", "cycle_start"),
              ("验收单号", "acceptance_no"), ("月份", "month")]


def _first_seen(f: dict):
    """The business date a finding was first seen (as_of is the midnight that ends it)."""
    if f.get("since") is not None:
        return f["since"]
    seen = f.get("first_seen_as_of")
    return (seen - dt.timedelta(days=1)).date() if isinstance(seen, dt.datetime) else seen


def _csv_bytes(header: list, body: list[list]) -> bytes:
    return bom_csv(header, ([_fmt(v) for v in row] for row in body))


def clerk_findings_csv(findings: list[dict], catalogue: dict) -> bytes:
    header = ["规则", "问题", "级别", "区域", *(h for h, _ in CLERK_KEYS), *sentences.DESCRIBE_COLUMNS,
              "首次发现", "是否新增", "问题编号"]
    rows = []
    for f in findings:
        r = catalogue.get(f["rule_code"])
        rows.append([f["rule_code"], r.title if r else f["rule_code"], SEVERITY_ZH.get(f["severity"], f["severity"]),
                     sentences.region_label(f["region"]), *(_fmt(f[k]) for _, k in CLERK_KEYS),
                     *sentences.describe(f).values(), _fmt(_first_seen(f)), "是" if f["is_new"] else "否",
                     f["finding_id"]])
    return bom_csv(header, rows)


def finding_texts_table(conn: sa.Connection, findings: list[dict], catalogue: dict) -> None:
    """Temp table finding_texts (one row per open finding: family, region label, sentence and action)
    that the sheet and CSV SQL join by finding_id instead of rendering details themselves (the
    title they join from recon.rule_catalogue)."""
    conn.execute(sa.text("drop table if exists pg_temp.finding_texts"))
    conn.execute(sa.text(
        "create temp table finding_texts (finding_id text primary key, family text, region_label text, "
        "sentence text, what text, system text, who text, by_when text, first_seen date) on commit drop"))
    rows = []
    for f in findings:
        r = catalogue.get(f["rule_code"])
        d = sentences.describe(f)
        rows.append({"finding_id": f["finding_id"], "family": r.family if r else None, "region_label": sentences.region_label(f["region"]),
                     "sentence": d["问题说明"], "what": d["处理办法"],
                     "system": d["处理系统"], "who": d["责任人"], "by_when": d["处理期限"], "first_seen": _first_seen(f)})
    if rows:
        conn.execute(sa.text(
            "insert into finding_texts values (:finding_id, :family, :region_label, :sentence, :what, :system, :who, "
            ":by_when, :first_seen)"), rows)


def acceptance_todo_table(conn: sa.Connection, business_date) -> None:
    """Temp table acceptance_todo: mart.acceptance_todo of the business date, evaluated once for the
    step's SQL that lists it (a few seconds a company night each time)."""
    conn.execute(sa.text("drop table if exists pg_temp.acceptance_todo"))
    conn.execute(sa.text("create temp table acceptance_todo on commit drop as "
                         "select * from mart.acceptance_todo(cast(:d as date))"), {"d": business_date})
    conn.execute(sa.text("analyze pg_temp.acceptance_todo"))


def sheet_session(conn: sa.Connection, business_date, params: dict) -> list[dict]:
    """What the sheet and CSV SQL read: the run's staging state, finding_texts, the acceptance to-do
    (acceptance_todo) and the date's rule catalogue (recon.rule_catalogue, thresholds from the run's
    bound parameters); returns the open findings."""
    findings = open_findings(conn, business_date)
    rules.write_catalogue(conn, business_date, params)
    finding_texts_table(conn, findings, rules.catalogue(params))
    acceptance_todo_table(conn, business_date)
    rules.materialise_staging(conn, params["as_of"], rules.sources_named("mart/sheets", "mart/csv"), shared=True)
    return findings


def write_all(engine: sa.Engine, ctx) -> dict:
    out_dir = Path(ctx.output_dir)
    params = rules.bind_params(ctx.date, ctx.params)
    catalogue = rules.catalogue(ctx.params)
    written = {}
    with engine.begin() as conn:
        quality = (conn.execute(sa.text("select summary->'quality' from ops.runs where run_id = :r"),
                                {"r": ctx.run_id}).scalar() or {})
        findings = sheet_session(conn, ctx.date, params)
        write_atomic(out_dir / "findings.csv", findings_csv(findings))
        written["findings.csv"] = len(findings)
        write_atomic(out_dir / CLERK_FINDINGS_CSV, clerk_findings_csv(findings, catalogue))
        written[CLERK_FINDINGS_CSV] = len(findings)
        wb = Workbook()
        _summary_sheet(wb, ctx, findings, quality, catalogue)
        sheet_sqls = mart_queries("sheets")
        covered = {title for _, title, _ in sheet_sqls}
        for family in rules.FAMILIES:
            # a family without its own findings sheet still gets one, generated from the findings
            if FAMILY_SHEET[family] not in covered:
                _generic_family_sheet(wb, family, findings, catalogue)
        for _name, title, query in sheet_sqls:
            result = conn.execute(sa.text(query), params)
            ws = wb.create_sheet(title[:31])
            header, body = list(result.keys()), [list(row) for row in result]
            ws.append(header)
            for row in body:
                ws.append([_fmt(v) if isinstance(v, dict | list) else v for v in row])
            finish_sheet(ws)
            written[f"exceptions.xlsx:{title}"] = ws.max_row - 1
            if title in CLERK_CSV_SHEETS:
                write_atomic(out_dir / CLERK_CSV_SHEETS[title], _csv_bytes(header, body))
                written[CLERK_CSV_SHEETS[title]] = len(body)
        written.update(_timeliness_outputs(conn, wb, out_dir, params))
        _explanation_sheet(wb, catalogue)
        save_workbook(wb, out_dir / "exceptions.xlsx")
        for _, name, query in mart_queries("csv"):  # file name from its `-- csv:` header
            result = conn.execute(sa.text(query), params)
            rows = [[_fmt(v) for v in row] for row in result]
            write_atomic(out_dir / f"{name}.csv", bom_csv(list(result.keys()), rows))
            written[f"{name}.csv"] = len(rows)
    return written
