"""Typing and quarantine of one loaded file in PostgreSQL: one set-based statement per source,
generated here from the contract (`fieldrecon.contract`), so the rules are written once.

The raw layer holds every row as received (text, file id, physical row number). The statement
reads a file's raw rows and, without ever raising, normalises (NFKC, strip, empty -> null), types
(both datetime styles, Excel serials rounded to the second, thousands separators, 是/否, `08:30`),
checks the contract (empty required cells, enum lists, values too large for their type, ranges,
dates after the extract's date, negative amounts), finds exact duplicates (cell by cell, the
first kept), and writes the typed rows, the quarantine (a Chinese reason naming the column) and
each raw row's disposition. Every cast is guarded (a shape check or `pg_input_is_valid` first),
so a bad cell becomes a quarantine row, never an error. Implausible values come back as row lists
for the run summary's warnings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fieldrecon.contract import SOURCES, Column, Source

RANGE_CHECKS = {"lng": (-180, 180, False), "lat": (-90, 90, False), "hours": (0, 24, True)}
DOUBLE_MAX = "1.7976931348623157e308"
PLAUSIBLE_FROM = dt.date(2000, 1, 1)
PLAUSIBLE_DAYS_AHEAD = 366
PLAUSIBLE_AMOUNT = "1e12"
TRUE_WORDS = ["是", "Y", "y", "YES", "Yes", "yes", "TRUE", "True", "true", "1"]
FALSE_WORDS = ["否", "N", "n", "NO", "No", "no", "FALSE", "False", "false", "0"]
TYPE_ZH = {"datetime": "日期时间", "date": "日期", "time": "时间", "decimal": "数字", "int": "整数", "bool": "是/否"}
LIMIT_ZH = {"int": "超出整数范围（−2147483648 至 2147483647）", "decimal": "数值过大，超出可存储的范围"}

# whitespace stripped after NFKC (what NFKC leaves of Unicode's White_Space, C0 separators included)
_WS = "E' \\t\\n\\u000b\\f\\r\\u001c\\u001d\\u001e\\u001f\\u0085\\u1680\\u2028\\u2029'"
# both datetime styles: `2026-11-03 09:12:00`, `2026/11/3 9:12`, with `.`/`T`/fractions (regex style)
_DT_SHAPE = r"^[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}([ T]+[0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}(\.[0-9]+)?)?)?$"
_TIME_SHAPE = r"^[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$"
_NUMBER = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_INT = r"^[+-]?[0-9]+(\.0*)?$"


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _array(values) -> str:
    return "array[" + ", ".join(_lit(v) for v in values) + "]::text[]"


def _norm(x: str) -> str:
    """NFKC, strip, empty -> null. NFKC is skipped for ASCII, which it leaves alone, and for text
    already in NFKC (most Chinese text): checking is cheaper than normalising."""
    nfkc = f"case when octet_length({x}) = char_length({x}) or {x} is nfkc normalized then {x} else normalize({x}, nfkc) end"
    return f"nullif(btrim({nfkc}, {_WS}), '')"


def _is_number(x: str) -> str:
    """`x` is a plain number (NUMBER shape); the common forms without the regex engine."""
    body = f"(case when left({x}, 1) in ('+', '-') then substr({x}, 2) else {x} end)"
    skel = f"translate({body}, '0123456789', '')"
    return f"(case when {skel} in ('', '.') then length({body}) > length({skel}) else {x} ~ {_lit(_NUMBER)} end)"


def _fits(x: str, pg_type: str) -> str:
    """The guard before a cast: the text is valid input for the type (no error, ever)."""
    return f"pg_input_is_valid({x}, '{pg_type}')"


def _float(x: str) -> str:
    """A numeric as float8 for the range checks, without the underflow error of tiny values (a
    value a double rounds to zero is zero, a smaller nonzero one keeps its sign). The checks
    compare the numeric itself first and convert only the rare values near a bound."""
    return (f"(case when abs({x}) >= 1e-300 or {x} = 0 then {x}::float8 "
            f"when abs({x}) > 2.4703282292062328e-324 then sign({x})::float8 * 1e-300 else 0::float8 end)")


@dataclass(frozen=True)
class Problem:
    column: Column
    code: str
    reason_sql: str  # SQL expression of the Chinese reason
    condition: str  # SQL condition on the `typed` row


@dataclass(frozen=True)
class Warning_:
    column: Column
    code: str
    message: str
    condition: str


def _fast_templates() -> list[str]:
    """Digit templates (digits as 9) of the datetimes exports write most: PostgreSQL's own
    timestamp input takes these exactly as the contract means them (year first, `-` or `/`)."""
    out = []
    for sep in "-/":
        for mo in ("9", "99"):
            for d in ("9", "99"):
                day = f"9999{sep}{mo}{sep}{d}"
                out.append(day)
                out += [f"{day} {h}:99{s}" for h in ("9", "99") for s in ("", ":99")]
    return out


def _stamp(x: str) -> str:
    """The raw cell read by PostgreSQL's own timestamp input when it is shaped like a datetime (or
    a date) written the way PostgreSQL writes one, with `-` or `/`; null otherwise. Computed with
    the normalised cell (layer norm) and kept only where it reads back to that cell's text."""
    shapes = [f"{x} like '{d}{t}'" for d in ("____-__-__", "____/__/__") for t in (" __:__:__", "")]
    return f"(case when ({' or '.join(shapes)}) and pg_input_is_valid({x}, 'timestamp') then {x}::timestamp end)"


def _canonical_stamp(n: str, stamp: str) -> str:
    """`n` is the text of `stamp` as PostgreSQL writes it (with `-` or `/`, time or midnight left
    out): then `stamp` is what its input makes of `n`, digit for digit. Cheaper than the digit
    templates' translate."""
    text = f"{stamp}::text"
    return (f"({stamp} is not null and ({n} = {text} or {n} = replace({text}, '-', '/') "
            f"or {n} || ' 00:00:00' = {text} or replace({n}, '/', '-') || ' 00:00:00' = {text}))")


def _general_datetime(n: str) -> str:
    """Every other accepted shape, field by field (`.` separators, `T`, fractions rounded to the
    second, any year in the plain style, 1900-2999 in the regex style), or an Excel serial."""
    s = f"translate({n}, 'T', ' ')"
    dp = f"translate(split_part({s}, ' ', 1), '/.', '--')"
    tp = f"ltrim(substr({s}, length(split_part({s}, ' ', 1)) + 1))"
    y, mo, d = (f"split_part({dp}, '-', {i})::int" for i in (1, 2, 3))
    h = f"coalesce(nullif(split_part({tp}, ':', 1), '')::int, 0)"
    mi = f"coalesce(nullif(split_part({tp}, ':', 2), '')::int, 0)"
    sec = f"split_part({tp}, ':', 3)"
    se = f"coalesce(nullif(split_part({sec}, '.', 1), '')::int, 0)"
    fr = f"split_part({sec}, '.', 2)"
    dim = (f"(case when {mo} in (4, 6, 9, 11) then 30 when {mo} = 2 then "
           f"(case when {y} % 4 = 0 and ({y} % 100 <> 0 or {y} % 400 = 0) then 29 else 28 end) else 31 end)")
    year_ok = (f"((length(split_part({dp}, '-', 1)) = 4 and {y} between 1900 and 2999) or "
               f"({y} >= 1 and strpos({n}, '.') = 0 and strpos({n}, 'T') = 0))")
    valid = f"({year_ok} and {mo} between 1 and 12 and {d} between 1 and {dim} and {h} < 24 and {mi} < 60 and {se} < 60)"
    frac = f"(case when {fr} = '' then 0 else round(('0.' || {fr})::float8)::int end)"
    stamp = f"(make_timestamp({y}, {mo}, {d}, {h}, {mi}, {se}) + ({frac}) * interval '1 second')"
    serial = (f"(case when {_is_number(n)} and pg_input_is_valid({n}, 'float8') and {n}::float8 >= 1 "
              f"and {n}::float8 < 2958466 then timestamp '1899-12-30' + round({n}::float8 * 86400.0) * interval '1 second' end)")
    return f"(case when {n} ~ {_lit(_DT_SHAPE)} then (case when {valid} then {stamp} end) else {serial} end)"


def _typed(c: Column) -> list[str]:
    """The typed value t_<name> (null when empty, not parseable or too large for its type). A CASE
    per cell: the common shapes first, cheaply."""
    n, name = f"n_{c.name}", c.name
    if c.type in ("datetime", "date"):
        fast = (f"(case when strpos({n}, ' 24:') = 0 and strpos({n}, ':60') = 0 and pg_input_is_valid({n}, 'timestamp') "
                f"then {n}::timestamp end)")
        templates = "array[" + ", ".join(_lit(t) for t in _fast_templates()) + "]"
        value = (f"(case when {n} is null then null when {_canonical_stamp(n, f's_{name}')} then s_{name} "
                 f"when translate({n}, '0123456789', '9999999999') = any({templates}) "
                 f"then {fast} else {_general_datetime(n)} end)")
        if c.type == "date":
            value = f"({value})::date"
        return [f"{value} as t_{name}"]
    if c.type == "time":
        h, mi = f"split_part({n}, ':', 1)::int", f"split_part({n}, ':', 2)::int"
        s = f"coalesce(nullif(split_part(split_part({n}, ':', 3), '.', 1), '')::int, 0)"
        clock = f"(case when {h} < 24 and {mi} < 60 and {s} < 60 then make_time({h}, {mi}, {s}) end)"
        fraction = (f"(case when {_is_number(n)} and pg_input_is_valid({n}, 'float8') and {n}::float8 >= 0 and {n}::float8 < 1 "
                    f"then time '00:00' + (round({n}::float8 * 86400.0)::int % 86400) * interval '1 second' end)")
        return [f"(case when {n} is null then null when {n} ~ {_lit(_TIME_SHAPE)} then {clock} else {fraction} end) as t_{name}"]
    if c.type == "decimal":  # n_ is without thousands separators already (layer norm)
        # no exponent and under 300 characters: certainly within a double's range
        small = f"(strpos({n}, 'e') = 0 and strpos({n}, 'E') = 0 and length({n}) < 300)"
        number = (f"(rtrim({n}, '0123456789.eE+-') = '' and {_fits(n, 'numeric')} "
                  f"and ({small} or abs({n}::numeric) <= {DOUBLE_MAX}))")
        return [f"(case when {n} is null then null when {number} then {n}::numeric end) as t_{name}"]
    if c.type == "int":
        digits = f"regexp_replace({n}, '\\.0*$', '')"
        plain = f"(translate({n}, '0123456789+-', '') = '' and {_fits(n, 'integer')})"
        return [f"(case when {n} is null then null when {plain} then {n}::integer "
                f"when {n} ~ {_lit(_INT)} and {_fits(digits, 'integer')} then {digits}::integer end) as t_{name}"]
    if c.type == "bool":
        return [f"(case when {n} = any({_array(TRUE_WORDS)}) then true "
                f"when {n} = any({_array(FALSE_WORDS)}) then false end) as t_{name}"]
    return [f"{n} as t_{name}"]


def _big(c: Column) -> str:
    """A number of the right shape that does not fit its type (too large is reported on its own)."""
    shape = _INT if c.type == "int" else _NUMBER
    return f"(n_{c.name} is not null and t_{c.name} is null and n_{c.name} ~ {_lit(shape)})"


def _bad(c: Column) -> str:
    """Has a value that did not parse."""
    if c.type in ("text", "enum"):
        return "false"
    if c.type in ("int", "decimal"):
        return f"(n_{c.name} is not null and t_{c.name} is null and n_{c.name} !~ {_lit(_INT if c.type == 'int' else _NUMBER)})"
    return f"(n_{c.name} is not null and t_{c.name} is null)"


def problems(source: Source) -> list[Problem]:
    """The contract's row checks, in the order the quarantine has always listed them."""
    out: list[Problem] = []
    for c in source.columns:
        if c.type in TYPE_ZH:
            out.append(Problem(c, "unparseable", _lit(f"「{c.header}」的值无法解析为{TYPE_ZH[c.type]}"), _bad(c)))
        if c.type in LIMIT_ZH:
            out.append(Problem(c, "too_large", _lit(f"「{c.header}」{LIMIT_ZH[c.type]}"), _big(c)))
    for c in source.columns:
        if c.required:
            out.append(Problem(c, "empty", _lit(f"必填列「{c.header}」为空"), f"(n_{c.name} is null)"))
        if c.enum:
            out.append(Problem(c, "unknown_enum", _lit(f"「{c.header}」的值不在允许范围（{'/'.join(c.enum)}）"),
                               f"(t_{c.name} is not null and t_{c.name} <> all({_array(c.enum)}))"))
    for chk in source.checks:
        name, kind = chk.split(":")
        c = source.column(name)
        t = f"t_{name}"
        if kind in RANGE_CHECKS:
            lo, hi, strict_min = RANGE_CHECKS[kind]
            v = _float(t)  # the bounds as a double sees them; a value 1 inside them is inside for a double too
            below = f"{v} <= {lo}" if strict_min else f"{v} < {lo}"
            bound = f"({lo}, {hi}]" if strict_min else f"[{lo}, {hi}]"
            out.append(Problem(c, "out_of_range", _lit(f"「{c.header}」超出范围 {bound}"),
                               f"({t} is not null and ({t} < {lo + 1} or {t} > {hi - 1}) and ({below} or {v} > {hi}))"))
        elif kind == "not_after_extract":
            limit = "p.extract_date" if c.type == "date" else "p.extract_end"
            op = ">" if c.type == "date" else ">="
            out.append(Problem(c, "after_extract_date",
                               f"{_lit(f'「{c.header}」晚于本提取文件的日期 ')} || to_char(p.extract_date, 'YYYY-MM-DD') "
                               f"|| {_lit('（不可能已发生）')}",
                               f"({t} is not null and {t} {op} {limit})"))
        elif kind == "non_negative":
            out.append(Problem(c, "negative", _lit(f"「{c.header}」为负数"), f"({t} is not null and {t} < 0)"))
    return out


def warnings(source: Source) -> list[Warning_]:
    """Values the contract lets through but nobody should trust without a look (run summary)."""
    kinds: dict[str, set[str]] = {}
    for chk in source.checks:
        name, kind = chk.split(":")
        kinds.setdefault(name, set()).add(kind)
    out = []
    for c in source.columns:
        checked = kinds.get(c.name, set())
        if checked & set(RANGE_CHECKS) or "not_after_extract" in checked:
            continue
        t = f"t_{c.name}"
        if c.type in ("date", "datetime"):
            day = f"{t}::date" if c.type == "datetime" else t
            # a date may be planned years ahead (a service end), a recorded time may not
            ahead = PLAUSIBLE_DAYS_AHEAD if c.type == "datetime" else 36500
            out.append(Warning_(c, "implausible_date",
                                f"「{c.header}」早于 2000 年或晚于提取日期{'一年' if c.type == 'datetime' else '一百年'}以上，请核对",
                                f"({t} is not null and ({day} < date '{PLAUSIBLE_FROM}' or {day} > p.extract_date + {ahead}))"))
        elif c.type == "decimal":
            out.append(Warning_(c, "implausible_number", f"「{c.header}」的绝对值达到 10¹² 以上，请核对",
                                f"({t} is not null and abs({t}) >= {PLAUSIBLE_AMOUNT} - 1 "
                                f"and abs({_float(t)}) >= {PLAUSIBLE_AMOUNT})"))
            if "non_negative" not in checked:
                out.append(Warning_(c, "negative_value", f"「{c.header}」为负数，请核对", f"({t} is not null and {t} < 0)"))
    return out


def _join(items: list[str], indent: str = "        ") -> str:
    return (",\n" + indent).join(items)


def _norm_column(c: Column) -> str:
    if c.enum:  # the listed values are normal already
        listed = f"({c.name} = any({_array(c.enum)}))"
        return f"(case when {listed} then {c.name} else {_norm(c.name)} end) as n_{c.name}"
    if c.type == "decimal":  # thousands separators dropped
        return f"replace({_norm(c.name)}, ',', '') as n_{c.name}"
    if c.type in ("datetime", "date"):
        return f"{_norm(c.name)} as n_{c.name},\n        {_stamp(c.name)} as s_{c.name}"
    return f"{_norm(c.name)} as n_{c.name}"


def typing_statement(source_name: str) -> str:
    """The one statement that types, checks and dispositions a loaded file of `source_name`.
    Bound parameters: file_id, extract_date, row_from, row_to (the rows typed: all of them, or a
    range when a refusal is narrowed down to its row). Returns one row: counts and warning row lists."""
    s = SOURCES[source_name]
    cols = s.columns
    probs = problems(s)
    warns = warnings(s)
    raw = _join([f"r.{c.name}" for c in cols])
    norm = _join([_norm_column(c) for c in cols])
    typed = [e for c in cols for e in _typed(c)]
    problem_array = _join([f"case when {p.condition} then {i} end" for i, p in enumerate(probs, 1)], "                ")
    any_problem = "\n            or ".join(p.condition for p in probs)
    raw_values = ", ".join(f"typed.{c.name}" for c in cols)
    # a key's hash (bigint: no overflow); a collision only adds a candidate, compared cell by cell
    key_hash = " # ".join(f"(hashtext(coalesce(typed.n_{k}, ''))::bigint * {31 ** i})" for i, k in enumerate(s.key))
    extras_norm = (f"(case when r.extra_columns is null then null else (select jsonb_strip_nulls(jsonb_object_agg(e.key, "
                   f"{_norm('e.value')})) from jsonb_each_text(r.extra_columns) as e) end)")
    partition = _join([f"{_norm('r.' + c.name)} collate \"C\"" for c in cols] + [extras_norm], "                ")
    catalogue = _join([f"({i}, {cols.index(p.column) + 1}, {_lit(p.column.name)}, {_lit(p.column.header)}, "
                       f"{_lit(p.code + ':' + p.column.name)}, {p.reason_sql})" for i, p in enumerate(probs, 1)])
    target = ", ".join(c.name for c in cols)
    typed_values = ", ".join(f"c.t_{c.name}" for c in cols)
    kept = [f"typed.t_{c.name}" for c in cols]
    warning_cols = "".join(f",\n        coalesce(array_agg(c.row_no order by c.row_no) filter (where {w.condition}), "
                           f"'{{}}') as w{i}" for i, w in enumerate(warns))
    return f"""-- generated by fieldrecon.ingest.typing_sql from the contract: {s.name} ({s.title_zh})
with p as (
    select
        cast(:file_id as bigint) as file_id,
        cast(:extract_date as date) as extract_date,
        cast(:extract_date as date) + interval '1 day' as extract_end,
        cast(:row_from as integer) as row_from,
        cast(:row_to as integer) as row_to
),

src as (
    select
        r.row_no,
        r.ctid as raw_tid,
        {raw}
    from raw.{s.name} as r
    where
        r.file_id = (select p.file_id from p)
        and r.disposition = 'loaded'
        and r.row_no between (select p.row_from from p) and (select p.row_to from p)
),

norm as (
    select
        src.*,
        {norm}
    from src
    offset 0
),

typed as (
    select
        norm.*,
        {_join(typed)}
    from norm
    offset 0
),

flagged as (
    select
        typed.*,
        case when
            {any_problem}
            then array_remove(array[
                {problem_array}
            ]::int [], null)
        end as problems
    from typed cross join p
    offset 0
),

checked as materialized (
    select
        typed.row_no,
        typed.raw_tid,
        {key_hash} as key_hash,
        {_join(kept)},
        typed.problems,
        case when problems is not null then array[{raw_values}] end as raw_values
    from flagged as typed
),

repeated_keys as (
    select checked.key_hash
    from checked
    group by checked.key_hash
    having count(*) > 1
),

candidates as (
    select c.raw_tid
    from checked as c
    inner join repeated_keys as k on c.key_hash = k.key_hash
),

duplicates as (
    select ranked.row_no
    from (
        select
            r.row_no,
            row_number() over (
                partition by
                {partition}
                order by r.row_no
            ) as copy_no
        from raw.{s.name} as r
        where
            r.ctid = any(array(select candidates.raw_tid from candidates))  -- the candidates only, not a scan
            and r.file_id = (select p.file_id from p)
    ) as ranked
    where ranked.copy_no > 1
),

catalogue as (
    select v.*
    from p
    cross join lateral (values
        {catalogue}
    ) as v (problem, col, column_name, header, reason_code, reason)
),

typed_rows as (
    insert into staging.{s.name}_rows (file_id, row_no, extract_date, {target})
    select p.file_id, c.row_no, p.extract_date, {typed_values}
    from checked as c cross join p
    where c.problems is null and c.row_no not in (select duplicates.row_no from duplicates)
    returning 1
),

quarantined as (
    insert into ops.quarantine (file_id, row_no, column_name, header, value, reason_code, reason)
    select p.file_id, c.row_no, k.column_name, k.header, c.raw_values[k.col], k.reason_code, k.reason
    from checked as c
    cross join lateral unnest(c.problems) as u (problem)
    inner join catalogue as k on u.problem = k.problem
    cross join p
    where c.problems is not null and c.row_no not in (select duplicates.row_no from duplicates)
    returning 1
),

dispositions as (
    select duplicates.row_no, 'duplicate' as disposition from duplicates
    union all
    select c.row_no, 'quarantined' as disposition
    from checked as c
    where c.problems is not null and c.row_no not in (select duplicates.row_no from duplicates)
),

marked as (
    update raw.{s.name} as r
    set disposition = d.disposition
    from dispositions as d
    where r.file_id = (select p.file_id from p) and r.row_no = d.row_no
    returning 1
),

final as (
    select
        count(*) as rows_typed,
        (select count(*) from typed_rows) as rows_loaded,
        (select count(*) from dispositions where dispositions.disposition = 'quarantined') as rows_quarantined,
        (select count(*) from duplicates) as rows_duplicate,
        (select count(*) from quarantined) as quarantine_written,
        (select count(*) from marked) as raw_marked{warning_cols}
    from checked as c cross join p
)

select * from final
"""


def warning_list(source_name: str) -> list[Warning_]:
    return warnings(SOURCES[source_name])



_PARAMS = ("file_id", "extract_date", "row_from", "row_to", "cells")


def _dbapi(sql: str) -> str:
    """For a psycopg2 cursor: its literal colons (times, casts) are no bind parameters there."""
    sql = sql.replace("%", "%%")
    for name in _PARAMS:
        sql = sql.replace(f":{name}", f"%({name})s")
    return sql


def dbapi_statement(source_name: str) -> str:
    """The typing statement for a psycopg2 cursor."""
    return _dbapi(typing_statement(source_name))


def cells_query(type_: str) -> str:
    """Types the cells of the array parameter `cells` with the statement's own expressions, one
    row per cell in order (value, bad): how a contract type reads a value, for tests and checks.
    For a psycopg2 cursor (parameter `%(cells)s`)."""
    c = Column("值", "v", type_)
    big = _big(c) if type_ in LIMIT_ZH else "false"
    return _dbapi(f"""select typed.t_v as value, ({_bad(c)} or {big}) as bad
from (
    select norm.*, {", ".join(_typed(c))}
    from (select u.i, {_norm_column(c)} from unnest(cast(:cells as text [])) with ordinality as u (v, i) offset 0) as norm
    offset 0
) as typed
order by typed.i""")
