"""Small openpyxl helpers so every clerks' workbook looks the same: bold frozen header,
autofilter, widths from content, deterministic bytes (fixed document timestamps)."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from fieldrecon.outputs.files import FIXED_TIME, deterministic_zip, write_atomic

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


def save_workbook(wb, path: Path) -> None:
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "fieldrecon"
    buf = io.BytesIO()
    wb.save(buf)
    write_atomic(path, deterministic_zip(buf.getvalue()))
