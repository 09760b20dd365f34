"""Each source's state as of a run's as_of (`staging.<source>(as_of)`, newest extract wins), computed
once a night and shared by its steps instead of once per step: the quality step, five rule families,
reports, exports and packs all read it, and deduplicating a company's punches alone takes 4 s.

A shared state is an unlogged table `asof.<source>_<as_of>`, its comment the fingerprint of the
source's loaded files when it was computed. A step attaches it (`attach`): computed when missing,
recomputed when files loaded since, else read as it is. Its rows are the staging function's, so no
output depends on which step computed it, or when. The tables are real (GX and the steps of other
processes read them) and dropped when a run ends (`sweep`).

Advisory locks keyed by the table name keep this safe across processes: computing or replacing a
table takes CREATE exclusively; a reader holds USE shared until its transaction ends; a table is
dropped or replaced only with USE exclusively, so never under a reader (who finds it gone and
computes it again).
"""

from __future__ import annotations

import datetime as dt
import re
import zlib

import sqlalchemy as sa

CREATE_LOCK, USE_LOCK = 724_070, 724_071
LOCK_TIMEOUT = "5s"
SCHEMA = "asof"

# every loaded file of the source: a file loaded (or refused) since changes it
FINGERPRINT = sa.text("select coalesce(md5(string_agg(cast(f.file_id as text), ',' order by f.file_id)), '') "
                      "from ops.files as f where f.source = :s and f.status = 'loaded'")
COMMENT = sa.text("select obj_description(to_regclass(:t), 'pg_class')")


def temp_kind(conn: sa.Connection, name: str) -> str | None:
    """What this session's temp object `name` is: `r` a table, `v` a view (of a shared table), None none."""
    return conn.execute(sa.text("select c.relkind from pg_class as c where c.relnamespace = pg_my_temp_schema() "
                                "and c.relname = :n"), {"n": name}).scalar()


def table_name(source: str, as_of: dt.datetime) -> str:
    return f"{source}_{as_of:%Y%m%d%H%M}"


def _key(name: str) -> int:
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def create_table(conn: sa.Connection, table: str, source: str, as_of) -> None:
    """`table` as an unlogged copy of `staging.<source>(as_of)`, read by connections of other steps. No
    autovacuum: its analyze of a fresh table would hold a drop up for a second (deadlock_timeout)
    before the server cancels it."""
    conn.execute(sa.text(f"create unlogged table {table} with (autovacuum_enabled = false) as "
                         f"select * from staging.{source}(cast(:a as timestamp))"), {"a": as_of})


def _ensure(engine: sa.Engine, source: str, as_of: dt.datetime, name: str, fingerprint: str) -> bool:
    """The table computed from the files of `fingerprint`, in a transaction of its own (committed, so
    that every step sees it); False when an outdated one is being read and cannot be replaced."""
    table, key = f"{SCHEMA}.{name}", _key(name)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"set local lock_timeout = '{LOCK_TIMEOUT}'"))  # a view of it still locked: let go
            conn.execute(sa.text("select pg_advisory_xact_lock(:c, :k)"), {"c": CREATE_LOCK, "k": key})
            current = conn.execute(COMMENT, {"t": table}).scalar()
            if current == fingerprint:
                return True
            if conn.execute(sa.text("select to_regclass(:t) is not null"), {"t": table}).scalar():
                if not conn.execute(sa.text("select pg_try_advisory_xact_lock(:u, :k)"),
                                    {"u": USE_LOCK, "k": key}).scalar():
                    return False
                conn.execute(sa.text(f"drop table {table} cascade"))  # with the sessions' views of it
            create_table(conn, table, source, as_of)
            assert re.fullmatch(r"[0-9a-f]{32}|", fingerprint)  # a literal: COMMENT takes no parameters
            conn.execute(sa.text(f"comment on table {table} is '{fingerprint}'"))
            conn.execute(sa.text(f"analyze {table}"))
    except sa.exc.OperationalError as e:
        if _lock_timeout(e):
            return False
        raise
    return True


def _lock_timeout(e: sa.exc.OperationalError) -> bool:
    return getattr(e.orig, "pgcode", None) == "55P03"  # lock_not_available


def attach(conn: sa.Connection, source: str, as_of: dt.datetime) -> str | None:
    """The shared table of `source` as of `as_of`, current and held for `conn`'s transaction (its
    qualified name); None when it cannot be had (an outdated one is being read): compute privately."""
    name = table_name(source, as_of)
    table, key = f"{SCHEMA}.{name}", _key(name)
    fingerprint = conn.execute(FINGERPRINT, {"s": source}).scalar()
    for _ in range(3):  # a sweep or a replacement between computing and holding: again
        if not _ensure(conn.engine, source, as_of, name, fingerprint):
            return None
        conn.execute(sa.text("select pg_advisory_xact_lock_shared(:u, :k)"), {"u": USE_LOCK, "k": key})
        if conn.execute(COMMENT, {"t": table}).scalar() == fingerprint:
            return table
    return None


def index(conn: sa.Connection, name: str, as_of: dt.datetime, column: str) -> None:
    """An index on `column` of the source or model `name` a step of `conn` reads (looking rows up by
    it): on the shared table behind a view, in a transaction of its own and kept with the table
    (whoever holds it next finds it); on a private temp table, in conn's; nothing when neither is there."""
    kind = temp_kind(conn, name)
    if kind == "r":
        conn.execute(sa.text(f"create index on pg_temp.{name} ({column})"))
    elif kind == "v":
        shared = table_name(name, as_of)
        with conn.engine.begin() as own:
            own.execute(sa.text(f"set local lock_timeout = '{LOCK_TIMEOUT}'"))
            own.execute(sa.text("select pg_advisory_xact_lock(:c, :k)"), {"c": CREATE_LOCK, "k": _key(shared)})
            own.execute(sa.text(f"create index if not exists {shared}_{column} on {SCHEMA}.{shared} ({column})"))


def sweep(engine: sa.Engine) -> int:
    """Drop the shared tables no transaction reads (a run's end; a run of another date still working
    computes its tables again when it needs them); returns how many went."""
    dropped = 0
    with engine.connect() as conn:
        names = conn.execute(sa.text("select tablename from pg_tables where schemaname = :s order by 1"),
                             {"s": SCHEMA}).scalars().all()
        conn.commit()
        for name in names:
            key = {"k": _key(name), "c": CREATE_LOCK, "u": USE_LOCK}
            try:
                with conn.begin():
                    conn.execute(sa.text(f"set local lock_timeout = '{LOCK_TIMEOUT}'"))
                    if conn.execute(sa.text("select pg_try_advisory_xact_lock(:u, :k) "
                                            "and pg_try_advisory_xact_lock(:c, :k)"), key).scalar():
                        conn.execute(sa.text(f'drop table if exists {SCHEMA}."{name}" cascade'))
                        dropped += 1
            except sa.exc.OperationalError as e:  # a session's view of it locked: the next sweep
                if not _lock_timeout(e):
                    raise
    return dropped
