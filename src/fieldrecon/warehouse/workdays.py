"""The working-day calendar table: the State Council schedule from `chinesecalendar` for the
years it knows, extended by an operators' file (include/calendar/extra_days.csv: day,is_working)
for later years. Days in neither fall back to Mon–Fri inside the SQL functions (CAL-01)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from fieldrecon import settings


def chinese_calendar_days() -> list[tuple[dt.date, bool]]:
    import chinese_calendar

    days = []
    years = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    for year in years:
        d = dt.date(year, 1, 1)
        while d.year == year:
            days.append((d, chinese_calendar.is_workday(d)))
            d += dt.timedelta(days=1)
    return days


def file_days(path: Path) -> list[tuple[dt.date, bool]]:
    """Operator-maintained days: `day,is_working` (YYYY-MM-DD, 1/0 or true/false); a whole year must be listed."""
    if not path.exists():
        return []
    out = []
    with path.open(encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            out.append((dt.date.fromisoformat(row["day"].strip()), row["is_working"].strip().lower() in ("1", "true", "是")))
    return out


def refresh(engine: sa.Engine, extra_file: Path | None = None) -> dict[str, int]:
    """Rewrite the calendar table; the operators' file wins over the package for the days it lists."""
    rows = {d: (w, "chinesecalendar") for d, w in chinese_calendar_days()}
    for d, w in file_days(extra_file or settings.calendar_file()):
        rows[d] = (w, "calendar_file")
    with engine.begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(724003)"))
        conn.execute(sa.text("create temp table new_days (day date, is_working boolean, source text) on commit drop"))
        conn.execute(
            sa.text("insert into new_days values (:d, :w, :s)"),
            [{"d": d, "w": w, "s": s} for d, (w, s) in sorted(rows.items())],
        )
        conn.execute(sa.text(
            "insert into ops.calendar_days select * from new_days on conflict (day) do update "
            "set is_working = excluded.is_working, source = excluded.source "
            "where (ops.calendar_days.is_working, ops.calendar_days.source) is distinct from (excluded.is_working, excluded.source)"
        ))
    return {"days": len(rows), "years": len({d.year for d in rows})}
