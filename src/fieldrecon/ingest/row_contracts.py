"""Row-level data contracts as array checks on one file's typed columns (no per-row Python).

Everything the rulebook's "Quarantine" definition names is checked here, written once from the
contract (`fieldrecon.contract`): empty required cells, enum values outside the list, values too
large for their type (integer beyond PostgreSQL's integer, amounts beyond a double), coordinates
outside ±90/±180, hours outside (0, 24], punch times / work dates after the end of the extract's
date, negative quantities, unit prices and amounts. Each failure is a Problem (a mask and a
Chinese reason naming the column); other implausible values are Warnings for the run summary.
Great Expectations runs on the warehouse tables afterwards (`fieldrecon.ingest.gx_checks`), not here:
importing it per load task cost about 8 s and the same checks as masks take milliseconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fieldrecon.contract import Source

RANGE_CHECKS = {"lng": (-180, 180, False), "lat": (-90, 90, False), "hours": (0, 24, True)}
INT4 = (-(2**31), 2**31 - 1)
DOUBLE_MAX = np.finfo(np.float64).max
# warnings only (rulebook: anything else implausible is a warning, not a quarantine)
PLAUSIBLE_FROM = dt.date(2000, 1, 1)
PLAUSIBLE_DAYS_AHEAD = 366
PLAUSIBLE_AMOUNT = 1e12


@dataclass
class Problem:
    column: str
    reason_code: str
    reason_zh: str
    mask: np.ndarray


@dataclass
class Warning_:
    column: str
    code: str
    message: str  # Chinese, without the row list (the caller adds file and rows)
    mask: np.ndarray


def _np(mask) -> np.ndarray:
    return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)


def _as_float(arr: pa.Array) -> pa.Array:
    return pc.cast(arr, pa.float64())


def too_large(type_: str, typed: pa.Array) -> np.ndarray:
    """Values that parsed but do not fit their type (the typed COPY would fail on them)."""
    if type_ == "int":
        digits = pc.utf8_length(pc.replace_substring_regex(typed, r"^[+-]?0*", ""))
        long_ = _np(pc.greater(digits, 12))
        small = pc.if_else(pa.array(long_), pa.scalar(None, pa.string()), typed)
        value = pc.cast(small, pa.int64())
        return long_ | _np(pc.or_(pc.less(value, INT4[0]), pc.greater(value, INT4[1])))
    if type_ == "decimal":
        return _np(pc.greater(pc.abs(_as_float(typed)), DOUBLE_MAX))
    return np.zeros(len(typed), dtype=bool)


def check(source: Source, typed: dict[str, pa.Array], present: set[str], extract_date: dt.date,
          usable: dict[str, np.ndarray]) -> tuple[list[Problem], list[Warning_]]:
    """The contract's row checks on one file; `usable[c]` marks cells that parsed and fit their type."""
    problems: list[Problem] = []
    warnings: list[Warning_] = []
    for c in source.columns:
        if c.name not in present:
            continue
        col = typed[c.name]
        if c.required:
            problems.append(Problem(c.name, "empty", f"必填列「{c.header}」为空", _np(pc.is_null(col))))
        if c.enum:
            bad = _np(pc.and_(pc.is_valid(col), pc.invert(pc.is_in(col, value_set=pa.array(c.enum)))))
            problems.append(Problem(c.name, "unknown_enum", f"「{c.header}」的值不在允许范围（{'/'.join(c.enum)}）", bad))
    for chk in source.checks:
        col_name, kind = chk.split(":")
        if col_name not in present:
            continue
        c = source.column(col_name)
        col = typed[col_name]
        ok = usable.get(col_name, np.ones(len(col), dtype=bool))
        if kind in RANGE_CHECKS:
            lo, hi, strict_min = RANGE_CHECKS[kind]
            v = _as_float(col)
            below = pc.less_equal(v, lo) if strict_min else pc.less(v, lo)
            bad = _np(pc.or_(below, pc.greater(v, hi))) & ok
            bound = f"({lo}, {hi}]" if strict_min else f"[{lo}, {hi}]"
            problems.append(Problem(col_name, "out_of_range", f"「{c.header}」超出范围 {bound}", bad))
        elif kind == "not_after_extract":
            end = dt.datetime.combine(extract_date + dt.timedelta(days=1), dt.time())
            if c.type == "date":
                bad = _np(pc.greater(col, pa.scalar(extract_date, pa.date32())))
            else:
                bad = _np(pc.greater_equal(col, pa.scalar(end, pa.timestamp("s"))))
            problems.append(Problem(col_name, "after_extract_date",
                                    f"「{c.header}」晚于本提取文件的日期 {extract_date:%Y-%m-%d}（不可能已发生）", bad & ok))
        elif kind == "non_negative":
            bad = _np(pc.less(_as_float(col), 0)) & ok
            problems.append(Problem(col_name, "negative", f"「{c.header}」为负数", bad))
    warnings += _implausible(source, typed, present, extract_date, usable)
    return [p for p in problems if p.mask.any()], [w for w in warnings if w.mask.any()]


def _implausible(source, typed, present, extract_date, usable) -> list[Warning_]:
    """Values the contract lets through but nobody should trust without a look."""
    kinds: dict[str, set[str]] = {}
    for chk in source.checks:
        col_name, kind = chk.split(":")
        kinds.setdefault(col_name, set()).add(kind)
    out = []
    for c in source.columns:
        checked = kinds.get(c.name, set())
        if c.name not in present or checked & set(RANGE_CHECKS) or "not_after_extract" in checked:
            continue
        col, ok = typed[c.name], usable.get(c.name)
        if ok is None:
            continue
        if c.type in ("date", "datetime"):
            day = pc.cast(col, pa.date32()) if c.type == "datetime" else col
            # a date may be planned years ahead (a service end), a recorded time may not
            late = extract_date + dt.timedelta(days=PLAUSIBLE_DAYS_AHEAD if c.type == "datetime" else 36500)
            bad = _np(pc.or_(pc.less(day, pa.scalar(PLAUSIBLE_FROM, pa.date32())),
                             pc.greater(day, pa.scalar(late, pa.date32())))) & ok
            out.append(Warning_(c.name, "implausible_date",
                                f"「{c.header}」早于 2000 年或晚于提取日期{'一年' if c.type == 'datetime' else '一百年'}以上，请核对", bad))
        elif c.type == "decimal":
            v = _as_float(col)
            bad = _np(pc.greater_equal(pc.abs(v), PLAUSIBLE_AMOUNT)) & ok
            out.append(Warning_(c.name, "implausible_number", f"「{c.header}」的绝对值达到 10¹² 以上，请核对", bad))
            neg = _np(pc.less(v, 0)) & ok
            if "non_negative" not in checked:
                out.append(Warning_(c.name, "negative_value", f"「{c.header}」为负数，请核对", neg))
    return out
