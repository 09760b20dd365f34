"""Safe cells (files.safe_cell) and where they are applied centrally: bom_csv, the xlsx Workbook
and workbook_bytes, and the log-record masking."""

from __future__ import annotations

import csv
import io
import logging

import openpyxl
import pytest

from fieldrecon.outputs.files import CELL_LIMIT, PhoneMaskingFilter, bom_csv, install_log_masking, mask_phones, safe_cell
from fieldrecon.outputs.xlsx import Workbook, workbook_bytes

pytestmark = pytest.mark.unit

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize("value, expected", [
    ('=HYPERLINK("http://evil.example/","客户")', '\'=HYPERLINK("http://evil.example/","客户")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-1+A1", "'-1+A1"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("-3.5", "-3.5"),          # a plain number in text is that number, not a formula
    ("+12", "+12"),
    ("APP\x07", "APP\u2407"),
    ("上海\x08", "上海\u2408"),
    ("WO\x1f01", "WO\u241f01"),
    ("a\x00b\x0bc\x7f", "a\u2400b\u240bc\u2421"),
    ("line\nnext", "line\nnext"),
    ("联系13912345678转", "联系139****5678转"),
    ("+86 13912345678", "139****5678"),
    ("PO4500139123456789", "PO4500139123456789"),  # inside a longer number: not a mobile number
    (13912345678, "139****5678"),
    (42, 42), (-3, -3), (1.5, 1.5), (None, None), (True, True),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected
    assert safe_cell(safe_cell(value)) == safe_cell(value)  # idempotent: files read back and rewritten


def test_long_text_is_cut_with_a_visible_marker():
    out = safe_cell("=" + "x" * 100_000)
    assert len(out) == CELL_LIMIT and out.startswith("'=") and "已截断" in out and "100001" in out


def test_csv_cells_are_safe_and_numbers_stay():
    body = bom_csv(["h", "=h"], [["=1+1", "13800138000", 7, "-2", "a\x07"]])
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["h", "'=h"], ["'=1+1", "138****8000", "7", "-2", "a\u2407"]]


def test_workbook_takes_hostile_values_and_writes_no_formula():
    wb = Workbook()
    ws = wb.active
    ws.append(["=HYPERLINK(\"x\")", "上海\x08", 5, -2.5, "13912345678", "x" * 40_000])
    ws2 = wb.create_sheet("二")
    ws2.append({"A": "@x", "B": 13912345678})
    ws2["C1"] = "=SUM(A1:A2)"  # a cell set directly, bypassing append, is made safe on save
    back = openpyxl.load_workbook(io.BytesIO(workbook_bytes(wb)))
    cells = [c for s in back.worksheets for row in s.iter_rows() for c in row]
    assert [c.value for c in back.worksheets[0][1]][2:4] == [5, -2.5]
    for c in cells:
        assert c.data_type != "f", c.coordinate
        if isinstance(c.value, str):
            assert not c.value.startswith(FORMULA_START) and mask_phones(c.value) == c.value
            assert len(c.value) <= CELL_LIMIT


def test_loaded_workbook_with_formulas_is_made_safe():
    raw = openpyxl.Workbook()
    raw.active.append(["=1+1", "ok"])
    buf = io.BytesIO()
    raw.save(buf)
    back = openpyxl.load_workbook(io.BytesIO(workbook_bytes(openpyxl.load_workbook(buf))))
    assert [(c.value, c.data_type) for c in back.active[1]] == [("'=1+1", "s"), ("ok", "s")]


def test_log_records_are_masked(caplog):
    install_log_masking()
    log = logging.getLogger("fieldrecon.test_safe_cells")
    with caplog.at_level(logging.INFO):
        log.info("value %s in row %d", "13912345678", 3)
        try:
            raise ValueError("bad phone 13700001111")
        except ValueError:
            log.exception("failed")
    text = caplog.text
    assert "139****5678" in text and "137****1111" in text
    assert "13912345678" not in text and "13700001111" not in text


def test_filter_masks_records_made_elsewhere():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "call %s", ("15912345678",), None)
    assert PhoneMaskingFilter().filter(record) and record.getMessage() == "call 159****5678"
