"""Reading one extract file into raw text columns: names, encodings, header-row detection.

Whatever the format, the result is the header row found, the raw cell text of every data row
(as received, Excel cells rendered as text: datetimes to the second, integral numbers without
`.0`), and the sheets that were ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from fieldrecon.contract import SOURCES, Source

NAME_RE = re.compile(r"^(?P<source>[a-z_]+?)_(?P<date>\d{8})(?:_(?P<n>\d+))?\.(?P<ext>xlsx|csv)$")
HEADER_SCAN_ROWS = 30


class UnrecognisedFile(Exception):
    """The file name or format does not fit the contract."""


class RejectedFile(Exception):
    """The file is recognised but cannot be loaded at all (unreadable, missing required headers)."""


@dataclass
class ExtractName:
    source: str
    extract_date: dt.date
    delivery_no: int
    ext: str


def parse_name(file_name: str) -> ExtractName:
    m = NAME_RE.match(file_name)
    if not m:
        raise UnrecognisedFile(f"文件名不符合命名规则 <来源>_<YYYYMMDD>[_<n>].xlsx|csv：{file_name}")
    if m["source"] not in SOURCES:
        raise UnrecognisedFile(f"未知的数据来源 {m['source']}：{file_name}")
    try:
        day = dt.datetime.strptime(m["date"], "%Y%m%d").date()
    except ValueError as e:
        raise UnrecognisedFile(f"文件名中的日期无效 {m['date']}：{file_name}") from e
    n = int(m["n"]) if m["n"] else 1
    return ExtractName(m["source"], day, n, m["ext"])


@dataclass
class RawTable:
    header_row: int  # 1-based row number of the header in the file
    headers: list[str]  # normalised header texts, in file order
    columns: list[pa.Array]  # raw cell text per header, one entry per data row
    row_numbers: pa.Array  # 1-based row number in the file of each data row
    ignored_sheets: list[str] = field(default_factory=list)
    malformed_rows: list[tuple[int, str]] = field(default_factory=list)  # csv rows with wrong field count


def _norm_header(value) -> str:
    return unicodedata.normalize("NFKC", str(value)).strip() if value is not None else ""


def _find_header(rows: list[list], source: Source, file_name: str) -> int:
    required = set(source.required_headers)
    best, best_missing = None, None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        cells = {_norm_header(c) for c in row}
        missing = required - cells
        if not missing:
            return i
        hits = len(required) - len(missing)
        if hits and (best is None or len(missing) < len(best_missing)):
            best, best_missing = i, missing
    if best_missing:
        names = "、".join(h for h in source.required_headers if h in best_missing)
        raise RejectedFile(f"文件 {file_name} 缺少必填列：{names}（表头在第 {best + 1} 行）")
    raise RejectedFile(f"文件 {file_name} 找不到表头行：前 {HEADER_SCAN_ROWS} 行中没有必填列 {'、'.join(sorted(required))}")


def _utf8_body(data: bytes, file_name: str) -> tuple[bytes, str]:
    """The file as UTF-8 bytes (BOM dropped; GB18030/GBK transcoded) and its decoded head."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
        return data, data[: 1 << 16].decode("utf-8", errors="ignore")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as e:
        raise RejectedFile(f"文件 {file_name} 无法识别编码（应为 UTF-8 或 GBK/GB18030）") from e
    return text.encode("utf-8"), text[: 1 << 16]


def read_csv(path: Path, source: Source, file_name: str) -> RawTable:
    body, head = _utf8_body(path.read_bytes(), file_name)
    head_lines = head.splitlines()[:HEADER_SCAN_ROWS]
    head_rows = list(csv.reader(head_lines))
    h = _find_header(head_rows, source, file_name)
    # drop the lines above the header ourselves (csv.reader gave one row per physical line there)
    body_start = 0
    for _ in range(h):
        body_start = body.index(b"\n", body_start) + 1
    malformed: list[tuple[int, str]] = []

    def on_invalid(row):
        malformed.append((row.number, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(memoryview(body)[body_start:]),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(len(head_rows[h]))},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as e:
        raise RejectedFile(f"文件 {file_name} 无法读取：{e}") from e
    table = table.cast(pa.schema([pa.field(n, pa.string()) for n in table.column_names]))
    headers = [_norm_header(v) for v in table.slice(0, 1).to_pylist()[0].values()] if table.num_rows else []
    data = table.slice(1)
    # File row numbers (1-based): the header is row h + 1; data rows follow it. Rows pyarrow
    # skipped as malformed keep their own numbers and shift the ones after them.
    first = h + 2
    skipped = np.array(sorted(n + h for n, _ in malformed if n > 0), dtype="int64")
    candidates = np.arange(first, first + data.num_rows + len(skipped), dtype="int64")
    numbers = candidates[~np.isin(candidates, skipped)][: data.num_rows]
    malformed = [(n + h, t) for n, t in malformed]
    return RawTable(h + 1, headers, [data.column(i).combine_chunks() for i in range(len(headers))],
                    pa.array(numbers, type=pa.int32()), [], malformed)


def _cell_text(v):
    if v is None or v == "":
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, dt.datetime):
        if v.microsecond:
            v = (v + dt.timedelta(microseconds=500_000)).replace(microsecond=0)
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M:%S")
    if isinstance(v, dt.timedelta):
        secs = round(v.total_seconds())
        return f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
    return str(v)


def read_xlsx(path: Path, source: Source, file_name: str) -> RawTable:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as e:  # calamine raises its own error types for broken files
        raise RejectedFile(f"文件 {file_name} 无法读取（xlsx 损坏或加密）：{e}") from e
    h = _find_header(rows, source, file_name)
    headers = [_norm_header(c) for c in rows[h]]
    while headers and headers[-1] == "":
        headers.pop()
    width = len(headers)
    body = rows[h + 1 :]
    keep = [i for i, r in enumerate(body) if any(c not in (None, "") for c in r)]
    cols = []
    for j in range(width):
        cols.append(pa.array([_cell_text(body[i][j]) if j < len(body[i]) else None for i in keep], type=pa.string()))
    row_numbers = pa.array([h + 2 + i for i in keep], type=pa.int32())
    return RawTable(h + 1, headers, cols, row_numbers, list(names[1:]))


def read_extract(path: Path, file_name: str) -> tuple[ExtractName, RawTable]:
    name = parse_name(file_name)
    source = SOURCES[name.source]
    if name.ext == "csv":
        return name, read_csv(path, source, file_name)
    return name, read_xlsx(path, source, file_name)
