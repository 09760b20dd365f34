"""Loading one archived extract file: raw layer, typed rows, quarantine, and its row accounting.

A file is loaded in one transaction, so it is either fully in the warehouse or not at all.
Every data row ends in exactly one disposition: loaded, quarantined (with reasons naming the
column) or duplicate (an exact copy of an earlier row of the same file); the three add up to
the rows read or the load fails.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from fieldrecon.contract import SOURCES, Source
from fieldrecon.ingest import parsing, row_contracts
from fieldrecon.ingest.reading import RejectedFile, read_extract

log = logging.getLogger(__name__)


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
    malformed: list[tuple[int, str]]

    @property
    def counts(self) -> dict[str, int]:
        d = self.disposition
        return {
            "rows_read": int(len(d)) + len(self.malformed),
            "rows_loaded": int((d == "loaded").sum()),
            "rows_quarantined": int((d == "quarantined").sum()) + len(self.malformed),
            "rows_duplicate": int((d == "duplicate").sum()),
        }


def _warm_up_gx() -> threading.Thread:
    """Import Great Expectations (about 5 s) while the file is read and typed."""
    t = threading.Thread(target=row_contracts.gx_context, daemon=True)
    t.start()
    return t


def prepare(path: Path, file_name: str) -> Prepared:
    """Read, normalise, type and validate one file. Raises RejectedFile for whole-file problems."""
    warm = _warm_up_gx()
    name, table = read_extract(path, file_name)
    source = SOURCES[name.source]
    n = len(table.row_numbers)
    position = {}
    extra_headers = []
    for i, h in enumerate(table.headers):
        if h in source.by_header and source.by_header[h].name not in position:
            position[source.by_header[h].name] = i
        elif h:
            extra_headers.append(h)
    missing = [c.header for c in source.columns if c.required and c.name not in position]
    if missing:
        raise RejectedFile(f"文件 {file_name} 缺少必填列：{'、'.join(missing)}")

    null_text = pa.nulls(n, pa.string())
    raw: dict[str, pa.Array] = {}
    for c in source.columns:
        col = table.columns[position[c.name]] if c.name in position else null_text
        raw[c.name] = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
    for h in extra_headers:
        col = table.columns[table.headers.index(h)]
        raw[h] = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)

    typed: dict[str, pa.Array] = {}
    normalised: dict[str, pa.Array] = {}
    problems: list[row_contracts.Problem] = []
    for c in source.columns:
        norm = parsing.normalise(raw[c.name])
        normalised[c.name] = norm
        typed[c.name], bad = parsing.parse(norm, c.type)
        if bad.any():
            problems.append(row_contracts.Problem(c.name, "unparseable", f"「{c.header}」的值无法解析为{_TYPE_ZH[c.type]}", bad))

    # exact duplicates: same normalised content in every column (extras included), hashed as one
    # joined string per row (\x1f cannot occur in a normalised cell; nulls become \x1e)
    parts = list(normalised.values()) + [parsing.normalise(raw[h]) for h in extra_headers]
    joined = pc.binary_join_element_wise(*[pc.fill_null(a, "\x1e") for a in parts], "\x1f")
    duplicate = pd.Series(joined.to_pandas()).duplicated(keep="first").to_numpy() if n else np.zeros(0, dtype=bool)

    gx_frame = pd.DataFrame(
        {
            c.name: (pc.cast(typed[c.name], pa.float64()) if c.type == "decimal" else typed[c.name]).to_pandas()
            for c in source.columns
            if c.required or c.enum or any(chk.startswith(c.name + ":") for chk in source.checks)
        }
    )
    warm.join()
    if n:
        problems += row_contracts.validate(source, gx_frame, set(position), f"{source.name}_{name.extract_date:%Y%m%d}_{name.delivery_no}")

    quarantined = np.zeros(n, dtype=bool)
    for p in problems:
        quarantined |= p.mask
    # a value that failed to parse is reported once, as unparseable, not also as empty
    unparseable = {p.column: p.mask for p in problems if p.reason_code == "unparseable"}
    rows = []
    row_numbers = table.row_numbers.to_numpy(zero_copy_only=False)
    for p in problems:
        mask = p.mask & ~duplicate
        if p.reason_code == "empty" and p.column in unparseable:
            mask &= ~unparseable[p.column]
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        rows.append(
            pd.DataFrame(
                {
                    "row_no": row_numbers[idx],
                    "column_name": p.column,
                    "header": source.column(p.column).header,
                    "value": raw[p.column].take(pa.array(idx)).to_pandas(),
                    "reason_code": f"{p.reason_code}:{p.column}",
                    "reason": p.reason_zh,
                }
            )
        )
    malformed = table.malformed_rows
    if malformed:
        rows.append(
            pd.DataFrame(
                {
                    "row_no": [r for r, _ in malformed],
                    "column_name": "*",
                    "header": "*",
                    "value": [t[:500] for _, t in malformed],
                    "reason_code": "malformed_row",
                    "reason": "该行的列数与表头不一致",
                }
            )
        )
    quarantine = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["row_no", "column_name", "header", "value", "reason_code", "reason"]
    )
    disposition = np.where(duplicate, "duplicate", np.where(quarantined, "quarantined", "loaded"))
    return Prepared(source, table.header_row, extra_headers, table.ignored_sheets, row_numbers, raw, typed,
                    disposition, quarantine, malformed)


_TYPE_ZH = {"datetime": "日期时间", "date": "日期", "time": "时间", "decimal": "数字", "int": "整数", "bool": "是/否"}


def _copy(conn: sa.Connection, table: str, columns: list[str], data: pa.Table) -> None:
    buf = io.BytesIO()
    pacsv.write_csv(data, buf, write_options=pacsv.WriteOptions(include_header=False))
    buf.seek(0)
    cur = conn.connection.dbapi_connection.cursor()
    cur.copy_expert(f"copy {table} ({', '.join(columns)}) from stdin with (format csv)", buf)
    cur.close()


def write(conn: sa.Connection, file_id: int, extract_date, prep: Prepared) -> dict[str, int]:
    """Write a prepared file into raw, staging rows and quarantine, inside the caller's transaction."""
    s = prep.source
    n = len(prep.disposition)
    ids = pa.array(np.full(n, file_id, dtype="int64"))
    rownos = pa.array(prep.row_numbers.astype("int32"))
    raw_cols = {"file_id": ids, "row_no": rownos, "disposition": pa.array(prep.disposition.astype(str))}
    raw_cols |= {c.name: prep.raw[c.name] for c in s.columns}
    if prep.extra_headers:
        # extra columns are kept as JSON; built per row only when a file has extra columns
        extras = pa.table({h: prep.raw[h] for h in prep.extra_headers}).to_pylist()
        raw_cols["extra_columns"] = pa.array(
            [json.dumps({k: v for k, v in r.items() if v is not None}, ensure_ascii=False) for r in extras]
        )
    _copy(conn, f"raw.{s.name}", list(raw_cols), pa.table(raw_cols))

    keep = pa.array(prep.disposition == "loaded")
    typed_cols = {
        "file_id": ids.filter(keep),
        "row_no": rownos.filter(keep),
        "extract_date": pa.array(np.full(int(keep.true_count), np.datetime64(extract_date, "D"))),
    }
    typed_cols |= {c.name: prep.typed[c.name].filter(keep) for c in s.columns}
    _copy(conn, f"staging.{s.name}_rows", list(typed_cols), pa.table(typed_cols))

    if len(prep.quarantine):
        q = prep.quarantine.copy()
        q.insert(0, "file_id", file_id)
        q["value"] = q["value"].astype(object)
        qt = pa.Table.from_pandas(q, preserve_index=False)
        _copy(conn, "ops.quarantine", list(q.columns), qt)

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
        or in_db.get("quarantined", 0) + len(prep.malformed) != counts["rows_quarantined"]
    ):
        raise CountsDoNotAddUp(f"file {file_id}: counts {counts} vs warehouse {in_db} / {loaded_db}")
    return counts


def load_file(engine: sa.Engine, file_id: int) -> dict:
    """Load one pending registry file; a concurrent loader of the same file waits, then skips."""
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
            prep = prepare(Path(row.archive_path), row.file_name)
        except RejectedFile as e:
            conn.execute(
                sa.text("update ops.files set status = 'rejected', reason = :r, loaded_at = now() where file_id = :f"),
                {"r": str(e), "f": file_id},
            )
            log.warning("rejected %s: %s", row.file_name, e)
            return {"file_id": file_id, "file_name": row.file_name, "status": "rejected", "reason": str(e)}
        counts = write(conn, file_id, row.extract_date, prep)
        conn.execute(
            sa.text(
                "update ops.files set status = 'loaded', header_row = :h, extra_columns = :x, ignored_sheets = :s, "
                "rows_read = :rows_read, rows_loaded = :rows_loaded, rows_quarantined = :rows_quarantined, "
                "rows_duplicate = :rows_duplicate, loaded_at = now(), load_seconds = :sec where file_id = :f"
            ),
            {"h": prep.header_row, "x": prep.extra_headers, "s": prep.ignored_sheets, "f": file_id,
             "sec": round(time.monotonic() - t0, 3), **counts},
        )
    log.info("loaded %s: %s", row.file_name, counts)
    return {"file_id": file_id, "file_name": row.file_name, "status": "loaded", **counts}


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
    return [load_file(engine, fid) for fid in pending_files(engine, source)]
