"""Loader benchmark (not a test): one punch extract of 1,000,000 rows as CSV and one of 200,000
rows as xlsx, each loaded end to end (pull, read, normalise, type, row checks, COPY) into a fresh
warehouse database in its own process; prints rows/s, peak memory of the loading process, the
ratio of the CSV load time to a bare PostgreSQL COPY of the same file into an untyped table, and
the ratio of the xlsx load time to calamine's own read of the file (in a process of its own).

    .venv/bin/python bench/bench_load.py [--csv-rows N] [--xlsx-rows N]
Targets (issue 13, 2-core machine): CSV >= 150,000 rows/s and <= 4x a bare COPY; xlsx <= 1.5x
calamine's read; peak <= 500 MiB for the 1M-row CSV.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

HEADERS = ["打卡记录ID", "工单号", "工号", "姓名", "打卡类型", "打卡时间", "经度", "纬度", "打卡地址", "打卡方式"]
TYPES = ["出发", "到达", "开始", "完成", "离场"]


def punch_columns(n: int, seed: int = 1) -> dict[str, list | np.ndarray]:
    rng = np.random.default_rng(seed)
    base = np.datetime64("2026-01-01T08:00:00") + rng.integers(0, 300 * 86400, n).astype("timedelta64[s]")
    iso = np.datetime_as_string(base, unit="s").astype(str)
    iso = np.char.replace(iso, "T", " ")
    slash = np.char.replace(iso, "-", "/")  # the second style (zero-padded here; the parser accepts both)
    when = np.where(rng.random(n) < 0.5, iso, slash)
    return {
        "打卡记录ID": np.char.add("PC", np.arange(n).astype(str)),
        "工单号": np.char.add("WO2026", rng.integers(0, n // 5 + 1, n).astype(str)),
        "工号": np.char.add("E", rng.integers(10000, 11500, n).astype(str)),
        "姓名": np.full(n, "张三"),
        "打卡类型": np.array(TYPES)[rng.integers(0, len(TYPES), n)],
        "打卡时间": when,
        "经度": np.round(120 + rng.random(n), 6).astype(str),
        "纬度": np.round(30 + rng.random(n), 6).astype(str),
        "打卡地址": np.full(n, "浙江省杭州市滨江区网商路599号"),
        "打卡方式": np.full(n, "APP"),
    }


def write_csv(path: Path, n: int) -> None:
    cols = punch_columns(n)
    table = pa.table({h: pa.array(cols[h].tolist(), type=pa.string()) for h in HEADERS})
    pacsv.write_csv(table, path)


def write_xlsx(path: Path, n: int) -> None:
    from openpyxl import Workbook

    cols = punch_columns(n, seed=2)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("打卡记录")
    ws.append(["NetCare 打卡记录导出"])
    ws.append([])
    ws.append(HEADERS)
    for row in zip(*(cols[h].tolist() for h in HEADERS), strict=True):
        ws.append(row)
    wb.save(path)


def load_in_child(path: Path, db: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(path), "--db", db], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def peak_rss() -> int:
    """This process's own peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the
    forked parent, which here holds the generated extract (it made every figure the parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(path: Path, db: str) -> None:
    import os

    # this checkout's code and warehouse, as in the parent (the venv's own install may be another checkout's)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ["FIELDRECON_DB"] = db
    from fieldrecon.ingest import loader, pull
    from fieldrecon.warehouse import connection, migrate

    eng = connection.engine()
    migrate.migrate(eng)
    landing = path.parent
    t0 = time.perf_counter()
    pull.pull(eng, landing, landing / "archive")
    results = loader.load_source(eng, "netcare_punches")
    secs = time.perf_counter() - t0
    peak = peak_rss()
    print(json.dumps({"seconds": secs, "peak_bytes": peak, "results": results}))


def calamine_read(path: Path) -> float:
    code = ("import sys, time; from python_calamine import CalamineWorkbook; t = time.perf_counter(); "
            "CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python(); print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def bare_copy(path: Path, db: str) -> float:
    import os

    os.environ["FIELDRECON_DB"] = db
    from fieldrecon.warehouse import connection

    eng = connection.engine()
    with eng.begin() as conn:
        cur = conn.connection.dbapi_connection.cursor()
        cur.execute("create temp table bare (" + ", ".join(f"c{i} text" for i in range(len(HEADERS))) + ")")
        t0 = time.perf_counter()
        with path.open("rb") as f:
            cur.copy_expert("copy bare from stdin with (format csv, header true)", f)
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv-rows", type=int, default=1_000_000)
    ap.add_argument("--xlsx-rows", type=int, default=200_000)
    ap.add_argument("--child")
    ap.add_argument("--db")
    args = ap.parse_args()
    if args.child:
        child(Path(args.child), args.db)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from fieldrecon.warehouse import connection

    admin = connection.url_for_database("postgres")
    import sqlalchemy as sa

    adm = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        figures = {}
        for kind, n, writer in (("csv", args.csv_rows, write_csv), ("xlsx", args.xlsx_rows, write_xlsx)):
            folder = tmp / kind
            folder.mkdir()
            path = folder / f"netcare_punches_20261103.{kind}"
            t0 = time.perf_counter()
            writer(path, n)
            gen = time.perf_counter() - t0
            db = f"fr_bench_{uuid.uuid4().hex[:8]}"
            with adm.connect() as c:
                c.execute(sa.text(f'create database "{db}"'))
            try:
                r = load_in_child(path, db)
                res = r["results"][0]
                assert res["rows_read"] == n and res["rows_loaded"] + res["rows_quarantined"] + res["rows_duplicate"] == n
                figures[kind] = {"rows": n, "seconds": r["seconds"], "rows_per_s": n / r["seconds"],
                                 "peak_mib": r["peak_bytes"] / 2**20, "generate_s": gen, "bytes": path.stat().st_size}
                if kind == "csv":
                    figures[kind]["bare_copy_s"] = bare_copy(path, db)
                    figures[kind]["ratio_to_copy"] = r["seconds"] / figures[kind]["bare_copy_s"]
                else:
                    figures[kind]["calamine_s"] = calamine_read(path)
                    figures[kind]["ratio_to_calamine"] = r["seconds"] / figures[kind]["calamine_s"]
            finally:
                connection.engine.cache_clear()
                with adm.connect() as c:
                    c.execute(sa.text(f'drop database if exists "{db}" with (force)'))
    c, x = figures["csv"], figures["xlsx"]
    print(f"CSV : {c['rows']:,} rows in {c['seconds']:.1f} s = {c['rows_per_s']:,.0f} rows/s (target >= 150,000); "
          f"peak {c['peak_mib']:.0f} MiB (target <= 500)")
    print(f"      bare COPY of the same file {c['bare_copy_s']:.2f} s; load / COPY = {c['ratio_to_copy']:.1f}x (target <= 4x)")
    print(f"XLSX: {x['rows']:,} rows in {x['seconds']:.1f} s = {x['rows_per_s']:,.0f} rows/s; calamine's own read "
          f"{x['calamine_s']:.1f} s; load / calamine = {x['ratio_to_calamine']:.2f}x (target <= 1.5x); peak {x['peak_mib']:.0f} MiB")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
