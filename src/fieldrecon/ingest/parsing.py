"""Vectorised normalisation and typing of extract cells (pyarrow compute, no per-row Python).

Input is one column of raw cell text; output is the typed column plus a mask of cells that had a
value but did not parse. Quirks handled (extracts.md): NFKC + strip, both datetime styles
(`2026-11-03 09:12:00`, `2026/11/3 9:12`), Excel serial datetimes (rounded to the second),
amounts with thousands separators, 是/否 booleans, `08:30` times.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "s")
DATETIME_RE = (
    r"^(?P<y>\d{4})[-/.](?P<mo>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T]+(?P<h>\d{1,2}):(?P<mi>\d{1,2})(?::(?P<s>\d{1,2})(?P<f>\.\d+)?)?)?$"
)
TIME_RE = r"^(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?$"
NUMBER_RE = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
INT_RE = r"^[+-]?\d+(\.0*)?$"  # beyond the warehouse integer: quarantined as too_large (row_contracts)
TRUE_WORDS = ["是", "Y", "y", "YES", "Yes", "yes", "TRUE", "True", "true", "1"]
FALSE_WORDS = ["否", "N", "n", "NO", "No", "no", "FALSE", "False", "false", "0"]


def normalise(arr: pa.Array) -> pa.Array:
    """NFKC, trim, and empty -> null. NFKC is the identity on ASCII, so all-ASCII columns skip it;
    other columns are normalised once per distinct value (names, types, addresses repeat a lot)."""
    arr = arr.cast(pa.string())
    if pc.all(pc.string_is_ascii(arr)).as_py() is not True:
        enc = pc.dictionary_encode(arr)
        if len(enc.dictionary) * 4 < len(arr):
            values = pc.utf8_trim_whitespace(pc.utf8_normalize(enc.dictionary, "NFKC"))
            arr = values.take(enc.indices)
            return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
        arr = pc.utf8_normalize(arr, "NFKC")
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _int_field(struct: pa.StructArray, name: str, default: int | None = None) -> np.ndarray:
    f = struct.field(name)
    f = pc.if_else(pc.equal(f, ""), pa.scalar(None, pa.string()), f)
    out = pc.cast(f, pa.int64()).to_numpy(zero_copy_only=False)
    if default is not None:
        out = np.where(pd.isna(out), default, out)
    return out


def _serial_to_datetime(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Excel serial day numbers (text) -> datetime64[s] rounded to the second; mask of hits."""
    is_num = pc.fill_null(pc.match_substring_regex(arr, NUMBER_RE), False).to_numpy(zero_copy_only=False)
    values = np.full(len(arr), np.nan)
    if is_num.any():
        values[is_num] = pc.cast(pc.filter(arr, pa.array(is_num)), pa.float64()).to_numpy(zero_copy_only=False)
    ok = is_num & (values >= 1) & (values < 2958466)
    secs = np.where(ok, np.round(np.nan_to_num(values) * 86400.0), 0).astype("int64")
    out = EXCEL_EPOCH + secs.astype("timedelta64[s]")
    return np.where(ok, out, np.datetime64("NaT", "s")), ok


FAST_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


def _fast_datetime(arr: pa.Array) -> np.ndarray:
    """Arrow's strptime for the common shapes (either separator, padded or not); it rolls Feb 30
    over to Mar 2, so a parse whose day differs from the text's day is discarded."""
    dashed = pc.replace_substring(arr, "/", "-")
    ts = pa.nulls(len(arr), pa.timestamp("s"))
    for fmt in FAST_FORMATS:
        ts = pc.coalesce(ts, pc.strptime(dashed, format=fmt, unit="s", error_is_null=True))
    hit = pc.is_valid(ts)
    if pc.any(hit).as_py():
        texts = pc.filter(dashed, hit)
        day_part = pc.list_element(pc.split_pattern(texts, "-", max_splits=2), 2)
        day_text = pc.list_element(pc.split_pattern(day_part, " ", max_splits=1), 0)
        same_day = pc.equal(pc.cast(day_text, pa.int64()), pc.day(pc.filter(ts, hit)))
        keep = np.zeros(len(arr), dtype=bool)
        keep[np.flatnonzero(hit.to_numpy(zero_copy_only=False))] = same_day.to_numpy(zero_copy_only=False)
        ts = pc.if_else(pa.array(keep), ts, pa.scalar(None, pa.timestamp("s")))
    return ts.to_numpy(zero_copy_only=False).astype("datetime64[s]")


def _regex_datetime(arr: pa.Array) -> np.ndarray:
    """The general shape (fractional seconds, `T`, `.` separators), validated field by field."""
    result = np.full(len(arr), np.datetime64("NaT", "s"))
    parts = pc.extract_regex(pc.fill_null(arr, ""), DATETIME_RE)
    matched = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    if matched.any():
        s = parts.filter(pa.array(matched))
        frac = pc.fill_null(s.field("f"), "")
        frac_sec = pc.cast(pc.if_else(pc.equal(frac, ""), "0", pc.binary_join_element_wise("0", frac, "")), pa.float64())
        y, mo, d = _int_field(s, "y"), _int_field(s, "mo"), _int_field(s, "d")
        h, mi, se = _int_field(s, "h", 0), _int_field(s, "mi", 0), _int_field(s, "s", 0)
        ok = (mo >= 1) & (mo <= 12) & (d >= 1) & (h < 24) & (mi < 60) & (se < 60) & (y >= 1900) & (y <= 2999)
        month_start = (np.where(ok, (y - 1970) * 12 + mo - 1, 0)).astype("datetime64[M]")
        day = month_start.astype("datetime64[D]") + np.where(ok, d - 1, 0).astype("timedelta64[D]")
        ok &= day.astype("datetime64[M]") == month_start  # rejects Feb 30, Nov 31 …
        secs = h * 3600 + mi * 60 + se + np.round(frac_sec.to_numpy(zero_copy_only=False)).astype("int64")
        vals = day.astype("datetime64[s]") + np.where(ok, secs, 0).astype("timedelta64[s]")
        vals[~ok] = np.datetime64("NaT")
        result[matched] = vals
    return result


def parse_datetime(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Returns (timestamp[s] array, bad mask) for a normalised text column."""
    present = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    result = _fast_datetime(arr)
    rest = present & np.isnat(result)
    if rest.any():
        idx = np.flatnonzero(rest)
        sub = arr.take(pa.array(idx))
        slow = _regex_datetime(sub)
        serial, ok = _serial_to_datetime(sub)
        slow = np.where(np.isnat(slow) & ok, serial, slow)
        result[idx] = slow
    bad = present & np.isnat(result)
    return pa.array(result, type=pa.timestamp("s")), bad


def parse_date(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    ts, bad = parse_datetime(arr)
    return pc.cast(pc.floor_temporal(ts, unit="day"), pa.date32()), bad


def parse_time(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """`08:30`, `08:30:00`, or an Excel time fraction (0.354166…)."""
    present = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    parts = pc.extract_regex(pc.fill_null(arr, ""), TIME_RE)
    matched = pc.is_valid(parts).to_numpy(zero_copy_only=False) & present
    secs = np.full(len(arr), -1, dtype="int64")
    if matched.any():
        s = parts.filter(pa.array(matched))
        h, mi, se = _int_field(s, "h"), _int_field(s, "mi"), _int_field(s, "s", 0)
        ok = (h < 24) & (mi < 60) & (se < 60)
        secs[matched] = np.where(ok, h * 3600 + mi * 60 + se, -1)
    rest = present & ~matched
    if rest.any():
        is_num = pc.fill_null(pc.match_substring_regex(arr, NUMBER_RE), False).to_numpy(zero_copy_only=False)
        hit = rest & is_num
        if hit.any():
            frac = pc.cast(pc.filter(arr, pa.array(hit)), pa.float64()).to_numpy(zero_copy_only=False)
            frac_secs = np.round((frac % 1.0) * 86400).astype("int64")
            secs[hit] = np.where((frac >= 0) & (frac < 1), frac_secs % 86400, -1)
    bad = present & (secs < 0)
    out = pa.array(np.where(secs >= 0, secs, 0).astype("int32"), type=pa.int32()).view(pa.time32("s"))
    return pc.if_else(pa.array(secs >= 0), out, pa.scalar(None, pa.time32("s"))), bad


def parse_decimal(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Keeps the decimal text (exact) once it is a plain number; thousands separators removed."""
    cleaned = pc.replace_substring(arr, ",", "")
    ok = pc.fill_null(pc.match_substring_regex(cleaned, NUMBER_RE), False)
    present = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    bad = present & ~ok.to_numpy(zero_copy_only=False)
    return pc.if_else(ok, cleaned, pa.scalar(None, pa.string())), bad


def parse_int(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    ok = pc.fill_null(pc.match_substring_regex(arr, INT_RE), False)
    present = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    bad = present & ~ok.to_numpy(zero_copy_only=False)
    ints = pc.replace_substring_regex(pc.if_else(ok, arr, pa.scalar(None, pa.string())), r"\.0*$", "")
    return ints, bad


def parse_bool(arr: pa.Array) -> tuple[pa.Array, np.ndarray]:
    is_true = pc.is_in(arr, value_set=pa.array(TRUE_WORDS))
    is_false = pc.is_in(arr, value_set=pa.array(FALSE_WORDS))
    present = pc.is_valid(arr).to_numpy(zero_copy_only=False)
    known = pc.or_(is_true, is_false).to_numpy(zero_copy_only=False)
    out = pc.if_else(pc.or_(is_true, is_false), is_true, pa.scalar(None, pa.bool_()))
    return out, present & ~known


PARSERS = {
    "datetime": parse_datetime,
    "date": parse_date,
    "time": parse_time,
    "decimal": parse_decimal,
    "int": parse_int,
    "bool": parse_bool,
}


def parse(arr: pa.Array, type_: str) -> tuple[pa.Array, np.ndarray]:
    """Typed column and bad mask for a normalised text column of a contract type."""
    if type_ in PARSERS:
        return PARSERS[type_](arr)
    return arr, np.zeros(len(arr), dtype=bool)
