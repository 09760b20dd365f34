"""Demo extracts generator: a realistic landing folder plus the findings the rules must produce.

``generate(landing_dir)`` writes extract files for all ten sources of ``shared/spec/extracts.md``
into ``landing_dir`` and returns a manifest (JSON-serialisable) describing every file written and
the exact set of findings the rulebook yields for business date ``end_date``.

The base data is clean (no rule fires); then 1-3 violations of every rule code are injected
(:mod:`fieldrecon_demo.inject`). Same arguments -> byte-identical files.

Extract schedule: every source has one extract every 7 days ending at ``end_date``; each holds the
rows created or changed in the last 10 days (the first one: everything up to its date), so keys repeat
across files and later files carry later states.

Manifest (JSON-serialisable)::

    end_date, business_date, as_of, data_start, extract_dates, window_days, cadence_days, seed, ...
    files: [{name, source, kind, rows, quarantined, duplicates, extract_date, format, encoding,
             title_row, sheets, extra_column, ...}]
        kind: extract | repeat | redelivery | unrecognised | rejected
        rows: data rows below the header (title / blank rows not counted)
        quarantined: injected bad rows; duplicates: extra copies of exact duplicate rows, so that
        rows = loaded + quarantined + duplicates (a same-key pair counts as two loaded rows,
        see same_key_conflicts / conflict_key). A repeat carries the counts of the file it copies
        (repeat_of); a superseded first delivery names its re-delivery (superseded_by). Rejected
        and unrecognised files load nothing (source is null for unrecognised ones).
    expected_findings: [{rule_code, ticket_no, engineer_id, day, rfc_no, task_no, po_no, po_line_no,
                         cycle_start, acceptance_no, month, region}]  (business date end_date)
    expected_counts: findings per rule code; injections: what was injected, per rule code
    calendar_unknown_years: years a working-day rule may need that chinesecalendar lacks
        (then CAL-01 would also fire; it is not listed in expected_findings)
    clerk_states: where each state a clerk meets is shown — blocked_packs (po_no, po_line_no, region,
        blocked_by: the findings that block it; the second is blocked by one PD-01, which the
        walk-through marks explained), rejected_cycle, stale_sources (sources whose newest extract
        is older than the end date), quarantined_rows. An explained finding is a clerk's mark on the
        download page (recon.triage_marks), never an extract: see the README's clerks' section.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path

from . import contract
from .inject import Injector
from .model import DAY, calendar_knows, month_end, nth_workday_after
from .world import World
from .writer import Writer

__all__ = ["generate", "write_manifest"]


def generate(landing_dir: Path, *, seed: int = 7, engineers: int = 40, months: int = 3,
             end_date: date = date(2026, 11, 20), formats: str = "mixed") -> dict:
    """Write demo extracts into landing_dir; return the manifest.

    formats: ``"mixed"`` (xlsx and csv, default) or ``"csv"`` (csv only, for big sizes: faster).
    Files already in landing_dir with other names are left alone; keep the folder empty.
    """
    landing = Path(landing_dir)
    world = World(seed, engineers, months, end_date)
    world.build()
    inj = Injector(world)
    inj.run()
    world.number_rfcs()
    world.finish_ticket_lines()
    world.build_acceptances()
    inj.run_acceptances()
    world.finish()
    writer = Writer(world, landing, formats)
    files = writer.write_all()
    findings = inj.findings()
    as_of = datetime.combine(end_date + DAY, datetime.min.time())
    # the latest working-day deadline a rule can need for this business date: RA-06 for the
    # business date's month (5th working day after its last day)
    latest = nth_workday_after(month_end(end_date), 5)
    unknown_years = [y for y in range(world.start.year, latest.year + 1) if not calendar_knows(date(y, 6, 1))]
    return {
        "generator": "fieldrecon_demo",
        "seed": seed,
        "engineers": engineers,
        "months": months,
        "formats": formats,
        "end_date": end_date.isoformat(),
        "business_date": end_date.isoformat(),
        "as_of": as_of.isoformat(timespec="seconds"),
        "data_start": world.start.isoformat(),
        "extract_dates": [d.isoformat() for d in world.extract_dates],
        "window_days": world.window_days,
        "cadence_days": world.cadence_days,
        "sources": list(contract.SOURCES),
        "files": files,
        "expected_findings": findings,
        "expected_counts": dict(sorted(Counter(f["rule_code"] for f in findings).items())),
        "injections": inj.notes,
        "calendar_unknown_years": unknown_years,
        "clerk_states": {
            **inj.clerk_states(),
            "stale_sources": writer.stale_sources,
            "quarantined_rows": sum(f["quarantined"] for f in files if f["kind"] in ("extract", "redelivery")),
        },
        "entities": {
            "engineers": len(world.engineers), "tickets": len(world.tickets),
            "punches": sum(len(v.punches) for v in world.visits), "timesheet_entries": len(world.entries),
            "attendance_rows": len(world.attendance), "attachments": len(world.attachments),
            "po_lines": len(world.lines), "acceptances": len(world.acceptances), "rfcs": len(world.rfcs),
            "rfc_tasks": sum(len(r.tasks) for r in world.rfcs),
        },
    }


def write_manifest(manifest: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
