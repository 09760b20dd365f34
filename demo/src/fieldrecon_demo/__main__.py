"""python -m fieldrecon_demo --landing DIR [--seed N] [--engineers N] [--months N]
[--end-date YYYY-MM-DD] [--manifest PATH] [--csv-only]"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from .generator import generate, write_manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fieldrecon_demo",
                                description="Write demo extracts into a landing folder.")
    p.add_argument("--landing", required=True, type=Path, help="landing folder to write the extracts into")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--engineers", type=int, default=40)
    p.add_argument("--months", type=int, default=3)
    p.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 11, 20),
                   help="last extract date = business date of the expected findings (YYYY-MM-DD)")
    p.add_argument("--manifest", type=Path, help="write the manifest JSON here (never inside the landing folder)")
    p.add_argument("--csv-only", action="store_true", help="write CSV only (faster for big sizes)")
    a = p.parse_args(argv)
    if a.manifest is not None:
        landing = a.landing.resolve()
        target = a.manifest.resolve()
        if landing == target.parent or landing in target.parents:
            p.error("--manifest must not be inside the landing folder: every file there is read as an extract")
    m = generate(a.landing, seed=a.seed, engineers=a.engineers, months=a.months, end_date=a.end_date,
                 formats="csv" if a.csv_only else "mixed")
    if a.manifest is not None:
        a.manifest.parent.mkdir(parents=True, exist_ok=True)
        write_manifest(m, a.manifest)
    kinds: dict[str, int] = {}
    for f in m["files"]:
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    print(f"{len(m['files'])} files in {a.landing} ({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}); "
          f"{len(m['expected_findings'])} expected findings for {m['business_date']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
