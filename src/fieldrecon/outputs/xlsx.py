"""Small openpyxl helpers so every clerks' workbook looks the same: bold frozen header,
autofilter, widths from content, deterministic bytes (fixed document timestamps) and safe cells
(`files.safe_cell`: no formula, no character a workbook cannot hold, no mobile number).

Writers make workbooks with this module's `Workbook` (its sheets make every appended value safe, so
a hostile value cannot crash `append`) and write them with `save_workbook` / `workbook_bytes`, which
pass every cell of every sheet — loaded workbooks included — through `safe_cell` once more."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fieldrecon.outputs.files import FIXED_TIME, deterministic_zip, safe_cell, write_atomic

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


class SafeWorksheet(Worksheet):
    """A sheet whose `append` makes every value safe before openpyxl sees it."""

    def append(self, iterable):
        if isinstance(iterable, dict):
            return super().append({k: safe_cell(v) for k, v in iterable.items()})
        return super().append([safe_cell(v) for v in iterable])


class Workbook(openpyxl.Workbook):
    """openpyxl's Workbook with SafeWorksheet sheets (the first one included)."""

    def __init__(self):
        super().__init__()
        self._sheets = [SafeWorksheet(self)]

    def create_sheet(self, title=None, index=None):
        ws = SafeWorksheet(parent=self, title=title)
        self._add_sheet(sheet=ws, index=index)
        return ws


def make_cells_safe(wb) -> None:
    """Every text cell of every sheet through safe_cell; a formula cell becomes its text."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str | int) and not isinstance(value, bool):
                    safe = safe_cell(value)
                    if safe != value or cell.data_type == "f":
                        cell.value = safe if safe != value else "'" + value
                        cell.data_type = "s" if isinstance(cell.value, str) else cell.data_type


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


def workbook_bytes(wb) -> bytes:
    """The workbook's bytes: safe cells, fixed document properties, deterministic zip."""
    make_cells_safe(wb)
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    wb.properties.creator = "fieldrecon"
    buf = io.BytesIO()
    wb.save(buf)
    return deterministic_zip(buf.getvalue())


def save_workbook(wb, path: Path) -> None:
    write_atomic(path, workbook_bytes(wb))
