"""Small openpyxl helpers so every clerks' workbook looks the same: bold frozen header,
autofilter, widths from content, deterministic bytes (fixed document timestamps)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

FIXED_TIME = dt.datetime(2026, 1, 1)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def finish_sheet(ws) -> None:
    if ws.max_row < 1:
        return
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    ws.freeze_panes = "A2"
    if ws.max_column and ws.max_row:
        ws.auto_filter.ref = f"A1:{get_column_letter(ws.max_column)}{ws.max_row}"
    for col in ws.iter_cols(min_row=1, max_row=min(ws.max_row, 500)):
        width = max((_display_width(c.value) for c in col), default=8)
        ws.column_dimensions[get_column_letter(col[0].column)].width = min(max(width + 2, 8), 60)


def _display_width(value) -> int:
    if value is None:
        return 0
    text = str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def deterministic_zip(data: bytes) -> bytes:
    """Same content, same bytes: fixed zip entry times and document timestamps (openpyxl stamps
    the save time), so a rerun or a backfill of a date reproduces its workbooks byte for byte."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>2026-01-01T00:00:00Z\g<3>", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, body)
    return out.getvalue()


def save_workbook(wb, path: Path) -> None:
    from .summary import write_atomic

    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "fieldrecon"
    buf = io.BytesIO()
    wb.save(buf)
    write_atomic(path, deterministic_zip(buf.getvalue()))
