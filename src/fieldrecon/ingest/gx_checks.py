"""Great Expectations on the warehouse, once per run: the data team's view of data quality.

Suites are code, one per source, generated from the contract (`fieldrecon.contract`), and run
through GX's SQL (PostgreSQL) datasource on two assets per source: the raw layer of the files the
business date sees (row count against the files' own counts) and the typed, current rows
(`staging.<source>(as_of)`, the night's shared as-of tables (`typed_state`): required columns not
null, enum values in the list, coordinate and hours ranges, unique key, freshness = the newest
extract date is the business date). One checkpoint per run; its results and the Data Docs are
written into the run's outputs (`data_docs/index.html`). The GX context is ephemeral, one per run
(nothing kept between runs), so a date's Data Docs hold that date's validations only, whichever
dates ran before or at the same time; the run id is the business date and its as_of, not the wall
clock. GX stamps each validation with the wall-clock time it ran, gives its collapsible blocks random
ids and links its logo from the web with a time stamp: `_settle` replaces those (the time by the run
id's, the ids by ones derived from the page and position, the logo by the local copy), so a date's
Data Docs are the same bytes whatever the order or the hour; nothing is written into the project.
A failed expectation is a warning in the run summary, never a failure of the run.
GX is imported here only (4-5 s), by the quality step, never by a load task.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import logging
import os
import re
import sys
import threading
import uuid
from pathlib import Path

import jinja2
import sqlalchemy as sa

from fieldrecon import settings
from fieldrecon.contract import SOURCES, Source
from fieldrecon.warehouse import asof_state

log = logging.getLogger(__name__)
RANGES = {"lng": (-180, 180), "lat": (-90, 90), "hours": (0, 24)}
WORK_LOCK = 724_060  # advisory lock key (with the business date): one checkpoint per date at a time


def enabled() -> bool:
    return settings.get().gx


def suites(gx, source: Source, business_date: dt.date, raw_rows: int):
    """(raw suite, typed suite) of one source, from the contract."""
    raw = gx.ExpectationSuite(name=f"{source.name}.raw")
    raw.add_expectation(gx.expectations.ExpectTableRowCountToEqual(
        value=raw_rows, meta={"zh": f"{source.title_zh}：原始层行数应等于文件读取行数之和 {raw_rows}"}))
    typed = gx.ExpectationSuite(name=f"{source.name}.typed")
    for c in source.columns:
        if c.required:
            typed.add_expectation(gx.expectations.ExpectColumnValuesToNotBeNull(
                column=c.name, meta={"zh": f"必填列「{c.header}」不为空"}))
        if c.enum:
            typed.add_expectation(gx.expectations.ExpectColumnValuesToBeInSet(
                column=c.name, value_set=list(c.enum), meta={"zh": f"「{c.header}」取值在允许范围内"}))
    for chk in source.checks:
        col, kind = chk.split(":")
        if kind in RANGES:
            lo, hi = RANGES[kind]
            typed.add_expectation(gx.expectations.ExpectColumnValuesToBeBetween(
                column=col, min_value=lo, max_value=hi, strict_min=kind == "hours",
                meta={"zh": f"「{source.column(col).header}」在范围内"}))
    if len(source.key) == 1:
        typed.add_expectation(gx.expectations.ExpectColumnValuesToBeUnique(
            column=source.key[0], meta={"zh": "主键唯一（最新提取为准）"}))
    else:
        typed.add_expectation(gx.expectations.ExpectCompoundColumnsToBeUnique(
            column_list=list(source.key), meta={"zh": "主键唯一（最新提取为准）"}))
    typed.add_expectation(gx.expectations.ExpectColumnMaxToBeBetween(
        column="extract_date", min_value=business_date.isoformat(), max_value=business_date.isoformat(),
        meta={"zh": f"新鲜度：最新提取日期应为业务日期 {business_date.isoformat()}"}))
    return raw, typed


def typed_table(source: Source, business_date: dt.date) -> str:
    return f"gx_work.{source.name}_{business_date:%Y%m%d}"


@contextlib.contextmanager
def typed_state(engine: sa.Engine, business_date: dt.date, as_of: str):
    """Each source's typed as-of state as a table for the checkpoint's duration (yields the table of
    each source): a query asset on `staging.<source>(as_of)` computed newest-extract-wins again for
    each of GX's metric queries (135 of them, 7.5 s at medium scale). Real tables, as GX queries
    through connections of its own: the night's shared state (`warehouse.asof_state`, which the
    steps after this one read too), held until the checkpoint ends; a source whose shared table
    cannot be had (an outdated one being read) gets one of its own in gx_work, unlogged, named per
    business date (the name shows in the Data Docs, which must be a function of the date). A run of
    the same date meanwhile waits on the advisory lock; gx_work tables a killed run left are replaced
    by the date's next run, and swept by any other date's run while no run of their date holds its lock."""
    with engine.connect() as lock:
        lock.execute(sa.text("select pg_advisory_lock(:k, :d)"), {"k": WORK_LOCK, "d": business_date.toordinal()})
        lock.commit()
        try:
            _sweep_other_dates(lock, business_date)
            with engine.connect() as hold, hold.begin():  # holds the shared tables until the checkpoint ends
                tables = {name: asof_state.attach(hold, name, dt.datetime.fromisoformat(as_of)) for name in SOURCES}
                with engine.begin() as conn:
                    for source in SOURCES.values():
                        if tables[source.name]:
                            continue
                        tables[source.name] = table = typed_table(source, business_date)
                        conn.execute(sa.text(f"drop table if exists {table}"))
                        asof_state.create_table(conn, table, source.name, as_of)
                yield tables
        finally:
            with engine.begin() as conn:
                conn.execute(sa.text("set local lock_timeout = '1min'"))  # an error, never a hung night
                for source in SOURCES.values():
                    conn.execute(sa.text(f"drop table if exists {typed_table(source, business_date)}"))
            lock.execute(sa.text("select pg_advisory_unlock(:k, :d)"), {"k": WORK_LOCK, "d": business_date.toordinal()})
            lock.commit()


def _sweep_other_dates(conn: sa.Connection, business_date: dt.date) -> None:
    """Drop the tables runs of other dates left when killed mid-checkpoint (a date never rerun would
    keep them forever): those of a date whose lock is free; a date being checked holds its lock."""
    names = conn.execute(sa.text("select tablename from pg_tables where schemaname = 'gx_work'")).scalars().all()
    by_date: dict[dt.date, list[str]] = {}
    for name in names:
        m = re.fullmatch(r"(\w+)_(\d{8})", name)
        if m and m.group(1) in SOURCES:
            day = dt.datetime.strptime(m.group(2), "%Y%m%d").date()
            if day != business_date:
                by_date.setdefault(day, []).append(name)
    for day, tables in sorted(by_date.items()):
        key = {"k": WORK_LOCK, "d": day.toordinal()}
        if conn.execute(sa.text("select pg_try_advisory_lock(:k, :d)"), key).scalar():
            try:
                for table in tables:
                    conn.execute(sa.text(f'drop table if exists gx_work."{table}"'))
                conn.commit()
            finally:
                conn.execute(sa.text("select pg_advisory_unlock(:k, :d)"), key)
                conn.commit()
    conn.commit()


_importing: threading.Thread | None = None


def prefetch() -> None:
    """Start importing GX (4-5 s of Python, most of a medium night's quality step) in a thread of its
    own, so that it overlaps the step's SQL, which the server works on meanwhile."""
    global _importing
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # read at import and by the context
    if _importing is None and enabled() and "great_expectations" not in sys.modules:
        _importing = threading.Thread(target=importlib.import_module, args=("great_expectations",),
                                      name="gx-import", daemon=True)
        _importing.start()


def run(engine: sa.Engine, url: str, business_date: dt.date, as_of: str, output_dir: Path) -> dict:
    """Run the checkpoint of this business date; returns what the run summary shows."""
    prefetch()
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    with engine.connect() as conn:
        raw_rows = dict(conn.execute(sa.text(
            "select source, sum(rows_read) from ops.files where status = 'loaded' and extract_date <= :d group by 1"),
            {"d": business_date}).all())
    with typed_state(engine, business_date, as_of) as tables:  # the server materialises while GX is imported
        return _checkpoint(url, business_date, as_of, output_dir, raw_rows, tables)


def _checkpoint(url: str, business_date: dt.date, as_of: str, output_dir: Path, raw_rows: dict,
                tables: dict[str, str]) -> dict:
    import great_expectations as gx  # waits for the prefetch's import (the import lock), if any
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    docs_dir = output_dir / "data_docs"
    site = "run_outputs"
    ctx.add_data_docs_site(site, {
        "class_name": "SiteBuilder", "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)}})
    day = business_date.strftime("%Y%m%d")
    from zoneinfo import ZoneInfo

    run_time = dt.datetime.fromisoformat(as_of).replace(tzinfo=ZoneInfo(settings.LOCAL_TZ))
    ds = ctx.data_sources.add_sql("warehouse", connection_string=url)
    try:
        definitions = []
        for source in SOURCES.values():
            raw_suite, typed_suite = suites(gx, source, business_date, int(raw_rows.get(source.name) or 0))
            raw_query = (f"select r.* from raw.{source.name} as r join ops.files as f on f.file_id = r.file_id "
                         f"where f.status = 'loaded' and f.extract_date <= date '{business_date.isoformat()}'")
            # the typed state as a table asset: GX reads its column types from the catalogue (for a query
            # asset it fetched the whole query's result, 1.9 s for a company's punches)
            schema, table = tables[source.name].split(".")
            assets = {"raw": ds.add_query_asset(f"{source.name}.raw.{day}", query=raw_query),
                      "typed": ds.add_table_asset(f"{source.name}.typed.{day}", table_name=table, schema_name=schema)}
            for layer, suite in (("raw", raw_suite), ("typed", typed_suite)):
                batch = assets[layer].add_batch_definition_whole_table("all")
                suite = ctx.suites.add(suite)
                definitions.append(ctx.validation_definitions.add(
                    gx.ValidationDefinition(name=f"{source.name}.{layer}.{day}", data=batch, suite=suite)))
        # no UpdateDataDocsAction: it rebuilds the site (index included) after each of the 20 validations;
        # the pages are built once below, from the same results
        checkpoint = ctx.checkpoints.add(gx.Checkpoint(
            name=f"nightly.{day}", validation_definitions=definitions, actions=[], result_format="SUMMARY"))
        result = checkpoint.run(run_id=RunIdentifier(run_name=f"nightly.{day}", run_time=run_time))
    finally:
        ds.get_engine().dispose()  # GX's pooled connections, before the tables they read are dropped
    _cache_gx_templates()
    pages = []
    for result_id, vr in result.run_results.items():
        pages += [result_id, ExpectationSuiteIdentifier(name=vr.suite_name)]
    ctx.build_data_docs(site_names=[site], resource_identifiers=pages, dry_run=False, build_index=True)
    _settle(docs_dir, run_time.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ"))
    failed = []
    for vr in result.run_results.values():
        suite_name = vr.suite_name
        for r in vr.results:
            if not r.success:
                cfg = r.expectation_config
                failed.append({"suite": suite_name, "expectation": cfg.type,
                               "column": cfg.kwargs.get("column") or cfg.kwargs.get("column_list"),
                               "message": (cfg.meta or {}).get("zh", ""),
                               "observed": _observed(r.result)})
    index = docs_dir / "index.html"
    return {"success": bool(result.success), "checkpoint": f"nightly.{day}", "validations": len(definitions),
            "failed_expectations": failed, "data_docs": str(index.relative_to(output_dir)) if index.exists() else None}


class _TemplateCode(jinja2.BytecodeCache):
    """Compiled Jinja templates kept in memory for the process: GX makes a new Jinja environment for
    every block of every Data Docs page and compiles its templates again (~1,000 compilations a night,
    most of the quality step's time)."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _TemplateCode()


def _cache_gx_templates() -> None:
    """Give GX's page views the shared compiled-template cache (the pages are the same)."""
    from great_expectations.render.view.view import DefaultJinjaView

    if getattr(DefaultJinjaView, "_fieldrecon_cached", False):
        return
    original = DefaultJinjaView.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.env.bytecode_cache = _TEMPLATE_CODE

    DefaultJinjaView.__init__ = init
    DefaultJinjaView._fieldrecon_cached = True


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
STAMP = re.compile(r"\b\d{8}T\d{6}\.\d{6}Z\b")
REMOTE_LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[\w.-]+\.amazonaws\.com/(logo-long\.png)\?d=[\w.]+")


def _settle(docs_dir: Path, run_stamp: str) -> None:
    """Make GX's pages a function of the run: its wall-clock stamps become the run id's time, its random
    element ids ids derived from the page and their order, its remote logo the site's own copy."""
    for page in sorted(docs_dir.rglob("*.html")):
        rel = page.relative_to(docs_dir).as_posix()
        page.write_text(_settled(page.read_text(encoding="utf-8"), rel, run_stamp), encoding="utf-8")


def _settled(text: str, rel: str, run_stamp: str) -> str:
    ids: dict[str, str] = {}

    def stable_id(m: re.Match) -> str:
        return ids.setdefault(m.group(0), str(uuid.uuid5(uuid.NAMESPACE_URL, f"{rel}#{len(ids)}")))

    static = "../" * rel.count("/") + "static/images/"
    text = UUID.sub(stable_id, text)
    text = STAMP.sub(run_stamp, text)
    return REMOTE_LOGO.sub(lambda m: static + m.group(1), text)


def _observed(result: dict) -> object:
    if "observed_value" in result:
        v = result["observed_value"]
        return v if isinstance(v, int | float | str | None) else str(v)
    return {k: result.get(k) for k in ("unexpected_count", "unexpected_percent") if k in result}
