"""Small openpyxl helpers so every clerks' workbook looks the same: bold frozen header,
autofilter, widths from content, deterministic bytes (fixed document timestamps) and safe cells
(`files.safe_cell`: no formula, no character a workbook cannot hold, no mobile number).

Writers make workbooks with this module's `Workbook` (its sheets make every appended value safe, so
a hostile value cannot crash `append`) and write them with `save_workbook` / `workbook_bytes`, which
pass every cell of every sheet — loaded workbooks included — through `safe_cell` once more."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fieldrecon.outputs.files import FIXED_TIME, FIXED_XML_TIME, deterministic_zip, safe_cell, write_atomic, zip_archive

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


# ---------------------------------------------------------------- fast writer (per-document workbooks)

_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RNS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_EPOCH = dt.datetime(1899, 12, 30)
_XML_ESCAPE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
# styles: 0 plain, 1 header (bold, filled), 2 date, 3 date and time, 4 time of day, 5 percent (0.00%)
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_NS}"><numFmts count="3"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/><numFmt numFmtId="166" formatCode="hh:mm"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="3"><fill><patternFill/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="00{HEADER_FILL.fgColor.rgb[-6:]}"/><bgColor indexed="64"/></patternFill></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="6"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1"><alignment vertical="center"/></xf><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


def _column(n: int) -> str:
    return get_column_letter(n)


def _cell_xml(ref: str, value, header: bool, percent: bool = False) -> str:
    value = safe_cell(value)
    if value is None or value == "":
        return f'<c r="{ref}" s="1"/>' if header else ""
    style = ' s="1"' if header else ' s="5"' if percent else ""
    if isinstance(value, bool):
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float | Decimal) and math.isfinite(value):
        return f'<c r="{ref}"{style}><v>{value}</v></c>'
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        serial = (value - _EPOCH) / dt.timedelta(days=1)
        return f'<c r="{ref}" s="3"><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="2"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return f'<c r="{ref}" s="4"><v>{seconds / 86400!r}</v></c>'
    text = str(value).translate(_XML_ESCAPE)
    return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _sheet_xml(header: Sequence, rows: Sequence[Sequence], percent_cols: frozenset = frozenset()) -> str:
    n_cols = max([len(header), *(len(r) for r in rows)], default=0) or 1
    n_rows = 1 + len(rows)
    last = f"{_column(n_cols)}{n_rows}"
    widths = []
    for j in range(n_cols):
        sample = [header[j] if j < len(header) else None] + [r[j] if j < len(r) else None for r in rows[:499]]
        width = max((_display_width(safe_cell(v)) for v in sample), default=8)
        widths.append(min(max(width + 2, 8), 60))
    out = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_NS}" xmlns:r="{_RNS}">',
           f'<dimension ref="A1:{last}"/>',
           '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
           'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>',
           '<sheetFormatPr defaultRowHeight="15"/><cols>']
    out += [f'<col min="{j}" max="{j}" width="{w}" customWidth="1"/>' for j, w in enumerate(widths, 1)]
    out.append("</cols><sheetData>")
    letters = [_column(j) for j in range(1, n_cols + 1)]
    for i, row in enumerate([header, *rows], 1):
        cells = "".join(_cell_xml(f"{letters[j]}{i}", v, i == 1, j in percent_cols) for j, v in enumerate(row))
        out.append(f'<row r="{i}">{cells}</row>')
    out.append(f'</sheetData><autoFilter ref="A1:{last}"/>'
               '<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>')
    return "".join(out)


def table_workbook(sheets: Sequence[tuple]) -> bytes:
    """A workbook of plain tables, written directly as XML: the per-document annexes (hundreds a
    night) at a fraction of openpyxl's cost. Each sheet: (title, header, rows[, percent columns
    (0-based indexes shown as 0.00%)]); the same look as
    `finish_sheet` (bold filled header, frozen first row, autofilter, widths from content), every cell
    through `safe_cell`, dates and times as Excel dates, fixed timestamps: same tables, same bytes."""
    titles = [str(sheet[0])[:31] for sheet in sheets]
    sheet_entries = "".join(f'<sheet name="{t.translate(_XML_ESCAPE)}" sheetId="{i}" r:id="rId{i}"/>'
                            for i, t in enumerate(titles, 1))
    defined = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"'{t.translate(_XML_ESCAPE)}'!$A$1:${_column(max(len(h), 1))}${1 + len(r)}</definedName>"
        for i, (t, (_, h, r, *_)) in enumerate(zip(titles, sheets, strict=True)))
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.styles+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.'
            'openxmlformats-package.core-properties+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-'
                      f'officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, len(sheets) + 1))
            + "</Types>"),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
            '.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" '
            'Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/></Relationships>'),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties xmlns:cp="http://schemas.'
            'openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:creator>fieldrecon</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{FIXED_XML_TIME}'
            f'</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{FIXED_XML_TIME}</dcterms:modified>'
            '</cp:coreProperties>'),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{_NS}" xmlns:r="{_RNS}">'
            f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheet_entries}</sheets>'
            f'<definedNames>{defined}</definedNames></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="{_RNS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, len(sheets) + 1))
            + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_RNS}/styles" Target="styles.xml"/></Relationships>'),
        "xl/styles.xml": _STYLES,
    }
    for i, (_, header, rows, *percent) in enumerate(sheets, 1):
        files[f"xl/worksheets/sheet{i}.xml"] = _sheet_xml(list(header), [list(r) for r in rows],
                                                          frozenset(percent[0]) if percent else frozenset())
    # cells are safe already (safe_cell); the parts stay in the order a workbook lists them
    return zip_archive({name: body.encode("utf-8") for name, body in files.items()}, in_order=True, compresslevel=1,
                       mask=False)
