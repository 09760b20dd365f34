"""Reading one extract file into raw text columns: names, encodings, header-row detection.

Whatever the format, the result is the header row found, the raw cell text of every data row
(as received, Excel cells rendered as text: datetimes to the second, integral numbers without
`.0`), the sheets that were ignored, rows with the wrong number of fields (kept whole) and notes
on what had to be repaired to read the file (NUL bytes, undecodable bytes, duplicated headers).
A file that cannot be read at all raises RejectedFile with a Chinese reason naming the row or
byte offset; nothing else escapes from here for a bad file.

The loader streams a file (`open_extract`: blocks of rows, a clean UTF-8 CSV read from disk by
pyarrow's streaming reader, an xlsx row by row from calamine); `read_extract` puts the blocks
together for small files and tests. A CSV with NUL bytes or bytes that are not UTF-8 is repaired
in memory first (the repair names the rows), so only such files are held whole.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from fieldrecon.contract import SOURCES, Source

NAME_RE = re.compile(r"^(?P<source>[a-z_]+?)_(?P<date>\d{8})(?:_(?P<n>\d+))?\.(?P<ext>xlsx|csv)$")
HEADER_SCAN_ROWS = 30
NOTE_ROWS = 20  # rows named per note; the count says how many there were in all
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


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
class Note:
    """Something repaired or noticed while reading: a warning for the run summary, never silent."""

    code: str  # nul_replaced | bad_bytes_replaced | duplicate_header | unnamed_column
    message: str  # Chinese, naming file, rows and columns
    rows: list[int] = field(default_factory=list)
    count: int = 0

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "rows": self.rows[:NOTE_ROWS], "count": self.count}


@dataclass
class MalformedRow:
    row_no: int
    fields: list[str]  # as many fields as the row had
    text: str  # the row as received (fields joined back with commas)


@dataclass
class RawTable:
    header_row: int  # 1-based row number of the header in the file
    headers: list[str]  # normalised header texts, in file order ("" for an empty header)
    columns: list[pa.Array]  # raw cell text per header, one entry per data row
    row_numbers: pa.Array  # 1-based row number in the file of each data row
    ignored_sheets: list[str] = field(default_factory=list)
    malformed_rows: list[MalformedRow] = field(default_factory=list)  # csv rows with wrong field count
    notes: list[Note] = field(default_factory=list)


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


def _line_of(data: bytes, offsets: list[int]) -> list[int]:
    """1-based physical line of each byte offset (offsets ascending)."""
    lines, pos, line = [], 0, 1
    for off in offsets:
        line += data.count(b"\n", pos, off)
        pos = off
        lines.append(line)
    return lines


class _Recorder:
    """A codec error handler that replaces undecodable bytes with U+FFFD and remembers where."""

    def __init__(self):
        self.offsets: list[int] = []

    def __call__(self, err: UnicodeDecodeError):
        self.offsets.append(err.start)
        return "\ufffd", err.end


def _decode(data: bytes, encoding: str) -> tuple[str, list[int]]:
    rec = _Recorder()
    name = f"fieldrecon_{id(rec)}"
    codecs.register_error(name, rec)
    return data.decode(encoding, errors=name), rec.offsets


def _header_hits(text: str, source: Source) -> int:
    head = "\n".join(text.splitlines()[:HEADER_SCAN_ROWS])
    return sum(1 for h in source.required_headers if h in head)


def _utf8_body(data: bytes, source: Source, file_name: str, notes: list[Note]) -> bytes:
    """The file as UTF-8 bytes: BOM dropped, GB18030/GBK transcoded, NUL bytes and bytes that do not
    decode replaced by U+FFFD (each recorded with its line and byte offset)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RejectedFile(f"文件 {file_name} 是 UTF-16 编码（第 1 行，字节偏移 0），请另存为 UTF-8 或 GBK 的 CSV")
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if b"\x00" in data:
        offsets = [m.start() for m in re.finditer(b"\x00", data)]
        lines = _line_of(data, offsets)
        if len(offsets) > len(data) // 4:
            raise RejectedFile(f"文件 {file_name} 含大量 NUL 字节（第 {lines[0]} 行，字节偏移 {offsets[0]}），"
                               "可能是 UTF-16 或二进制文件，请另存为 UTF-8 或 GBK 的 CSV")
        rows = sorted(set(lines))
        notes.append(Note("nul_replaced", f"文件 {file_name} 第 {'、'.join(map(str, rows[:NOTE_ROWS]))} 行含 NUL 字节"
                          f"（共 {len(offsets)} 个，首个在字节偏移 {offsets[0]}），已替换为 �，其余内容照常加载", rows, len(offsets)))
        data = data.replace(b"\x00", "\ufffd".encode())
    body = memoryview(data)[start:]
    try:
        _strict_utf8(body)
        return data[start:] if start else data
    except UnicodeDecodeError:
        pass
    # not clean UTF-8: the encoding whose decoding shows the required headers wins, then the one
    # with fewer bad bytes (a UTF-8 file with one stray latin-1 byte stays UTF-8)
    candidates = []
    for enc in ("utf-8", "gb18030"):
        text, bad = _decode(bytes(body), enc)
        candidates.append((-_header_hits(text[: 1 << 16], source), len(bad), enc, text, bad))
    candidates.sort(key=lambda c: c[:3])
    _, _, enc, text, bad = candidates[0]
    if bad:
        if len(bad) > max(16, len(body) // 100):
            raise RejectedFile(f"文件 {file_name} 无法识别编码（应为 UTF-8 或 GBK/GB18030）：第 {_line_of(bytes(body), bad[:1])[0]} 行"
                               f"字节偏移 {bad[0] + start} 起有 {len(bad)} 处无法解码的字节")
        lines = _line_of(bytes(body), bad)
        rows = sorted(set(lines))
        enc_zh = "UTF-8" if enc == "utf-8" else "GBK/GB18030"
        notes.append(Note("bad_bytes_replaced", f"文件 {file_name}（{enc_zh}）第 {'、'.join(map(str, rows[:NOTE_ROWS]))} 行有 "
                          f"{len(bad)} 个无法解码的字节（首个在字节偏移 {bad[0] + start}），已替换为 �，其余内容照常加载",
                          rows, len(bad)))
    return text.encode("utf-8")


def _strict_utf8(body: memoryview) -> None:
    """Validates UTF-8 in 1 MiB steps (no whole-file str); raises UnicodeDecodeError."""
    dec = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 20
    for i in range(0, len(body), step):
        dec.decode(body[i : i + step], final=i + step >= len(body))


BLOCK_ROWS = 65_536  # rows per block on the exact paths (the streaming reader's blocks are bytes)
ARROW_BLOCK_BYTES = 1 << 22


@dataclass
class Block:
    """A run of data rows: 1-based file row numbers and one text column per header position
    (null for an empty cell)."""

    row_numbers: pa.Array
    columns: list[pa.Array]


@dataclass
class ExtractStream:
    """One extract opened for streaming: the header found, then the data rows block by block
    (never the whole file in memory for a clean UTF-8 CSV or an xlsx). Malformed rows and notes
    are filled in while the blocks are read."""

    header_row: int
    headers: list[str]
    ignored_sheets: list[str]
    notes: list[Note]
    _blocks: object  # (exact: bool) -> Iterator[Block]
    malformed_rows: list[MalformedRow] = field(default_factory=list)
    exact: bool = False  # set when the fast CSV reader gave way to the exact one

    def blocks(self):
        self.malformed_rows.clear()
        return self._blocks(self, self.exact)


class NeedsExactPath(Exception):
    """The fast CSV reader met a row it cannot number exactly (wrong field count, blank line):
    the file is read again with Python's csv reader."""


def _scan_utf8(path: Path) -> bool:
    """True when the file is clean UTF-8 without NUL bytes (checked in 1 MiB steps): then it is
    streamed from disk as it is; otherwise it is repaired in memory first (`_utf8_body`)."""
    dec = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        first = True
        while chunk := f.read(1 << 20):
            if first and chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                return False
            first = False
            if b"\x00" in chunk:
                return False
            try:
                dec.decode(chunk)
            except UnicodeDecodeError:
                return False
        try:
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _null_empty(col: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def open_csv(path: Path, source: Source, file_name: str) -> ExtractStream:
    notes: list[Note] = []
    if _scan_utf8(path):
        with path.open("rb") as f:
            head_bytes = f.read(1 << 16)
        start = 3 if head_bytes.startswith(b"\xef\xbb\xbf") else 0
        body = None
        head_bytes = head_bytes[start:]
    else:
        body = _utf8_body(path.read_bytes(), source, file_name, notes)
        start = 0
        head_bytes = body[: 1 << 16]
    head = head_bytes.decode("utf-8", errors="ignore")
    head_rows = list(csv.reader(head.splitlines()[:HEADER_SCAN_ROWS]))
    h = _find_header(head_rows, source, file_name)
    offset = 0
    for _ in range(h):  # drop the lines above the header (one row per physical line there)
        offset = head_bytes.index(b"\n", offset) + 1
    end = head_bytes.find(b"\n", offset)
    header_line = head_bytes[offset : end if end >= 0 else len(head_bytes)].decode("utf-8", errors="replace").rstrip("\r")
    header = next(csv.reader([header_line]), [""])
    body_start = start + offset if body is None else offset

    def source_bytes():
        if body is None:
            f = pa.OSFile(str(path))
            f.seek(body_start)
            return f
        return pa.BufferReader(pa.py_buffer(body)[body_start:])

    def text_stream():
        if body is None:
            raw = path.open("rb")
            raw.seek(body_start)
            return io.TextIOWrapper(raw, encoding="utf-8", newline="")
        return io.StringIO(body[body_start:].decode("utf-8"), newline="")

    def blocks(stream: ExtractStream, exact: bool):
        if exact or len(header) < 2:
            yield from _python_blocks(text_stream(), h, file_name, stream.malformed_rows)
        else:
            yield from _arrow_blocks(source_bytes(), h, len(header))

    return ExtractStream(h + 1, [_norm_header(v) for v in header], [], notes, blocks)


def _arrow_blocks(src, h: int, width: int):
    """Fast path: pyarrow's streaming CSV reader, block by block; any row it cannot take exactly
    (wrong field count, blank line) raises NeedsExactPath."""
    def on_invalid(row):
        return "error"  # pyarrow then stops with ArrowInvalid (an exception raised here would only be printed)

    try:
        reader = pacsv.open_csv(
            src,
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=ARROW_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=True,
                                             ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(width)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, StopIteration) as e:
        raise NeedsExactPath(str(e)) from e
    row_no = h + 1  # the header row
    first = True
    with reader:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except pa.ArrowInvalid as e:
                raise NeedsExactPath(str(e)) from e
            if batch.num_columns != width:
                raise NeedsExactPath("field count")
            if first:
                batch, first = batch.slice(1), False
            n = batch.num_rows
            if not n:
                continue
            numbers = pa.array(range(row_no + 1, row_no + 1 + n), type=pa.int32())
            row_no += n
            yield Block(numbers, [_null_empty(batch.column(i).cast(pa.string())) for i in range(width)])
    if first:
        raise NeedsExactPath("no header")


def _python_blocks(text, h: int, file_name: str, malformed: list[MalformedRow]):
    """Exact path: Python's csv reader, record by record. A blank line is no row but keeps its
    number; a row with the wrong number of fields is kept whole as malformed."""
    reader = csv.reader(text)
    row_no = h
    try:
        header = next(reader)
        row_no += 1
        width = len(header)
        cols: list[list] = [[] for _ in range(width)]
        numbers: list[int] = []
        for rec in reader:
            row_no += 1
            if not rec:
                continue
            if len(rec) != width:
                malformed.append(MalformedRow(row_no, rec, ",".join(rec)))
                continue
            for j, v in enumerate(rec):
                cols[j].append(v or None)
            numbers.append(row_no)
            if len(numbers) >= BLOCK_ROWS:
                yield Block(pa.array(numbers, type=pa.int32()), [pa.array(c, type=pa.string()) for c in cols])
                cols, numbers = [[] for _ in range(width)], []
    except (csv.Error, StopIteration) as e:
        raise RejectedFile(f"文件 {file_name} 第 {row_no + 1} 行无法按 CSV 读取：{e}") from e
    finally:
        text.close()
    if numbers:
        yield Block(pa.array(numbers, type=pa.int32()), [pa.array(c, type=pa.string()) for c in cols])


def _cell_text(v):
    if v is None or v == "":
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)
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


def _text_column(cells: np.ndarray) -> pa.Array:
    """One column of xlsx cells as text: a column of strings (the usual case) converted by pyarrow
    in one go, any other column rendered cell by cell (`_cell_text`); empty -> null either way."""
    try:
        return _null_empty(pa.array(cells, type=pa.string()))
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([c if (type(c) is str and c) else _cell_text(c) for c in cells], type=pa.string())


def open_xlsx(path: Path, source: Source, file_name: str) -> ExtractStream:
    """The first sheet, streamed row by row from calamine (the sheet is never held whole). Every
    column of the sheet's used range is kept (one without a header as an extra column); NUL
    characters, which PostgreSQL cannot store, are replaced by U+FFFD and the rows named."""
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        names = wb.sheet_names
        sheet = wb.get_sheet_by_index(0)
        pad = [None] * (sheet.start[1] if sheet.start else 0)  # iter_rows starts at the first used column
        rows = sheet.iter_rows()
        head = [pad + r for r in itertools.islice(rows, HEADER_SCAN_ROWS)]
    except Exception as e:  # noqa: BLE001 - calamine raises its own error types for broken files
        raise RejectedFile(f"文件 {file_name} 无法读取（xlsx 损坏、加密或不是 xlsx，第 1 行前即失败）：{type(e).__name__}: {e}") from e
    h = _find_header(head, source, file_name)
    headers = [_norm_header(c) for c in head[h]]
    width = max([len(headers)] + [len(r) for r in head[h + 1 :]] + [len(pad) + (sheet.width or 0)])
    headers += [""] * (width - len(headers))
    notes: list[Note] = []

    def block(cells: list[list], numbers: list[int], nul_rows: list[int]) -> Block | None:
        """Rows as calamine gives them -> one Block: transposed, rendered as text, blank rows
        dropped and NUL characters replaced, all column-wise."""
        grid = np.array([r if len(r) == width else (r + (None,) * width)[:width] for r in cells], dtype=object)
        cols = [_text_column(grid[:, j]) for j in range(width)]
        keep = np.zeros(len(numbers), dtype=bool)
        for c in cols:
            keep |= c.is_valid().to_numpy(zero_copy_only=False)
        if not keep.any():
            return None
        nums = np.asarray(numbers, dtype=np.int32)
        if not keep.all():
            mask = pa.array(keep)
            cols = [c.filter(mask) for c in cols]
            nums = nums[keep]
        hit = np.zeros(len(nums), dtype=bool)
        for j, c in enumerate(cols):
            has = pc.fill_null(pc.match_substring(c, "\x00"), False).to_numpy(zero_copy_only=False)
            if has.any():
                hit |= has
                cols[j] = pc.replace_substring(c, "\x00", "\ufffd")
        nul_rows += nums[hit].tolist()
        return Block(pa.array(nums, type=pa.int32()), cols)

    def blocks(stream: ExtractStream, exact: bool):
        nul_rows: list[int] = []
        cells: list[list] = []
        numbers: list[int] = []
        row_no = h + 1
        try:
            for r in itertools.chain(head[h + 1 :], (pad + r for r in rows) if pad else rows):
                row_no += 1
                cells.append(tuple(r))  # a tuple of strings leaves the garbage collector's lists; a list is rescanned at each collection
                numbers.append(row_no)
                if len(numbers) >= BLOCK_ROWS:
                    if (b := block(cells, numbers, nul_rows)) is not None:
                        yield b
                    cells, numbers = [], []
        except RejectedFile:
            raise
        except Exception as e:  # noqa: BLE001 - a row calamine cannot decode
            raise RejectedFile(f"文件 {file_name} 第 {row_no} 行无法读取：{type(e).__name__}: {e}") from e
        if numbers and (b := block(cells, numbers, nul_rows)) is not None:
            yield b
        if nul_rows:
            stream.notes.append(Note("nul_replaced", f"文件 {file_name} 第 {rows_text(nul_rows)}含 NUL 字符，已替换为 �，"
                                     "其余内容照常加载", nul_rows, len(nul_rows)))

    return ExtractStream(h + 1, headers, list(names[1:]), notes, blocks)


def rows_text(rows) -> str:
    shown = "、".join(str(int(r)) for r in rows[:NOTE_ROWS])
    return shown + (f" 等共 {len(rows)} 行" if len(rows) > NOTE_ROWS else " 行")


def open_extract(path: Path, file_name: str) -> tuple[ExtractName, ExtractStream]:
    name = parse_name(file_name)
    source = SOURCES[name.source]
    if name.ext == "csv":
        return name, open_csv(path, source, file_name)
    return name, open_xlsx(path, source, file_name)


def read_extract(path: Path, file_name: str) -> tuple[ExtractName, RawTable]:
    """The whole file in memory (tests, small files): the streamed blocks put together; trailing
    columns without a header and without a value are dropped."""
    name, stream = open_extract(path, file_name)
    try:
        blocks = list(stream.blocks())
    except NeedsExactPath:
        stream.exact = True
        blocks = list(stream.blocks())
    width = len(stream.headers)
    columns = [pa.concat_arrays([b.columns[i] for b in blocks]) if blocks else pa.array([], pa.string())
               for i in range(width)]
    numbers = pa.concat_arrays([b.row_numbers for b in blocks]) if blocks else pa.array([], pa.int32())
    headers = list(stream.headers)
    while headers and headers[-1] == "" and columns[-1].null_count == len(columns[-1]):
        headers.pop()
        columns.pop()
    return name, RawTable(stream.header_row, headers, columns, numbers, stream.ignored_sheets,
                          list(stream.malformed_rows), stream.notes)
