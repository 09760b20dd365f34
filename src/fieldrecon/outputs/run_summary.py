"""The run summary (run_summary.json), built from everything the steps recorded in ops.runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa

from fieldrecon.outputs.files import mask_phones, mask_text_file, publish_folder, write_atomic


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


def publish(ctx, staged: Path, target: Path) -> None:
    """Publish the run's staging folder as the date's outputs. A step of this run re-run after an
    earlier publish (an Airflow task cleared) staged only its own files: the rest of this run's
    outputs are taken over from the published folder, which this same run wrote."""
    import shutil

    marker = target / "run_summary.json"
    if target.is_dir() and marker.is_file() and json.loads(marker.read_text("utf-8")).get("run_id") == ctx.run_id:
        for p in target.rglob("*"):
            dest = staged / p.relative_to(target)
            if p.is_file() and not dest.exists():
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(p, dest)
    for p in staged.rglob("*"):  # files written by other tools (GX Data Docs) hold no mobile number either
        if p.is_file():
            body = p.read_bytes()
            masked = mask_text_file(p.name, body)
            if masked != body:
                p.write_bytes(masked)
    publish_folder(staged, target)


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
                "refused": len(pulled.get("refused", [])),
                "loaded": sum(1 for f in loads if f.get("status") == "loaded"),
                "rejected": sum(1 for f in loads if f.get("status") == "rejected"),
            },
            "pulled": pulled,
            "loaded_this_run": loads,
            "rejected_files": [f for f in summary.get("quality", {}).get("per_file", []) if f["status"] == "rejected"],
            "unrecognised_files": pulled.get("unrecognised", []),
            "repeated_files": pulled.get("repeat", []),
            **{k: summary.get("quality", {}).get(k) for k in
               ("files_visible", "rows", "quarantine_by_reason", "sources", "stale_outputs", "warnings", "refused_entries",
                "great_expectations", "per_file")},
            "data_docs": (summary.get("quality", {}).get("great_expectations") or {}).get("data_docs"),
            "corrections": corrections,
            "findings_by_rule": findings,
            "findings_total": sum(findings.values()),
            "durations_seconds": {k: v.get("seconds") for k, v in summary.items() if isinstance(v, dict) and "seconds" in v},
            "outputs": sorted(p.name for p in Path(ctx.output_dir).glob("*") if not p.name.startswith(".")) + ["run_summary.json"],
        }
        conn.execute(sa.text("update ops.runs set finished_at = now(), status = 'success', summary = summary || cast(:s as jsonb) "
                             "where run_id = :r"), {"s": json.dumps({"final": out}, default=str, ensure_ascii=False), "r": ctx.run_id})
    write_atomic(Path(ctx.output_dir) / "run_summary.json",
                 mask_phones(json.dumps(out, default=str, ensure_ascii=False, indent=2)).encode("utf-8"))
    if getattr(ctx, "publish_dir", None) and ctx.publish_dir != ctx.output_dir:
        publish(ctx, Path(ctx.output_dir), Path(ctx.publish_dir))
    return out
