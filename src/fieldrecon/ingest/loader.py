"""Loading one archived extract file: raw layer, typed rows, quarantine, and its row accounting.

A file is loaded in one transaction, so it is either fully in the warehouse or not at all.
Every data row ends in exactly one disposition: loaded, quarantined (with reasons naming the
column; a row with the wrong number of fields is kept whole in raw and quarantined as
`malformed_row`) or duplicate (an exact copy, cell by cell, of an earlier row of the same file);
the three add up to the rows read or the load fails. A file that cannot be read, or that the
warehouse refuses, is rejected with a reason naming the row: deterministic, so never retried,
and the later files of the source still load.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg2
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from fieldrecon.contract import SOURCES, Source
from fieldrecon.ingest import parsing, row_contracts
from fieldrecon.ingest.reading import NOTE_ROWS, MalformedRow, Note, RejectedFile, read_extract

log = logging.getLogger(__name__)
QUARANTINE_COLUMNS = ["row_no", "column_name", "header", "value", "reason_code", "reason"]
MALFORMED_KEY = "整行原文"  # extra_columns key of a malformed row's text in the raw layer


class CountsDoNotAddUp(RuntimeError):
    pass


@dataclass
class Prepared:
    """A file turned into what the warehouse stores, before anything is written."""

    source: Source
    header_row: int
    extra_headers: list[str]
    ignored_sheets: list[str]
    row_numbers: np.ndarray
    raw: dict[str, pa.Array]  # canonical name or extra header -> raw text
    typed: dict[str, pa.Array]  # canonical name -> typed column (all rows)
    disposition: np.ndarray  # 'loaded' | 'quarantined' | 'duplicate'
    quarantine: pd.DataFrame  # row_no, column_name, header, value, reason_code, reason
    malformed: list[MalformedRow]
    extra_sources: dict[str, int] = field(default_factory=dict)  # extra key -> position in the file
    notes: list[Note] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        d = self.disposition
        return {
            "rows_read": int(len(d)) + len(self.malformed),
            "rows_loaded": int((d == "loaded").sum()),
            "rows_quarantined": int((d == "quarantined").sum()) + len(self.malformed),
            "rows_duplicate": int((d == "duplicate").sum()),
        }


_TYPE_ZH = {"datetime": "日期时间", "date": "日期", "time": "时间", "decimal": "数字", "int": "整数", "bool": "是/否"}
_LIMIT_ZH = {"int": "超出整数范围（−2147483648 至 2147483647）", "decimal": "数值过大，超出可存储的范围"}


def _empty_to_null(col: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)


def _rows_text(rows: np.ndarray) -> str:
    shown = "、".join(str(int(r)) for r in rows[:NOTE_ROWS])
    return shown + (f" 等共 {len(rows)} 行" if len(rows) > NOTE_ROWS else " 行")


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
    """Read, normalise, type and validate one file. Raises RejectedFile for whole-file problems."""
    name, table = read_extract(path, file_name)
    extract_date = extract_date or name.extract_date
    source = SOURCES[name.source]
    n = len(table.row_numbers)
    notes = list(table.notes)
    position, extras = _map_headers(table.headers, source, file_name, notes)
    missing = [c.header for c in source.columns if c.required and c.name not in position]
    if missing:
        raise RejectedFile(f"文件 {file_name} 缺少必填列：{'、'.join(missing)}")

    row_numbers = table.row_numbers.to_numpy(zero_copy_only=False)
    null_text = pa.nulls(n, pa.string())
    raw: dict[str, pa.Array] = {}
    for c in source.columns:
        raw[c.name] = _empty_to_null(table.columns[position[c.name]]) if c.name in position else null_text
    for key, i in list(extras.items()):
        col = _empty_to_null(table.columns[i])
        if key.endswith("无表头）") and col.null_count == len(col):
            del extras[key]  # a trailing separator, not a column
            continue
        raw[key] = col
        if key.endswith("无表头）"):
            rows = row_numbers[_mask(pc.is_valid(col))]
            notes.append(Note("unnamed_column", f"文件 {file_name} 第 {i + 1} 列没有表头，但第 {_rows_text(rows)}有内容："
                              "已保留在原始层（附加列），不参与核对", rows.tolist(), len(rows)))
    if name.ext == "xlsx":
        _replace_nul(raw, row_numbers, file_name, notes)

    typed: dict[str, pa.Array] = {}
    normalised: dict[str, pa.Array] = {}
    usable: dict[str, np.ndarray] = {}
    problems: list[row_contracts.Problem] = []
    not_a_value: dict[str, np.ndarray] = {}  # cells reported once already (unparseable, too large)
    for c in source.columns:
        norm = parsing.normalise(raw[c.name])
        normalised[c.name] = norm
        typed_col, bad = parsing.parse(norm, c.type)
        big = row_contracts.too_large(c.type, typed_col) & ~bad
        if bad.any():
            problems.append(row_contracts.Problem(c.name, "unparseable", f"「{c.header}」的值无法解析为{_TYPE_ZH[c.type]}", bad))
        if big.any():
            problems.append(row_contracts.Problem(c.name, "too_large", f"「{c.header}」{_LIMIT_ZH[c.type]}", big))
            typed_col = pc.if_else(pa.array(big), pa.scalar(None, typed_col.type), typed_col)
        not_a_value[c.name] = bad | big
        usable[c.name] = _mask(pc.is_valid(typed_col))
        typed[c.name] = typed_col
    if n:
        found, warnings = row_contracts.check(source, typed, set(position), extract_date, usable)
        problems += found
        for w in warnings:
            rows = row_numbers[w.mask]
            notes.append(Note(w.code, f"文件 {file_name} 第 {_rows_text(rows)}：{w.message}", rows.tolist(), len(rows)))

    key = [i for i, c in enumerate(source.columns) if c.name in source.key]
    duplicate = _duplicates([normalised[c.name] for c in source.columns] + [parsing.normalise(raw[k]) for k in extras], key, n)
    quarantined = np.zeros(n, dtype=bool)
    for p in problems:
        quarantined |= p.mask
    rows = []
    for p in problems:
        mask = p.mask & ~duplicate
        if p.reason_code == "empty":
            mask &= ~not_a_value[p.column]
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        rows.append(pd.DataFrame({
            "row_no": row_numbers[idx],
            "column_name": p.column,
            "header": source.column(p.column).header,
            "value": raw[p.column].take(pa.array(idx)).to_pandas(),
            "reason_code": f"{p.reason_code}:{p.column}",
            "reason": p.reason_zh,
        }))
    width = len(table.headers)
    for m in table.malformed_rows:
        rows.append(pd.DataFrame({
            "row_no": [m.row_no], "column_name": "*", "header": "*", "value": [m.text[:500]],
            "reason_code": "malformed_row",
            "reason": f"该行有 {len(m.fields)} 个字段，表头有 {width} 列（列数不一致）：整行隔离，原文保留在原始层",
        }))
    quarantine = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=QUARANTINE_COLUMNS)
    disposition = np.where(duplicate, "duplicate", np.where(quarantined, "quarantined", "loaded"))
    prep = Prepared(source, table.header_row, list(extras), table.ignored_sheets, row_numbers, raw, typed,
                    disposition, quarantine, table.malformed_rows, extras, notes)
    prep.position = position  # where each contract column sits, for malformed rows' raw cells
    return prep


def _mask(arr) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _replace_nul(raw: dict[str, pa.Array], row_numbers: np.ndarray, file_name: str, notes: list[Note]) -> None:
    """PostgreSQL text cannot hold NUL: replace it by U+FFFD and say where."""
    hit = np.zeros(len(row_numbers), dtype=bool)
    for key, col in raw.items():
        has = _mask(pc.match_substring(col, "\x00"))
        if has.any():
            hit |= has
            raw[key] = pc.replace_substring(col, "\x00", "\ufffd")
    if hit.any():
        rows = row_numbers[hit]
        notes.append(Note("nul_replaced", f"文件 {file_name} 第 {_rows_text(rows)}含 NUL 字符，已替换为 �，其余内容照常加载",
                          rows.tolist(), len(rows)))


def _duplicates(columns: list[pa.Array], key: list[int], n: int) -> np.ndarray:
    """Exact copies of an earlier row, compared cell by cell (nulls equal), first one kept. Only
    rows whose key occurs more than once can be copies, so only those are compared in full."""
    if not n:
        return np.zeros(0, dtype=bool)
    codes = np.zeros(n, dtype="int64")
    for i in key:  # one integer code per distinct key, nulls a value of their own
        enc = pc.dictionary_encode(columns[i], null_encoding="encode")
        idx = enc.indices.to_numpy(zero_copy_only=False).astype("int64")
        codes = codes * (len(enc.dictionary) + 1) + idx if len(key) > 1 else idx
    if len(key) > 1:
        codes = np.unique(codes, return_inverse=True)[1]
    candidates = np.bincount(codes)[codes] > 1
    dup = np.zeros(n, dtype=bool)
    if candidates.any():
        idx = np.flatnonzero(candidates)
        take = pa.array(idx)
        rows = pd.DataFrame({j: c.take(take).to_pandas() for j, c in enumerate(columns)})
        dup[idx[rows.duplicated(keep="first").to_numpy()]] = True
    return dup



class _Copying:
    """What is being copied, so a refusal by the warehouse can be named by file row."""

    table: str = ""
    row_numbers: np.ndarray = np.zeros(0, dtype="int64")


class _CsvStream:
    """A table as CSV, rendered batch by batch while COPY reads it (never the whole file in memory)."""

    BATCH_ROWS = 65_536

    def __init__(self, data: pa.Table):
        self._batches = iter(data.to_batches(max_chunksize=self.BATCH_ROWS))
        self._chunk = memoryview(b"")
        self._pos = 0
        self._options = pacsv.WriteOptions(include_header=False)

    def read(self, size: int = -1) -> bytes:
        while self._pos >= len(self._chunk):
            batch = next(self._batches, None)
            if batch is None:
                return b""
            sink = io.BytesIO()
            pacsv.write_csv(batch, sink, write_options=self._options)
            self._chunk, self._pos = memoryview(sink.getvalue()), 0
        end = len(self._chunk) if size is None or size < 0 else self._pos + size
        out = bytes(self._chunk[self._pos : end])
        self._pos += len(out)
        return out

    readline = read


def _copy(conn: sa.Connection, table: str, columns: list[str], data: pa.Table, rows: np.ndarray, where: _Copying) -> None:
    where.table, where.row_numbers = table, rows
    cur = conn.connection.dbapi_connection.cursor()
    cur.copy_expert(f"copy {table} ({', '.join(columns)}) from stdin with (format csv)", _CsvStream(data), size=1 << 20)
    cur.close()


def _raw_table(prep: Prepared, file_id: int) -> tuple[pa.Table, np.ndarray]:
    s = prep.source
    n = len(prep.disposition)
    cols = {"file_id": pa.array(np.full(n, file_id, dtype="int64")),
            "row_no": pa.array(prep.row_numbers.astype("int32")),
            "disposition": pa.array(prep.disposition.astype(str))}
    cols |= {c.name: prep.raw[c.name] for c in s.columns}
    if prep.extra_headers:
        # extra columns are kept as JSON; built per row only when a file has extra columns
        extras = pa.table({h: prep.raw[h] for h in prep.extra_headers}).to_pylist()
        cols["extra_columns"] = pa.array(
            [json.dumps({k: v for k, v in r.items() if v is not None}, ensure_ascii=False) for r in extras], pa.string())
    else:
        cols["extra_columns"] = pa.nulls(n, pa.string())
    table = pa.table(cols)
    rows = prep.row_numbers
    if prep.malformed:
        position = getattr(prep, "position", {})
        m_rows = []
        for m in prep.malformed:
            r = {"file_id": file_id, "row_no": m.row_no, "disposition": "quarantined"}
            r |= {c.name: (m.fields[position[c.name]] or None) if c.name in position and position[c.name] < len(m.fields)
                  else None for c in s.columns}
            r["extra_columns"] = json.dumps({MALFORMED_KEY: m.text, "字段数": len(m.fields)}, ensure_ascii=False)
            m_rows.append(r)
        table = pa.concat_tables([table, pa.Table.from_pylist(m_rows, schema=table.schema)])
        rows = np.concatenate([rows, [m.row_no for m in prep.malformed]])
    return table, rows


def write(conn: sa.Connection, file_id: int, extract_date, prep: Prepared) -> dict[str, int]:
    """Write a prepared file into raw, staging rows and quarantine, inside the caller's transaction."""
    where = prep.copying = _Copying()
    s = prep.source
    raw, raw_rows = _raw_table(prep, file_id)
    _copy(conn, f"raw.{s.name}", raw.column_names, raw, raw_rows, where)

    keep = pa.array(prep.disposition == "loaded")
    n_keep = int(keep.true_count)
    typed_cols = {
        "file_id": pa.array(np.full(n_keep, file_id, dtype="int64")),
        "row_no": pa.array(prep.row_numbers.astype("int32")).filter(keep),
        "extract_date": pa.array(np.full(n_keep, np.datetime64(extract_date, "D"))),
    }
    typed_cols |= {c.name: prep.typed[c.name].filter(keep) for c in s.columns}
    _copy(conn, f"staging.{s.name}_rows", list(typed_cols), pa.table(typed_cols), prep.row_numbers[prep.disposition == "loaded"], where)

    if len(prep.quarantine):
        q = prep.quarantine.copy()
        q.insert(0, "file_id", file_id)
        q["value"] = q["value"].astype(object)
        qt = pa.Table.from_pandas(q, preserve_index=False)
        _copy(conn, "ops.quarantine", list(q.columns), qt, q["row_no"].to_numpy(), where)

    counts = prep.counts
    in_db = dict(
        conn.execute(
            sa.text(f"select disposition, count(*) from raw.{s.name} where file_id = :f group by 1"), {"f": file_id}
        ).all()
    )
    loaded_db = conn.execute(sa.text(f"select count(*) from staging.{s.name}_rows where file_id = :f"), {"f": file_id}).scalar()
    accounted = counts["rows_loaded"] + counts["rows_quarantined"] + counts["rows_duplicate"]
    if (
        accounted != counts["rows_read"]
        or in_db.get("loaded", 0) != counts["rows_loaded"]
        or loaded_db != counts["rows_loaded"]
        or in_db.get("duplicate", 0) != counts["rows_duplicate"]
        or in_db.get("quarantined", 0) != counts["rows_quarantined"]
    ):
        raise CountsDoNotAddUp(f"file {file_id}: counts {counts} vs warehouse {in_db} / {loaded_db}")
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
        line = int(m.group(2))
        if 0 < line <= len(where.row_numbers):
            where_zh = f"第 {int(where.row_numbers[line - 1])} 行"
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
        except (sa.exc.DBAPIError, psycopg2.Error) as e:  # COPY runs on the raw DBAPI cursor
            if not _deterministic(e):
                raise
            savepoint.rollback()
            return _reject(conn, file_id, row.file_name, refusal_reason(row.file_name, e, getattr(prep, "copying", _Copying()), prep.source))
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
