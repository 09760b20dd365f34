"""The data-quality step's outputs: per-file accounting of the files a date sees, stale sources,
quarantine by reason (recorded in the run summary) and the clerks' quarantine workbook."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import sqlalchemy as sa

from fieldrecon import labels
from fieldrecon.contract import SOURCES
from fieldrecon.ingest import gx_checks

log = logging.getLogger(__name__)

# Which outputs read which sources: a stale source marks these as built on old data.
DEPENDENT_OUTPUTS = {
    "netcare_workorders": ["checkin", "attendance", "po"],
    "netcare_punches": ["checkin"],
    "timesheet_entries": ["checkin"],
    "timesheet_engineers": ["checkin", "attendance"],
    "isc_po_lines": ["po", "attendance"],
    "isc_acceptances": ["po"],
    "netcare_rfcs": ["changes"],
    "netcare_rfc_tasks": ["changes"],
    "netcare_resident_attendance": ["attendance"],
    "netcare_attachments": ["po"],
}
STATUS_ZH = labels.FILE_STATUS
STATUSES = ("loaded", "rejected", "repeat", "unrecognised", "pending", "refused")


def files_of_date(conn: sa.Connection, business_date: dt.date) -> list[dict]:
    """Every file registered up to the business date, whatever its status (the per-file accounting);
    not `ops.visible_files`, which is the files a run reads."""
    rows = conn.execute(
        sa.text(
            "select file_id, file_name, source, extract_date, delivery_no, status, reason, sha256, arrived_at, "
            "header_row, extra_columns, ignored_sheets, rows_read, rows_loaded, rows_quarantined, rows_duplicate, notes "
            "from ops.files where extract_date <= :d or extract_date is null order by source, extract_date, delivery_no, file_name"
        ),
        {"d": business_date},
    )
    return [dict(r._mapping) for r in rows]


def quality(engine: sa.Engine, ctx) -> dict:
    d = ctx.date
    gx_checks.prefetch()  # imported while the accounting below runs
    with engine.begin() as conn:
        files = files_of_date(conn, d)
        bad = [f for f in files if f["status"] == "loaded"
               and f["rows_read"] != f["rows_loaded"] + f["rows_quarantined"] + f["rows_duplicate"]]
        if bad:
            raise RuntimeError(f"row counts do not add up for {[f['file_name'] for f in bad]}")
        # the newest visible extract per source (of its date, the latest delivery: it replaces the others)
        newest = {r.source: r for r in conn.execute(sa.text(
            "select distinct on (f.source) f.source, f.extract_date, f.file_name, f.rows_read, f.rows_loaded "
            "from unnest(cast(:s as text[])) as s (source) cross join lateral "
            "ops.visible_files(s.source, cast(:as_of as timestamp)) as v join ops.files as f on f.file_id = v.file_id "
            "order by f.source, f.extract_date desc"), {"s": list(SOURCES), "as_of": ctx.as_of})}
        by_reason = dict(conn.execute(sa.text(
            "select q.reason_code, count(*) from ops.quarantine q join ops.files f using (file_id) "
            "where f.extract_date <= :d group by 1 order by 1"), {"d": d}).all())
        quarantine_rows = conn.execute(sa.text(
            "select f.file_name, f.source, q.row_no, q.header, q.value, q.reason, q.reason_code "
            "from ops.quarantine q join ops.files f using (file_id) where f.extract_date <= :d "
            "order by f.file_name, q.row_no, q.column_name"), {"d": d}).all()
    sources = {}
    for name in SOURCES:
        f = newest.get(name)
        last = f.extract_date if f else None
        empty = f is not None and not f.rows_loaded
        stale = last is None or last < d or empty
        why = None
        if last is None:
            why = "没有已加载的提取文件"
        elif empty:
            why = (f"最新的提取文件 {f.file_name} 没有可用的行（读取 {f.rows_read or 0} 行，全部隔离或为空文件），"
                   "沿用以前提取的数据")
        elif last < d:
            why = f"最新的提取文件日期为 {last.isoformat()}，早于业务日期"
        sources[name] = {"newest_extract_date": last.isoformat() if last else None, "stale": stale,
                         "newest_extract_empty": empty, "stale_reason": why,
                         "affects": DEPENDENT_OUTPUTS[name] if stale else []}
    counts = {s: sum(1 for f in files if f["status"] == s) for s in STATUSES}
    warnings = [{"file_name": f["file_name"], **n} for f in files for n in (f.get("notes") or [])]
    result = {
        "files_visible": counts,
        "rows": {
            "read": sum(f["rows_read"] or 0 for f in files if f["status"] == "loaded"),
            "loaded": sum(f["rows_loaded"] or 0 for f in files if f["status"] == "loaded"),
            "quarantined": sum(f["rows_quarantined"] or 0 for f in files if f["status"] == "loaded"),
            "duplicate": sum(f["rows_duplicate"] or 0 for f in files if f["status"] == "loaded"),
        },
        "quarantine_by_reason": by_reason,
        "sources": sources,
        "stale_outputs": sorted({o for s in sources.values() for o in s["affects"]}),
        "warnings": warnings,
        "refused_entries": [{"file_name": f["file_name"], "reason": f["reason"]} for f in files if f["status"] == "refused"],
        "per_file": [
            {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in f.items()
             if k not in ("arrived_at",)} | {"arrived_at": f["arrived_at"].isoformat() if f["arrived_at"] else None}
            for f in files
        ],
    }
    write_quarantine_workbook(Path(ctx.output_dir) / "quarantine.xlsx", files, quarantine_rows, ctx)
    result["great_expectations"] = gx = great_expectations(engine, ctx)
    for f in (gx or {}).get("failed_expectations", []):
        result["warnings"].append({"file_name": None, "code": "expectation_failed", "rows": [], "count": 1,
                                   "message": f"数据质量检查未通过（{f['suite']}）：{f['message']}，观测值 {f['observed']}"})
    if gx and gx.get("error"):
        result["warnings"].append({"file_name": None, "code": "expectations_not_run", "rows": [], "count": 1,
                                   "message": f"数据质量检查（Great Expectations）未能运行：{gx['error']}"})
    return result


def great_expectations(engine: sa.Engine, ctx) -> dict | None:
    """The run's GX checkpoint (Data Docs in the outputs); a failure of GX itself is a warning too."""
    if not gx_checks.enabled():
        return None
    try:
        return gx_checks.run(engine, engine.url.render_as_string(hide_password=False), ctx.date, ctx.as_of,
                             Path(ctx.output_dir))
    except Exception as e:  # noqa: BLE001 - data docs are for the data team; the night goes on
        log.exception("Great Expectations checkpoint failed")
        return {"success": False, "error": f"{type(e).__name__}: {str(e)[:300]}", "failed_expectations": []}


def write_quarantine_workbook(path: Path, files: list[dict], rows, ctx) -> None:
    from fieldrecon.outputs.xlsx import Workbook, finish_sheet

    wb = Workbook()
    ws = wb.active
    ws.title = "隔离行"
    ws.append(["文件", "数据来源", "行号", "列", "值", "原因", "原因代码"])
    for r in rows:
        ws.append([r.file_name, SOURCES[r.source].title_zh, r.row_no, r.header, r.value, r.reason, r.reason_code])
    finish_sheet(ws)
    ws2 = wb.create_sheet("文件清单")
    ws2.append(["文件", "数据来源", "提取日期", "状态", "说明", "读取行数", "加载行数", "隔离行数", "重复行数"])
    for f in files:
        ws2.append([f["file_name"], SOURCES[f["source"]].title_zh if f["source"] else "", f["extract_date"],
                    STATUS_ZH.get(f["status"], f["status"]), f["reason"] or "", f["rows_read"], f["rows_loaded"],
                    f["rows_quarantined"], f["rows_duplicate"]])
    finish_sheet(ws2)
    ws4 = wb.create_sheet("读取提醒")
    ws4.append(["文件", "提醒", "行号（前 20 个）", "个数"])
    for f in files:
        for n in f.get("notes") or []:
            ws4.append([f["file_name"], n["message"], "、".join(map(str, n.get("rows") or [])), n.get("count")])
    finish_sheet(ws4)
    ws3 = wb.create_sheet("说明")
    ws3.append(["业务日期", ctx.business_date])
    ws3.append(["数据截止 (as_of)", ctx.as_of])
    ws3.append(["说明", "隔离行不参与任何规则；同一主键以前的有效行继续有效。整文件拒收的文件见“文件清单”。"])
    from fieldrecon.outputs.xlsx import save_workbook

    save_workbook(wb, path)
