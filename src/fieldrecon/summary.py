"""The run summary (run_summary.json) and the clerks' quarantine workbook (quarantine.xlsx)."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import sqlalchemy as sa

from .sources import SOURCES

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
STATUS_ZH = {"loaded": "已加载", "rejected": "整文件拒收", "repeat": "重复文件", "unrecognised": "无法识别", "pending": "待加载"}


def write_atomic(path: Path, data: bytes) -> None:
    """Write next to the target and rename, so a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def visible_files(conn: sa.Connection, business_date: dt.date) -> list[dict]:
    rows = conn.execute(
        sa.text(
            "select file_id, file_name, source, extract_date, delivery_no, status, reason, sha256, arrived_at, "
            "header_row, extra_columns, ignored_sheets, rows_read, rows_loaded, rows_quarantined, rows_duplicate "
            "from ops.files where extract_date <= :d or extract_date is null order by source, extract_date, delivery_no, file_name"
        ),
        {"d": business_date},
    )
    return [dict(r._mapping) for r in rows]


def quality(engine: sa.Engine, ctx) -> dict:
    d = ctx.date
    with engine.begin() as conn:
        files = visible_files(conn, d)
        bad = [f for f in files if f["status"] == "loaded"
               and f["rows_read"] != f["rows_loaded"] + f["rows_quarantined"] + f["rows_duplicate"]]
        if bad:
            raise RuntimeError(f"row counts do not add up for {[f['file_name'] for f in bad]}")
        newest = dict(conn.execute(sa.text(
            "select source, max(extract_date) from ops.files where status = 'loaded' and extract_date <= :d group by 1"
        ), {"d": d}).all())
        by_reason = dict(conn.execute(sa.text(
            "select q.reason_code, count(*) from ops.quarantine q join ops.files f using (file_id) "
            "where f.extract_date <= :d group by 1 order by 1"), {"d": d}).all())
        quarantine_rows = conn.execute(sa.text(
            "select f.file_name, f.source, q.row_no, q.header, q.value, q.reason, q.reason_code "
            "from ops.quarantine q join ops.files f using (file_id) where f.extract_date <= :d "
            "order by f.file_name, q.row_no, q.column_name"), {"d": d}).all()
    sources = {}
    for name in SOURCES:
        last = newest.get(name)
        stale = last is None or last < d
        sources[name] = {"newest_extract_date": last.isoformat() if last else None, "stale": stale,
                         "affects": DEPENDENT_OUTPUTS[name] if stale else []}
    counts = {s: sum(1 for f in files if f["status"] == s) for s in ("loaded", "rejected", "repeat", "unrecognised", "pending")}
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
        "per_file": [
            {k: (v.isoformat() if isinstance(v, dt.date | dt.datetime) else v) for k, v in f.items()
             if k not in ("arrived_at",)} | {"arrived_at": f["arrived_at"].isoformat() if f["arrived_at"] else None}
            for f in files
        ],
    }
    from .pipeline import record

    record(ctx.run_id, "quality", result)
    write_quarantine_workbook(Path(ctx.output_dir) / "quarantine.xlsx", files, quarantine_rows, ctx)
    return {k: v for k, v in result.items() if k != "per_file"}


def write_quarantine_workbook(path: Path, files: list[dict], rows, ctx) -> None:
    from openpyxl import Workbook

    from .xlsx import finish_sheet

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
    ws3 = wb.create_sheet("说明")
    ws3.append(["业务日期", ctx.business_date])
    ws3.append(["数据截止 (as_of)", ctx.as_of])
    ws3.append(["说明", "隔离行不参与任何规则；同一主键以前的有效行继续有效。整文件拒收的文件见“文件清单”。"])
    from .xlsx import save_workbook

    save_workbook(wb, path)


def late_files(conn: sa.Connection, file_ids: list[int], business_date: dt.date) -> dict | None:
    """Files loaded by this run but dated before its business date (re-deliveries, late extracts):
    every earlier date from the oldest such extract date on would now see other data."""
    if not file_ids:
        return None
    rows = conn.execute(sa.text(
        "select file_name, extract_date from ops.files where file_id = any(:ids) and extract_date < :d order by extract_date, file_name"
    ), {"ids": file_ids, "d": business_date}).all()
    if not rows:
        return None
    first, last = rows[0].extract_date, business_date - dt.timedelta(days=1)
    return {
        "files": [{"file_name": r.file_name, "extract_date": r.extract_date.isoformat()} for r in rows],
        "affected_business_dates": {"from": first.isoformat(), "to": last.isoformat()},
        "backfill_command": (
            f"airflow backfill create --dag-id fieldrecon_nightly --from-date {first.isoformat()}T02:00:00+08:00 "
            f"--to-date {last.isoformat()}T02:00:00+08:00 --reprocess-behavior completed"
        ),
    }


def finish(engine: sa.Engine, ctx) -> dict:
    """Close the run log row and write run_summary.json from everything the steps recorded."""
    with engine.begin() as conn:
        summary = conn.execute(sa.text("select summary from ops.runs where run_id = :r"), {"r": ctx.run_id}).scalar_one()
        findings = dict(conn.execute(sa.text(
            "select rule_code, count(*) from recon.finding_snapshots where business_date = :d group by 1 order by 1"),
            {"d": ctx.date}).all())
        pulled = summary.get("pull", {})
        loads = [f for k, v in summary.items() if k.startswith("load_") for f in v.get("files", [])]
        corrections = late_files(conn, [f["file_id"] for f in loads if f.get("status") in ("loaded", "rejected")], ctx.date)
        out = {
            "business_date": ctx.business_date,
            "as_of": ctx.as_of,
            "run_id": ctx.run_id,
            "files": {
                "seen": sum(len(pulled.get(k, [])) for k in ("new", "known", "repeat", "unrecognised")),
                "new": len(pulled.get("new", [])),
                "already_known": len(pulled.get("known", [])),
                "repeated": len(pulled.get("repeat", [])),
                "unrecognised": len(pulled.get("unrecognised", [])),
                "loaded": sum(1 for f in loads if f.get("status") == "loaded"),
                "rejected": sum(1 for f in loads if f.get("status") == "rejected"),
            },
            "pulled": pulled,
            "loaded_this_run": loads,
            "rejected_files": [f for f in summary.get("quality", {}).get("per_file", []) if f["status"] == "rejected"],
            "unrecognised_files": pulled.get("unrecognised", []),
            "repeated_files": pulled.get("repeat", []),
            **{k: summary.get("quality", {}).get(k) for k in
               ("files_visible", "rows", "quarantine_by_reason", "sources", "stale_outputs", "per_file")},
            "corrections": corrections,
            "findings_by_rule": findings,
            "findings_total": sum(findings.values()),
            "durations_seconds": {k: v.get("seconds") for k, v in summary.items() if isinstance(v, dict) and "seconds" in v},
            "outputs": sorted(p.name for p in Path(ctx.output_dir).glob("*") if not p.name.startswith(".")) + ["run_summary.json"],
        }
        conn.execute(sa.text("update ops.runs set finished_at = now(), status = 'success', summary = summary || cast(:s as jsonb) "
                             "where run_id = :r"), {"s": json.dumps({"final": out}, default=str, ensure_ascii=False), "r": ctx.run_id})
    write_atomic(Path(ctx.output_dir) / "run_summary.json",
                 json.dumps(out, default=str, ensure_ascii=False, indent=2).encode("utf-8"))
    return out
