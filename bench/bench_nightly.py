"""Nightly benchmark (not a test): per-step seconds of a whole first run and of the next night's
run at a given scale, on demo data, in a fresh warehouse database and a fresh data area.

    .venv/bin/python bench/bench_nightly.py [--engineers 400] [--months 3]
Scales of issue 15: medium = 400 engineers (about 60 residents), 3 months; company-year = 1,500
engineers (about 300 residents), 12 months. Targets (2-core machine): medium first run <= 60 s end
to end; company-year first run <= 5 min, the following night <= 2 min.

The first night is business date `--end-date` on the demo world generated for it; the next night is
the following business date on the same world and the same landing (the demo delivers once a week, so
most nights see no new file): what changed is the as-of date — periods that end, reports and packs that
fall due — and everything else must be skipped by its content hash. Each step's seconds are printed,
with the load average beside them (the machine is shared).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


NIGHT = """
import json, sys, time, datetime as dt
from fieldrecon import pipeline as p
steps = {}
def timed(name, fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    steps[name] = round(time.perf_counter() - t, 2)
    return out
t0 = time.perf_counter()
ctx = timed("prepare", p.prepare, p.make_context(dt.date.fromisoformat(sys.argv[1]), sys.argv[2]))
try:
    timed("pull", p.pull_extracts, ctx)
    timed("loads", p.load_sources, ctx)  # the sources side by side, as in the DAG
    timed("quality", p.quality_summary, ctx)
    timed("rules", p.run_rule_families, ctx)  # the families side by side, as in the DAG
    reports = timed("reports", p.resident_reports, ctx)
    timed("exports", p.exports, ctx)
    packs = timed("packs", p.acceptance_packs, ctx)
    timed("finish", p.finish, ctx)
except BaseException:
    p.fail(ctx)
    raise
print(json.dumps({"wall": time.perf_counter() - t0, "steps": steps,
                  "rendered": {"reports": reports["rendered"], "packs": packs["rendered"]}}))
"""


def night(landing: Path, business_date: dt.date, env: dict) -> dict:
    """One nightly run in a fresh interpreter, the steps of `pipeline.run_in_process` timed one by one."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", NIGHT, business_date.isoformat(), str(landing)], env=env,
                         check=True, stdout=subprocess.PIPE, text=True)  # the run's log goes to stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - t0
    return result


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def documents(home: Path, business_date: dt.date) -> dict:
    path = home / "outputs" / business_date.isoformat() / "documents.csv"
    kinds: dict[str, int] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8-sig").splitlines()[1:]:
            kinds[line.split(",")[0]] = kinds.get(line.split(",")[0], 0) + 1
    return kinds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engineers", type=int, default=400)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--end-date", default="2026-11-20")
    ap.add_argument("--no-next", action="store_true", help="only the first night")
    ap.add_argument("--keep", metavar="DIR", help="keep the world, its stores and its database (named in DIR/database) "
                    "in DIR, to time further nights on it")
    args = ap.parse_args()
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "demo" / "src")]
    import sqlalchemy as sa
    from fieldrecon_demo import generate

    from fieldrecon.warehouse import connection

    end = dt.date.fromisoformat(args.end_date)
    db = f"fr_bench_{uuid.uuid4().hex[:8]}"
    adm = sa.create_engine(connection.url_for_database("postgres"), isolation_level="AUTOCOMMIT")
    with adm.connect() as c:
        c.execute(sa.text(f'create database "{db}"'))
    try:
        with (contextlib.nullcontext(args.keep) if args.keep else tempfile.TemporaryDirectory(prefix="fr-bench-")) as tmp:
            tmp = Path(tmp)
            if args.keep:
                tmp.mkdir(parents=True, exist_ok=True)
                (tmp / "database").write_text(db)
            # the worktree's embedded server with a fresh database; every store in the temp folder
            home = tmp / "home"
            env = dict(os.environ, FIELDRECON_DB=db, FIELDRECON_ARCHIVE=str(home / "archive"),
                       FIELDRECON_OUTPUT=str(home / "outputs"), FIELDRECON_PACKS=str(home / "packs"),
                       FIELDRECON_REPORTS=str(home / "reports"), PYTHONPATH=f"{ROOT / 'src'}:{ROOT / 'demo' / 'src'}")
            figures = {"scale": {"engineers": args.engineers, "months": args.months}}
            t0 = time.perf_counter()
            manifest = generate(tmp / "landing1", engineers=args.engineers, months=args.months, end_date=end,
                                formats="csv")
            figures["generate_seconds"] = round(time.perf_counter() - t0, 1)
            figures["extract_rows"] = sum(f["rows"] for f in manifest["files"])
            figures["load_before"] = load_average()
            first = night(tmp / "landing1", end, env)
            figures["first_night"] = {"business_date": end.isoformat(), "end_to_end_seconds": round(first["wall"], 1),
                                      "with_interpreter_start_seconds": round(first["process"], 1),
                                      "steps": first["steps"], "rendered": first["rendered"],
                                      "documents": documents(home, end), "load_after": load_average()}
            print(json.dumps(figures, ensure_ascii=False), flush=True)
            if not args.no_next:
                nxt = end + dt.timedelta(days=1)
                second = night(tmp / "landing1", nxt, env)
                figures["next_night"] = {"business_date": nxt.isoformat(), "end_to_end_seconds": round(second["wall"], 1),
                                         "with_interpreter_start_seconds": round(second["process"], 1),
                                         "steps": second["steps"], "rendered": second["rendered"],
                                         "documents": documents(home, nxt), "load_after": load_average()}
            print(json.dumps(figures, ensure_ascii=False, indent=1))
    finally:
        if not args.keep:
            with adm.connect() as c:
                c.execute(sa.text(f'drop database if exists "{db}" with (force)'))


if __name__ == "__main__":
    main()
