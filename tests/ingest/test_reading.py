"""File names, encodings, header-row detection below title rows, xlsx cell rendering."""

import datetime as dt

import openpyxl
import pytest

from fieldrecon.ingest import reading

pytestmark = pytest.mark.unit


def test_names():
    n = reading.parse_name("timesheet_entries_20261103_2.csv")
    assert (n.source, n.extract_date, n.delivery_no, n.ext) == ("timesheet_entries", dt.date(2026, 11, 3), 2, "csv")
    assert reading.parse_name("netcare_punches_20261103.xlsx").delivery_no == 1
    for bad in ["netcare_punches_20261103.xls", "unknown_source_20261103.csv", "netcare_punches.csv", "netcare_punches_20261332.csv"]:
        with pytest.raises(reading.UnrecognisedFile):
            reading.parse_name(bad)


HEADERS = ["工号", "姓名", "区域", "手机号"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_and_title_rows(tmp_path, encoding):
    p = tmp_path / "timesheet_engineers_20261103.csv"
    p.write_text("工时系统 人员导出 2026-11-03\n\n" + ",".join(HEADERS) + "\nE001,张三,浙江,13800000000\n", encoding=encoding)
    name, t = reading.read_extract(p, p.name)
    assert t.headers == HEADERS
    assert [c.to_pylist() for c in t.columns] == [["E001"], ["张三"], ["浙江"], ["13800000000"]]
    assert t.row_numbers.to_pylist() == [4]


def test_missing_required_header_rejects_whole_file_naming_it(tmp_path):
    p = tmp_path / "timesheet_engineers_20261103.csv"
    p.write_text("工号,姓名,手机号\nE001,张三,1\n", encoding="utf-8")
    with pytest.raises(reading.RejectedFile, match="缺少必填列：区域"):
        reading.read_extract(p, p.name)


def test_xlsx_title_rows_cells_and_ignored_sheets(tmp_path):
    p = tmp_path / "netcare_punches_20261103.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["NetCare 打卡记录导出 2026-11-03"])
    ws.append([])
    ws.append(["打卡时间", "打卡记录ID", "工单号", "工号", "打卡类型", "经度"])
    ws.append([dt.datetime(2026, 11, 3, 9, 12), "P1", "WO1", 12345, "到达", 120.5])
    ws.append([46329.5, "P2", "WO1", "E2", "离场", None])
    wb.create_sheet("说明")
    wb.save(p)
    _, t = reading.read_extract(p, p.name)
    assert t.header_row == 3
    cols = dict(zip(t.headers, [c.to_pylist() for c in t.columns], strict=True))
    assert cols["打卡时间"] == ["2026-11-03 09:12:00", "46329.5"]
    assert cols["工号"] == ["12345", "E2"]
    assert cols["经度"] == ["120.5", None]
    assert t.row_numbers.to_pylist() == [4, 5]
    assert t.ignored_sheets == ["说明"]


def test_csv_rows_keep_their_numbers_around_blank_lines_quoted_newlines_and_malformed_rows(tmp_path):
    p = tmp_path / "timesheet_engineers_20261103.csv"
    p.write_bytes("工号,姓名,区域\nE1,\"张\n三\",浙江\n\nE2,李四\nE3,王五,上海\n".encode())
    _, t = reading.read_extract(p, p.name)
    assert t.row_numbers.to_pylist() == [2, 5] and [c.to_pylist() for c in t.columns][0] == ["E1", "E3"]
    [m] = t.malformed_rows
    assert (m.row_no, m.fields, m.text) == (4, ["E2", "李四"], "E2,李四")


def test_one_stray_latin1_byte_keeps_a_utf8_file_and_names_the_row(tmp_path):
    p = tmp_path / "timesheet_engineers_20261103.csv"
    p.write_bytes("工号,姓名,区域\nE1,张三,浙江\n".encode() + b"E2,Jos\xe9,\xe4\n" + "E3,王五,上海\n".encode())
    _, t = reading.read_extract(p, p.name)
    assert t.columns[1].to_pylist() == ["张三", "Jos\ufffd", "王五"]
    [note] = t.notes
    assert note.code == "bad_bytes_replaced" and note.rows == [3] and "UTF-8" in note.message


def test_gbk_file_is_still_gbk(tmp_path):
    p = tmp_path / "timesheet_engineers_20261103.csv"
    p.write_bytes("工号,姓名,区域\nE1,张三,浙江\n".encode("gbk"))
    _, t = reading.read_extract(p, p.name)
    assert t.columns[1].to_pylist() == ["张三"] and not t.notes


def test_xlsx_column_without_header_is_kept(tmp_path):
    p = tmp_path / "timesheet_engineers_20261103.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["工号", "姓名", "区域"])
    ws.append(["E1", "张三", "浙江", None, "备注"])
    wb.save(p)
    _, t = reading.read_extract(p, p.name)
    assert t.headers == ["工号", "姓名", "区域", "", ""]
    assert [c.to_pylist() for c in t.columns][3:] == [[None], ["备注"]]
