"""Loading one archived extract file: raw layer, typed rows, quarantine, and its row accounting.

A file is loaded in one transaction, so it is either fully in the warehouse or not at all.
Every data row ends in exactly one disposition: loaded, quarantined (with reasons naming the
column; a row with the wrong number of fields is kept whole in raw and quarantined as
`malformed_row`) or duplicate (an exact copy, cell by cell, of an earlier row of the same file);
the three add up to the rows read or the load fails. A file that cannot be read, or that the
warehouse refuses, is rejected with a reason naming the row: deterministic, so never retried,
and the later files of the source still load.

ELT: the rows are streamed into `raw.<source>` with one COPY (text, file id, row number); the
typing, checks, duplicates and quarantine are one SQL statement per source (`typing_sql`).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg2
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlalchemy as sa

from fieldrecon.contract import SOURCES, Source
from fieldrecon.ingest import typing_sql
from fieldrecon.ingest.reading import (
    ExtractStream,
    MalformedRow,
    NeedsExactPath,
    Note,
    RejectedFile,
    open_extract,
    rows_text,
)

log = logging.getLogger(__name__)
QUARANTINE_COLUMNS = ["row_no", "column_name", "header", "value", "reason_code", "reason"]
MALFORMED_KEY = "整行原文"  # extra_columns key of a malformed row's text in the raw layer
WORK_MEM = "256MB"  # the typing statement keeps one file's typed rows in memory, not on disk


INT4_MAX = 2**31 - 1


class CountsDoNotAddUp(RuntimeError):
    pass


class WarehouseRefusal(Exception):
    """The typing statement failed on a value (it never should: every cast is guarded); the
    message names the file, the row and the column in Chinese."""


@dataclass
class Prepared:
    """A file opened for loading: its header mapped to the contract, its rows still on disk."""

    source: Source
    file_name: str
    extract_date: dt.date
    stream: ExtractStream
    position: dict[str, int]  # contract column -> position in the file
    extras: dict[str, int]  # extra column key -> position in the file
    notes: list[Note] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    copying: _Copying = field(default_factory=lambda: _Copying())  # the raw COPY's rows sent so far

    @property
    def header_row(self) -> int:
        return self.stream.header_row

    @property
    def extra_headers(self) -> list[str]:
        return list(self.extras)

    @property
    def ignored_sheets(self) -> list[str]:
        return self.stream.ignored_sheets

    @property
    def malformed(self) -> list[MalformedRow]:
        return self.stream.malformed_rows


_rows_text = rows_text  # the row list of a note (reading owns it)


def _map_headers(headers: list[str], source: Source, file_name: str, notes: list[Note]):
    """Contract columns by first occurrence; a repeated or empty header becomes an extra column of
    its own (named by position), so nothing received is dropped from the raw layer."""
    position: dict[str, int] = {}
    extras: dict[str, int] = {}
    seen: dict[str, int] = {}
    for i, h in enumerate(headers):
        if not h:
            extras[f"（第{i + 1}列，无表头）"] = i
        elif h in seen:
            extras[f"{h}（第{i + 1}列，重复表头）"] = i
            notes.append(Note("duplicate_header", f"文件 {file_name} 的表头「{h}」出现多次（第 {seen[h] + 1} 列与第 {i + 1} 列）："
                              f"使用第 {seen[h] + 1} 列，第 {i + 1} 列作为附加列保留在原始层，请核对导出"))
        else:
            seen[h] = i
            if h in source.by_header:
                position[source.by_header[h].name] = i
            else:
                extras[h] = i
    return position, extras


def prepare(path: Path, file_name: str, extract_date=None) -> Prepared:
    """Open one file and map its header. Raises RejectedFile for whole-file problems (unreadable,
    missing required headers); the rows are read while they are written (`write`)."""
    name, stream = open_extract(path, file_name)
    source = SOURCES[name.source]
    notes: list[Note] = []
    position, extras = _map_headers(stream.headers, source, file_name, notes)
    missing = [c.header for c in source.columns if c.required and c.name not in position]
    if missing:
        raise RejectedFile(f"文件 {file_name} 缺少必填列：{'、'.join(missing)}")
    return Prepared(source, file_name, extract_date or name.extract_date, stream, position, extras, notes)


class _Copying:
    """What is being copied, so a refusal by the warehouse can be named by file row: the file row
    numbers of the rows sent so far, block by block (COPY names its line in the stream)."""

    def __init__(self) -> None:
        self._blocks: list[pa.Array] = []

    def restart(self) -> None:
        self._blocks.clear()

    def sent(self, row_numbers: pa.Array) -> None:
        self._blocks.append(row_numbers)

    def row_no(self, line: int) -> int | None:
        """The file row of COPY's 1-based line `line`, if it was sent."""
        for block in self._blocks:
            if 0 < line <= len(block):
                return int(block[line - 1].as_py())
            line -= len(block)
        return None


class _BlockStream:
    """The raw rows as CSV for COPY, rendered block by block by a thread of their own while COPY
    sends the previous blocks (the driver and the CSV writer let go of the GIL): reading and
    rendering overlap the warehouse's work instead of alternating with it. A few blocks ahead
    at most, so the file is never held."""

    AHEAD = 3

    def __init__(self, chunks):
        self._queue: queue.Queue = queue.Queue(self.AHEAD)
        self._stop = threading.Event()
        self._chunk = memoryview(b"")
        self._pos = 0
        self._done = False
        self.error: Exception | None = None  # what stopped the reading (the driver reports only that it stopped)
        self._thread = threading.Thread(target=self._render, args=(chunks,), name="raw-copy-render", daemon=True)
        self._thread.start()

    def _render(self, chunks) -> None:
        try:
            for chunk in chunks:
                if not self._put(chunk):
                    return
            self._put(None)
        except BaseException as e:  # noqa: BLE001 - handed to the reading side, which raises it
            self._put(e)

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read(self, size: int = -1) -> bytes:
        while self._pos >= len(self._chunk):
            if self._done:
                return b""
            chunk = self._queue.get()
            if isinstance(chunk, BaseException):
                self._done = True
                self.error = chunk if isinstance(chunk, Exception) else None
                raise chunk
            if chunk is None:
                self._done = True
                return b""
            self._chunk, self._pos = memoryview(chunk), 0
        end = len(self._chunk) if size is None or size < 0 else self._pos + size
        out = bytes(self._chunk[self._pos : end])
        self._pos += len(out)
        return out

    readline = read

    def close(self) -> None:
        """Stops the rendering thread (COPY failed or finished) and waits for it."""
        self._stop.set()
        self._thread.join()


_CSV_OPTIONS = pacsv.WriteOptions(include_header=False)


def _raw_chunks(prep: Prepared, file_id: int, rows_seen: list[int]):
    """CSV bytes of the raw rows (file id, row number, disposition, the contract's cells, extras)."""
    mapped = list(prep.position.items())
    for block in prep.stream.blocks():
        n = len(block.row_numbers)
        rows_seen[0] += n
        prep.copying.sent(block.row_numbers)
        cols = {"file_id": pa.array(np.full(n, file_id, dtype="int64")), "row_no": block.row_numbers,
                "disposition": pa.array(np.full(n, "loaded", dtype=object), pa.string())}
        cols |= {name: block.columns[i] for name, i in mapped}
        if prep.extras:
            keys = list(prep.extras)
            values = [block.columns[i].to_pylist() for i in prep.extras.values()]
            cols["extra_columns"] = pa.array(
                [json.dumps({k: v for k, v in zip(keys, vals, strict=True) if v is not None}, ensure_ascii=False)
                 for vals in zip(*values, strict=True)], pa.string())
        sink = io.BytesIO()
        pacsv.write_csv(pa.table(cols), sink, write_options=_CSV_OPTIONS)
        yield sink.getvalue()


def _copy_raw(cur, prep: Prepared, file_id: int) -> int:
    columns = ["file_id", "row_no", "disposition", *prep.position] + (["extra_columns"] if prep.extras else [])
    rows_seen = [0]
    stream = _BlockStream(_raw_chunks(prep, file_id, rows_seen))
    try:
        cur.copy_expert(f"copy raw.{prep.source.name} ({', '.join(columns)}) from stdin with (format csv)",
                        stream, size=1 << 20)
    except psycopg2.Error as e:
        if stream.error is not None:  # the reader's, not the warehouse's
            raise stream.error from e
        raise
    finally:
        stream.close()
    return rows_seen[0]


def _write_malformed(cur, prep: Prepared, file_id: int) -> None:
    """Rows with the wrong number of fields: kept whole in raw (quarantined) and quarantined as
    `malformed_row`."""
    if not prep.malformed:
        return
    s = prep.source
    width = len(prep.stream.headers)
    names = [c.name for c in s.columns]
    raw_rows, q_rows = [], []
    for m in prep.malformed:
        cells = [(m.fields[prep.position[c]] or None) if c in prep.position and prep.position[c] < len(m.fields) else None
                 for c in names]
        extra = json.dumps({MALFORMED_KEY: m.text, "字段数": len(m.fields)}, ensure_ascii=False)
        raw_rows.append((file_id, m.row_no, "quarantined", *cells, extra))
        q_rows.append((file_id, m.row_no, "*", "*", m.text[:500], "malformed_row",
                       f"该行有 {len(m.fields)} 个字段，表头有 {width} 列（列数不一致）：整行隔离，原文保留在原始层"))
    marks = ", ".join(["%s"] * (len(names) + 4))
    cur.executemany(f"insert into raw.{s.name} (file_id, row_no, disposition, {', '.join(names)}, extra_columns) "
                    f"values ({marks})", raw_rows)
    cur.executemany("insert into ops.quarantine (file_id, row_no, column_name, header, value, reason_code, reason) "
                    "values (%s, %s, %s, %s, %s, %s, %s)", q_rows)


def _unnamed_columns(cur, prep: Prepared, file_id: int) -> None:
    """A column without a header is kept (extra column) when it has a value somewhere, and said
    so; one without any value was a trailing separator, not a column."""
    copied_extras = bool(prep.extras)  # else COPY left extra_columns null: nothing to clear
    for key, i in list(prep.extras.items()):
        if not key.endswith("无表头）"):
            continue
        cur.execute(f"select coalesce(array_agg(row_no order by row_no), '{{}}') from raw.{prep.source.name} "
                    "where file_id = %s and extra_columns ? %s", (file_id, key))
        rows = cur.fetchone()[0]
        if not rows:
            del prep.extras[key]
            continue
        prep.notes.append(Note("unnamed_column", f"文件 {prep.file_name} 第 {i + 1} 列没有表头，但第 {_rows_text(rows)}有内容："
                               "已保留在原始层（附加列），不参与核对", rows, len(rows)))
    if copied_extras and not prep.extras:
        cur.execute(f"update raw.{prep.source.name} set extra_columns = null where file_id = %s and extra_columns = '{{}}'",
                    (file_id,))


def _refused_where(cur, prep: Prepared, params: dict, err: psycopg2.Error) -> str:
    """Narrows a failure of the typing statement down to its first row (halving the row range,
    each try rolled back) and its column (the cell whose value the error quotes)."""
    statement = typing_sql.dbapi_statement(prep.source.name)

    def fails(lo: int, hi: int) -> bool:
        cur.execute("savepoint narrowing")
        try:
            cur.execute(statement, params | {"row_from": lo, "row_to": hi})
            return False
        except psycopg2.Error:
            return True
        finally:
            cur.execute("rollback to savepoint narrowing")

    cur.execute(f"select min(row_no), max(row_no) from raw.{prep.source.name} where file_id = %s", (params["file_id"],))
    lo, hi = cur.fetchone()
    if lo is not None and fails(lo, hi):
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if fails(lo, mid) else (mid + 1, hi)
    message = (getattr(err.diag, "message_primary", None) or str(err)).strip().splitlines()[0]
    where_zh = ""
    if lo is not None:
        where_zh = f"第 {lo} 行"
        cur.execute(f"select * from raw.{prep.source.name} where file_id = %s and row_no = %s", (params["file_id"], lo))
        row = dict(zip([d[0] for d in cur.description], cur.fetchone() or (), strict=False))
        quoted = re.findall(r'"([^"]*)"', message)
        for c in prep.source.columns:
            value = row.get(c.name)
            if value is not None and any(q and q in value for q in quoted):
                where_zh += f"「{c.header}」列"
                break
    return f"文件 {prep.file_name} {where_zh or '（位置未知）'}无法写入数据仓库（{message}）：整文件拒收，请修正后重新投放"


def write(conn: sa.Connection, file_id: int, extract_date, prep: Prepared) -> dict[str, int]:
    """Write a prepared file inside the caller's transaction: its rows into raw with one COPY, then
    typing, checks, duplicates and quarantine in one SQL statement (`typing_sql`)."""
    prep.copying.restart()
    s = prep.source
    cur = conn.connection.dbapi_connection.cursor()
    cur.execute("savepoint raw_copy")
    try:
        copied = _copy_raw(cur, prep, file_id)
    except NeedsExactPath:
        cur.execute("rollback to savepoint raw_copy")
        prep.copying.restart()
        prep.stream.exact = True
        copied = _copy_raw(cur, prep, file_id)
    cur.execute("release savepoint raw_copy")
    _write_malformed(cur, prep, file_id)
    _unnamed_columns(cur, prep, file_id)
    cur.execute(f"set local work_mem = '{WORK_MEM}'")
    cur.execute("set local datestyle = 'ISO, YMD'")
    cur.execute("set local enable_nestloop = off")  # a bulk statement: hash joins, whatever the fresh rows' estimates
    cur.execute("set local enable_hashagg = off")  # repeated keys by sorting: a hash table of a million distinct keys is slower
    params = {"file_id": file_id, "extract_date": extract_date, "row_from": 0, "row_to": INT4_MAX}
    cur.execute("savepoint typing")
    try:
        cur.execute(typing_sql.dbapi_statement(s.name), params)
    except psycopg2.Error as e:
        cur.execute("rollback to savepoint typing")
        if not _deterministic(e):
            raise
        raise WarehouseRefusal(_refused_where(cur, prep, params, e)) from e
    result = cur.fetchone()
    typed, loaded, quarantined, duplicate = result[:4]
    for w, rows in zip(typing_sql.warning_list(s.name), result[6:], strict=True):
        if rows:
            prep.notes.append(Note(w.code, f"文件 {prep.file_name} 第 {_rows_text(rows)}：{w.message}", rows, len(rows)))
    prep.notes = prep.stream.notes + prep.notes
    n_bad = len(prep.malformed)
    counts = prep.counts = {"rows_read": typed + n_bad, "rows_loaded": loaded,
                            "rows_quarantined": quarantined + n_bad, "rows_duplicate": duplicate}
    cur.execute(f"select disposition, count(*) from raw.{s.name} where file_id = %s group by 1", (file_id,))
    in_db = dict(cur.fetchall())
    cur.close()
    accounted = counts["rows_loaded"] + counts["rows_quarantined"] + counts["rows_duplicate"]
    if (
        accounted != counts["rows_read"]
        or copied != typed
        or in_db.get("loaded", 0) != counts["rows_loaded"]
        or in_db.get("duplicate", 0) != counts["rows_duplicate"]
        or in_db.get("quarantined", 0) != counts["rows_quarantined"]
    ):
        raise CountsDoNotAddUp(f"file {file_id}: counts {counts} ({copied} rows copied) vs warehouse {in_db}")
    return counts


_COPY_LINE = re.compile(r"COPY (\S+), line (\d+)(?:, column (\w+))?")


def refusal_reason(file_name: str, err: Exception, where: _Copying, source: Source) -> str:
    """A Chinese reason for a warehouse refusal, naming the file row (and column) COPY stopped at."""
    orig = getattr(err, "orig", err)
    context = getattr(getattr(orig, "diag", None), "context", None) or ""
    message = (getattr(getattr(orig, "diag", None), "message_primary", None) or str(orig)).strip().splitlines()[0]
    m = _COPY_LINE.search(context)
    where_zh = ""
    if m:
        row_no = where.row_no(int(m.group(2)))
        if row_no is not None:
            where_zh = f"第 {row_no} 行"
        col = m.group(3)
        if col:
            header = next((c.header for c in source.columns if c.name == col), col)
            where_zh += f"「{header}」列"
    return f"文件 {file_name} {where_zh or '（位置未知）'}无法写入数据仓库（{message}）：整文件拒收，请修正后重新投放"


def _reject(conn: sa.Connection, file_id: int, file_name: str, reason: str) -> dict:
    conn.execute(
        sa.text("update ops.files set status = 'rejected', reason = :r, loaded_at = now() where file_id = :f"),
        {"r": reason, "f": file_id},
    )
    log.warning("rejected %s: %s", file_name, reason)
    return {"file_id": file_id, "file_name": file_name, "status": "rejected", "reason": reason}


# Errors in a file's content that the warehouse reports; the same file fails the same way again.
DETERMINISTIC_SQLSTATE_CLASSES = ("22", "23")  # data exception, integrity constraint violation


def _deterministic(err: Exception) -> bool:
    code = getattr(getattr(err, "orig", err), "pgcode", None) or ""
    return code[:2] in DETERMINISTIC_SQLSTATE_CLASSES


def load_file(engine: sa.Engine, file_id: int) -> dict:
    """Load one pending registry file; a concurrent loader of the same file waits, then skips.
    A file that cannot be read or that the warehouse refuses is rejected (not raised, not retried)."""
    t0 = time.monotonic()
    with engine.begin() as conn:
        row = conn.execute(
            sa.text(
                "select file_name, archive_path, extract_date from ops.files "
                "where file_id = :f and status = 'pending' for update"
            ),
            {"f": file_id},
        ).one_or_none()
        if row is None:
            return {"file_id": file_id, "status": "skipped"}
        try:
            prep = prepare(Path(row.archive_path), row.file_name, row.extract_date)
        except RejectedFile as e:
            return _reject(conn, file_id, row.file_name, str(e))
        except (OSError, MemoryError):
            raise  # the archive or the machine, not the file: worth a retry
        except Exception as e:  # noqa: BLE001 - any other reading failure is the file's, and deterministic
            log.exception("reading %s failed", row.file_name)
            return _reject(conn, file_id, row.file_name,
                           f"文件 {row.file_name} 无法读取（{type(e).__name__}: {str(e)[:200]}）：整文件拒收，请检查文件后重新投放")
        savepoint = conn.begin_nested()
        try:
            counts = write(conn, file_id, row.extract_date, prep)
        except WarehouseRefusal as e:
            savepoint.rollback()
            return _reject(conn, file_id, row.file_name, str(e))
        except RejectedFile as e:  # a row the reader cannot read, met while streaming
            savepoint.rollback()
            return _reject(conn, file_id, row.file_name, str(e))
        except (sa.exc.DBAPIError, psycopg2.Error) as e:  # COPY runs on the raw DBAPI cursor
            if not _deterministic(e):
                raise
            savepoint.rollback()
            return _reject(conn, file_id, row.file_name, refusal_reason(row.file_name, e, prep.copying, prep.source))
        savepoint.commit()
        conn.execute(
            sa.text(
                "update ops.files set status = 'loaded', header_row = :h, extra_columns = :x, ignored_sheets = :s, "
                "rows_read = :rows_read, rows_loaded = :rows_loaded, rows_quarantined = :rows_quarantined, "
                "rows_duplicate = :rows_duplicate, loaded_at = now(), load_seconds = :sec, "
                "notes = cast(:notes as jsonb) where file_id = :f"
            ),
            {"h": prep.header_row, "x": prep.extra_headers, "s": prep.ignored_sheets, "f": file_id,
             "sec": round(time.monotonic() - t0, 3), "notes": json.dumps([nt.as_dict() for nt in prep.notes], ensure_ascii=False),
             **counts},
        )
    log.info("loaded %s: %s", row.file_name, counts)
    result = {"file_id": file_id, "file_name": row.file_name, "status": "loaded", **counts}
    if prep.notes:
        result["warnings"] = [nt.message for nt in prep.notes]
    return result


def pending_files(engine: sa.Engine, source: str) -> list[int]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "select file_id from ops.files where source = :s and status = 'pending' "
                    "order by extract_date, delivery_no, file_id"
                ),
                {"s": source},
            ).scalars()
        )


def load_source(engine: sa.Engine, source: str) -> list[dict]:
    """Every pending file of a source in extract order; a rejected file does not stop the next."""
    return [load_file(engine, fid) for fid in pending_files(engine, source)]
