"""What the page reads: pack versions, run files, resident reports and open findings, each for the
user's regions only and through the same filters (区域, PO, 期间, 状态, 规则). Times are shown in
Beijing time to the minute; links are relative to the page (the app may sit behind a URL prefix)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import urllib.parse
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from fieldrecon import labels
from fieldrecon.outputs.packs import list_versions, region_dir
from fieldrecon.outputs.sentences import describe, region_label
from fieldrecon.portal.access import allowed
from fieldrecon.recon.rules import catalogue
from fieldrecon.settings import LOCAL_TZ

PACK_STATUS_ZH = labels.PACK_STATUS
REPORT_STATUS_ZH = labels.REPORT_STATUS
FINDING_STATUS_ZH = labels.FINDING_STATUS
REPORT_KIND_ZH = labels.REPORT_KIND
REPORT_FORMATS = (("pdf", "PDF"), ("html", "HTML"), ("xlsx", "Excel"))


@dataclasses.dataclass(frozen=True)
class Filters:
    """The page's filters; empty = no filter. `period` is `YYYY-MM` or `YYYY-MM-DD`; `rule` a rule
    code or its prefix (`AT-01`, `CH`); each table has its own status vocabulary."""

    region: str = ""
    po: str = ""
    period: str = ""
    rule: str = ""
    pack_status: str = ""
    report_status: str = ""
    finding_status: str = ""

    @classmethod
    def of(cls, **values) -> Filters:
        return cls(**{k: (v or "").strip() for k, v in values.items()})

    def bounds(self) -> tuple[dt.date, dt.date] | None:
        return period_bounds(self.period) if self.period else None

    def rule_matches(self, text: str | None) -> bool:
        return not self.rule or (text or "").upper().startswith(self.rule.upper())

    def po_matches(self, po_no, po_line_no) -> bool:
        return not self.po or (po_no is not None and self.po.upper() in f"{po_no}-{po_line_no}".upper())


def period_bounds(period: str) -> tuple[dt.date, dt.date] | None:
    """`YYYY-MM` → the month, `YYYY-MM-DD` → that day; None when it is neither (matches nothing)."""
    try:
        if len(period) == 7:
            start = dt.date.fromisoformat(period + "-01")
            end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
            return start, end
        day = dt.date.fromisoformat(period)
        return day, day
    except ValueError:
        return None


def _overlaps(f: Filters, start: dt.date | None, end: dt.date | None) -> bool:
    if not f.period:
        return True
    b = f.bounds()
    return b is not None and start is not None and start <= b[1] and (end or start) >= b[0]


def beijing_minute(value) -> str:
    """A timestamp as Beijing time to the minute (`2026-11-03 09:41`); naive values are taken as
    Beijing time already (the warehouse's as_of columns are local)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(LOCAL_TZ))
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# ---------------------------------------------------------------- packs and run files


def pack_list(engine: sa.Engine, regions, f: Filters = Filters()) -> list[dict]:
    with engine.connect() as conn:
        rows = list_versions(conn)
    out = []
    for r in rows:
        if not allowed(regions, r["region"]):
            continue
        reasons = list(r["reasons"] or [])
        if f.region and (r["region"] or "") != f.region:
            continue
        if not f.po_matches(r["po_no"], r["po_line_no"]) or (f.pack_status and r["status"] != f.pack_status):
            continue
        if f.rule and not any(f.rule_matches(x) for x in reasons):
            continue
        start = r["cycle_start"] or r["first_business_date"]
        if not _overlaps(f, start, r["cycle_end"] or start):
            continue
        out.append({
            "pack_key": r["pack_key"], "version": r["version_no"], "version_label": r["version_label"],
            "latest": bool(r["is_latest"]),
            "file_name": r["file_name"], "region": r["region"], "po_no": r["po_no"], "po_line_no": r["po_line_no"],
            "service_type": r["service_type"], "customer_name": r["customer_name"],
            "cycle_start": _iso(r["cycle_start"]), "cycle_end": _iso(r["cycle_end"]),
            "amount": str(r["amount"]) if r["amount"] is not None else None,
            "status": r["status"], "status_zh": PACK_STATUS_ZH.get(r["status"], r["status"]), "reasons": reasons,
            "prepared_on": r["first_business_date"].isoformat(),
            "business_dates": [d.isoformat() for d in r["business_dates"] or []],
            "changes": r["changes"], "sha256": r["zip_sha256"],
            "url": "files/packs/" + urllib.parse.quote(r["zip_path"]),
            "region_dir": region_dir(r["region"]),
        })
    return out


def run_files(store: Path, regions, f: Filters = Filters()) -> list[dict]:
    """The per-region run files of the newest business dates (up to 7)."""
    base = store / "runs"
    if not base.is_dir():
        return []
    folders = None if regions is None else {region_dir(r): r for r in regions}
    out = []
    for day in sorted((p for p in base.iterdir() if p.is_dir()), reverse=True)[:7]:
        try:
            date = dt.date.fromisoformat(day.name)
        except ValueError:
            continue
        if not _overlaps(f, date, date):
            continue
        for region in sorted(p for p in day.iterdir() if p.is_dir()):
            if folders is not None and region.name not in folders:
                continue
            if f.region and region.name != region_dir(f.region):
                continue
            for file in sorted(region.iterdir()):
                if file.is_file() and not file.name.startswith("."):
                    out.append({"business_date": day.name, "region": region.name, "name": file.name,
                                "url": "files/" + urllib.parse.quote(f"runs/{day.name}/{region.name}/{file.name}")})
    return out


# ---------------------------------------------------------------- resident reports


def report_list(engine: sa.Engine, regions, f: Filters = Filters()) -> tuple[dt.date | None, list[dict]]:
    """The resident reports of the newest business date of `mart.resident_reports`. PO and rule
    filters do not apply to reports (a report is per engineer and ticket, not per PO or rule)."""
    with engine.connect() as conn:
        d = conn.execute(sa.text("select max(business_date) from mart.resident_reports")).scalar()
        if d is None:
            return None, []
        rows = conn.execute(sa.text(
            "select report_kind, ticket_no, engineer_id, engineer_name, region, customer_name, period_key, "
            "period_start, period_end, due_date, status, available_on, version_label, "
            "html_path, pdf_path, xlsx_path from mart.resident_reports where business_date = :d "
            "order by region nulls first, period_end desc, report_kind desc, engineer_name, engineer_id, ticket_no"),
            {"d": d}).mappings().all()
    out = []
    for r in rows:
        if not allowed(regions, r["region"]) or (f.region and (r["region"] or "") != f.region):
            continue
        if (f.report_status and r["status"] != f.report_status) or not _overlaps(f, r["period_start"], r["period_end"]):
            continue
        files = {ext: "reports/" + urllib.parse.quote(r[f"{ext}_path"])
                 for ext, _ in REPORT_FORMATS if r[f"{ext}_path"]}
        out.append({
            "report_kind": r["report_kind"], "kind_zh": REPORT_KIND_ZH.get(r["report_kind"], r["report_kind"]),
            "ticket_no": r["ticket_no"], "engineer_id": r["engineer_id"], "engineer_name": r["engineer_name"],
            "region": r["region"], "customer_name": r["customer_name"],
            "period_start": r["period_start"].isoformat(), "period_end": r["period_end"].isoformat(),
            "due_date": r["due_date"].isoformat(), "status": r["status"],
            "status_zh": REPORT_STATUS_ZH.get(r["status"], r["status"]), "version": r["version_label"],
            "available_on": _iso(r["available_on"]), "files": files,
        })
    return d, out


def report_path_allowed(engine: sa.Engine, regions, rel: str) -> bool:
    """Does a report row name `rel` exactly, with a region (newest snapshot naming it) the user may see?"""
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "select region from mart.resident_reports where :p in (html_path, pdf_path, xlsx_path) "
            "order by business_date desc limit 1"), {"p": rel}).first()
    return row is not None and allowed(regions, row[0])


# ---------------------------------------------------------------- findings


def subject_of(r) -> str:
    """What the finding is about, in words a clerk can look up: ticket, PO line, cycle, acceptance,
    RFC, task, engineer, day, month — whichever the rule keys on."""
    parts = [
        r.get("ticket_no") and f"工单 {r['ticket_no']}",
        r.get("po_no") and (f"PO {r['po_no']}-{r['po_line_no']}" if r.get("po_line_no") is not None else f"PO {r['po_no']}"),
        r.get("cycle_start") and f"周期起 {r['cycle_start']}",
        r.get("acceptance_no") and f"验收单 {r['acceptance_no']}",
        r.get("rfc_no") and f"RFC {r['rfc_no']}",
        r.get("task_no") and f"任务 {r['task_no']}",
        r.get("engineer_id") and f"工程师 {r['engineer_id']}",
        r.get("day") and f"日期 {r['day']}",
        r.get("month") and f"月份 {r['month']}",
    ]
    return "　".join(p for p in parts if p) or (r.get("region") and f"区域 {r['region']}") or "全局"


def latest_findings_date(conn) -> dt.date | None:
    return (conn.execute(sa.text("select max(business_date) from packs.pack_runs")).scalar()
            or conn.execute(sa.text("select max(business_date) from recon.finding_snapshots")).scalar())


def findings_list(engine: sa.Engine, regions, business_date: dt.date | None = None,
                  f: Filters = Filters()) -> tuple[dt.date | None, list[dict]]:
    """The open findings of the newest business date (or `business_date`), with their marks."""
    titles = {code: rule.title for code, rule in catalogue().items()}
    with engine.connect() as conn:
        d = business_date or latest_findings_date(conn)
        if d is None:
            return None, []
        # the titles that date's run wrote (its thresholds); the defaults for a date before the table
        titles.update(conn.execute(sa.text("select rule_code, title from recon.rule_catalogue where business_date = :d"),
                                   {"d": d}).all())
        rows = conn.execute(sa.text(
            "select f.finding_id, f.rule_code, f.severity, f.region, f.ticket_no, f.po_no, f.po_line_no, "
            "f.acceptance_no, f.cycle_start, f.engineer_id, f.day, f.rfc_no, f.task_no, f.month, f.details, "
            "f.is_new, k.reason, k.filing_ref, k.marked_by, k.marked_at "
            "from recon.findings_as_of(:d) f left join recon.triage_marks k on k.finding_id = f.finding_id "
            "where f.status = 'open' order by f.is_new desc, f.rule_code, f.region, f.finding_id"), {"d": d}).mappings()
        out = []
        for r in rows:
            r = dict(r)
            if not allowed(regions, r["region"]) or (f.region and (r["region"] or "") != f.region):
                continue
            status = "marked" if r["reason"] is not None else "open"
            if (f.finding_status and status != f.finding_status) or not f.rule_matches(r["rule_code"]):
                continue
            if f.po and not f.po_matches(r["po_no"], r["po_line_no"]):
                continue
            if f.period:
                start = r["day"] or r["cycle_start"] or (r["month"] and dt.date.fromisoformat(r["month"] + "-01"))
                end = (period_bounds(r["month"])[1] if r["month"] and not r["day"] else None) or start
                if not _overlaps(f, start, end):
                    continue
            words = describe(r)
            out.append({
                "finding_id": r["finding_id"], "rule_code": r["rule_code"],
                "title": titles.get(r["rule_code"], r["rule_code"]), "sentence": words["问题说明"],
                "what": words["处理办法"], "system": words["处理系统"], "who": words["责任人"],
                "by_when": words["处理期限"], "severity": r["severity"], "region": r["region"],
                "region_label": region_label(r["region"]), "subject": subject_of(r),
                "ticket_no": r["ticket_no"], "po_no": r["po_no"], "po_line_no": r["po_line_no"],
                "acceptance_no": r["acceptance_no"], "cycle_start": _iso(r["cycle_start"]),
                "engineer_id": r["engineer_id"], "day": _iso(r["day"]), "rfc_no": r["rfc_no"],
                "task_no": r["task_no"], "month": r["month"], "is_new": bool(r["is_new"]),
                "status": status, "status_zh": FINDING_STATUS_ZH[status],
                "reason": r["reason"], "filing_ref": r["filing_ref"], "marked_by": r["marked_by"],
                "marked_at": beijing_minute(r["marked_at"]),
            })
    return d, out


def finding_region(engine: sa.Engine, finding_id: str) -> tuple[bool, str | None]:
    """(known, region) of a finding, from its newest snapshot."""
    with engine.connect() as conn:
        row = conn.execute(sa.text("select region from recon.finding_snapshots where finding_id = :f "
                                   "order by business_date desc limit 1"), {"f": finding_id}).first()
    return (row is not None, row[0] if row is not None else None)
