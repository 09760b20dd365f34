"""Hostile extracts through a whole run: formulas, control characters, mobile numbers and
over-long text in every source's free-text columns, in quarantined values and in a triage reason.
Every output (workbooks, CSVs, pack annexes and regional copies, JSON) opens, holds no formula and
no mobile number. The same world shows that outputs appear whole or not at all: a failing run
leaves the published outputs of its date as they were and no staging folder behind."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import os
import re
import uuid
import zipfile
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from fieldrecon_demo import generate

from fieldrecon import pipeline
from fieldrecon.contract import SOURCES
from fieldrecon.outputs import exports
from fieldrecon.warehouse import connection

pytestmark = pytest.mark.system

D = dt.date(2026, 11, 18)
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
HOSTILE_REASON = '=HYPERLINK("http://evil.example/","已核实") 请致电13912345678\x07'


def hostile(value: str, k: int) -> str:
    """One of the attacks, keeping the value recognisable (the same value maps the same way everywhere)."""
    v = value
    return [
        f'=HYPERLINK("http://evil.example/","{v}")',
        f"+{v}",
        f"-{v}+1",
        f"@{v}",
        f"{v[:1]}\x07\x08{v[1:]}\x1f",
        f"{v} 联系13912345678",
    ][k % 6]


def _pick(value: str) -> int | None:
    h = int(hashlib.sha256(value.encode()).hexdigest()[:8], 16)
    return h if h % 3 == 0 else None


def poison(landing: Path) -> None:
    """Rewrite every demo CSV: free-text values (IDs included, consistently), a few typed cells
    that will be quarantined (with a mobile number among them), one over-long note."""
    long_done = False
    for path in sorted(landing.glob("*.csv")):
        source = next((s for s in sorted(SOURCES, key=len, reverse=True) if path.name.startswith(s + "_")), None)
        if source is None:
            continue  # a file outside the contract (reported as unrecognised)
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        rows = list(csv.reader(io.StringIO(text)))
        header, body = rows[0], rows[1:]
        cols = SOURCES[source].by_header
        typed = next((n for n, h in enumerate(header) if cols.get(h) and cols[h].type != "text"), None)
        for i, row in enumerate(body):
            for j, h in enumerate(header):
                col = cols.get(h)
                if col is None or not row[j]:
                    continue
                if col.type == "text" and (k := _pick(row[j])) is not None:
                    row[j] = hostile(row[j], k)
                elif j == typed and i % 7 == 3:
                    row[j] = ["=1+2", "APP\x07", "13912345678", "@SUM(A1)"][i % 4]
            if "手机号" in header and "在职状态" in header and i % 4 == 0:  # swapped upstream
                a, b = header.index("手机号"), header.index("在职状态")
                row[a], row[b] = row[b], row[a]
            if not long_done and "工作内容" in header and row[header.index("工作内容")]:
                row[header.index("工作内容")] = "=" + "很长的说明" * 8000
                long_done = True
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows([header, *body])
        path.write_bytes(buf.getvalue().encode("utf-8-sig"))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    db = f"fr_hostile_{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FIELDRECON_DB", db)
        for k in ("archive", "packs", "reports"):  # the warehouse server stays the worktree's own
            mp.setenv(f"FIELDRECON_{k.upper()}", str(base / "home" / k))
        connection.engine.cache_clear()
        landing = base / "landing"
        generate(landing, seed=5, engineers=12, months=1, end_date=D, formats="csv")
        poison(landing)
        outputs = base / "home" / "outputs"
        handler, root = _Capture(), logging.getLogger()
        level = root.level
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        pipeline.run_in_process(D, str(landing), str(outputs))
        eng = connection.engine()
        with eng.begin() as c:
            ids = c.execute(sa.text("select finding_id from recon.finding_snapshots where business_date = :d "
                                    "order by finding_id limit 5"), {"d": D}).scalars().all()
            assert ids, "the hostile world has findings"
            for fid in ids:
                c.execute(sa.text("insert into recon.triage_marks (finding_id, reason, filing_ref, marked_by, marked_at) "
                                  "values (:f, :r, :ref, :by, now())"),
                          {"f": fid, "r": HOSTILE_REASON, "ref": "@REF-13812345678", "by": "=clerk"})
        try:
            pipeline.run_in_process(D, str(landing), str(outputs))  # again: marks in the outputs
        finally:
            root.removeHandler(handler)
            root.setLevel(level)
        yield {"base": base, "landing": landing, "outputs": outputs, "engine": eng, "log": handler.lines}
        connection.engine.cache_clear()
        admin = sa.create_engine(connection.url_for_database("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            if not os.environ.get("FIELDRECON_KEEP_TEST_DB"):
                c.execute(sa.text(f'drop database if exists "{db}" with (force)'))
        admin.dispose()


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(logging.Formatter("%(message)s").format(record))


def _members(path: Path):
    """(name, bytes) of a file, or of every member of a zip."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                yield f"{path.name}!{n}", z.read(n)
    else:
        yield path.name, path.read_bytes()


def _cells(name: str, body: bytes):
    if name.endswith(".xlsx"):
        wb = openpyxl.load_workbook(io.BytesIO(body))
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if c.data_type == "f":
                        raise AssertionError(f"{name} {ws.title}!{c.coordinate}: formula {c.value!r}")
                    yield f"{ws.title}!{c.coordinate}", c.value
    elif name.endswith(".csv"):
        for i, row in enumerate(csv.reader(io.StringIO(body.decode("utf-8-sig")))):
            for j, v in enumerate(row):
                yield f"r{i + 1}c{j + 1}", v


def test_every_output_opens_with_no_formula_and_no_mobile_number(world):
    files = [p for root in ("home/outputs", "home/packs", "home/reports") for p in (world["base"] / root).rglob("*")
             if p.is_file() and ".gx" not in p.parts]
    seen = {"xlsx": 0, "csv": 0, "annex": 0}
    hostile_seen = 0
    for path in files:
        for name, body in _members(path):
            if name.endswith((".json", ".html", ".csv")):
                text = body.decode("utf-8-sig")
                assert not PHONE.search(text), (name, PHONE.search(text).group(0))
            for where, v in _cells(name, body):
                if isinstance(v, str):
                    assert not (v.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(v)), (name, where, v[:60])
                    assert not PHONE.search(v), (name, where, v[:60])
                    assert len(v) <= 32_767, (name, where)
                    hostile_seen += v.startswith("'=") or "\u2407" in v
                elif isinstance(v, int):
                    assert not PHONE.fullmatch(str(v)), (name, where)
            kind = name.rsplit(".", 1)[-1]
            if kind in seen:
                seen[kind] += 1
            seen["annex"] += "附件明细" in name
    assert seen["xlsx"] >= 3 and seen["csv"] >= 3 and seen["annex"] >= 1, seen
    assert hostile_seen, "the hostile values reached the outputs (as text)"


def test_quarantined_values_and_triage_reason_are_shown_as_text(world):
    day = world["outputs"] / D.isoformat()
    q = openpyxl.load_workbook(day / "quarantine.xlsx")["隔离行"]
    values = [r[4] for r in q.iter_rows(min_row=2, values_only=True)]
    assert "'=1+2" in values and "APP\u2407" in values and "139****5678" in values
    x = openpyxl.load_workbook(day / "exceptions.xlsx")["已说明问题"]
    reasons = [r[4] for r in x.iter_rows(min_row=2, values_only=True)]
    assert reasons and all(r == "'=HYPERLINK(\"http://evil.example/\",\"已核实\") 请致电139****5678\u2407" for r in reasons)
    note = [v for row in csv.reader(io.StringIO((day / "findings.csv").read_text("utf-8-sig"))) for v in row]
    assert note


def test_no_mobile_number_in_the_log(world):
    assert world["log"], "the run logged"
    hits = [line for line in world["log"] if PHONE.search(line)]
    assert not hits, hits[:3]


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_failed_run_leaves_the_published_outputs_and_no_staging_folder(world, monkeypatch):
    root = world["outputs"]
    before = _tree(root / D.isoformat())
    assert "run_summary.json" in before and "findings.csv" in before

    def broken(engine, ctx):
        (Path(ctx.output_dir) / "findings.csv").write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(exports, "write_all", broken)
    with pytest.raises(OSError):
        pipeline.run_in_process(D, str(world["landing"]), str(root))
    assert _tree(root / D.isoformat()) == before
    assert sorted(p.name for p in root.iterdir() if p.name != ".gx") == [D.isoformat()]  # .gx: GX's own context
    with world["engine"].connect() as c:
        assert c.execute(sa.text("select status from ops.runs order by run_id desc limit 1")).scalar() == "failed"


def test_a_dead_runs_staging_folder_goes_with_the_next_run(world):
    root = world["outputs"]
    stale = root / f".{D.isoformat()}.tmp-1"  # what a killed task process left (run 1 has ended)
    (stale / "findings.csv").parent.mkdir(parents=True)
    (stale / "findings.csv").write_bytes(b"partial")
    other = D - dt.timedelta(days=1)
    with world["engine"].begin() as c:  # another date: a failed Airflow run, and one still running
        failed, running = (c.execute(sa.text(
            "insert into ops.runs (business_date, as_of, airflow_run_id, started_at, status) "
            "values (:d, :d, :r, now(), :s) returning run_id"), {"d": other, "r": r, "s": s}).scalar()
            for r, s in (("scheduled__a", "failed"), ("scheduled__b", "running")))
    for rid in (failed, running):
        (root / f".{other.isoformat()}.tmp-{rid}").mkdir()
    ctx = pipeline.prepare(pipeline.make_context(D, str(world["landing"]), str(root)))
    assert not stale.exists() and not (root / f".{other.isoformat()}.tmp-{failed}").exists()
    assert (root / f".{other.isoformat()}.tmp-{running}").is_dir()  # another date's run at work: left alone
    (root / f".{other.isoformat()}.tmp-{running}").rmdir()
    assert Path(ctx.output_dir).name == f".{D.isoformat()}.tmp-{ctx.run_id}" and Path(ctx.output_dir).is_dir()
    pipeline.fail(ctx)
    assert sorted(p.name for p in root.iterdir() if p.name != ".gx") == [D.isoformat()]  # .gx: GX's own context
