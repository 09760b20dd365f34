"""What a run's document builders share: parallel rendering and the run's list of documents.

- `map_parallel(fn, jobs)`: renders in worker processes (2, or 1 on a one-core machine), results
  in job order. The workers are started once per process and kept (`pool()`): each has imported
  the builders and warmed its Typst compiler (fonts loaded) before its first document, so the
  reports and the packs of a night share them. A handful of jobs render in this process (starting
  workers would cost more than they save).
- `write_documents_csv(output_dir, kinds, rows)`: `documents.csv` in the run's output folder, one row
  per document the run's store holds for that date (kind, region, subject, version, status, path in
  the store, sha256). Each builder replaces the rows of its own kinds, so reports and packs write
  one file between them.
"""

from __future__ import annotations

import atexit
import csv
import fcntl
import io
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from fieldrecon.outputs.files import bom_csv, write_atomic

IN_PROCESS_BELOW = 12
KIND_ORDER = ("验收包", "驻场周报", "驻场月报")
HEADER = ("类型", "区域", "对象（PO-行_周期 / 工单_工程师_周期）", "版本", "状态", "存放位置（相对路径）", "sha256")
FIELDS = ("kind", "region", "subject", "version", "status", "path", "sha256")


WORKERS = max(1, min(2, os.cpu_count() or 1))
_pool: ProcessPoolExecutor | None = None
_pool_pid: int | None = None


def workers() -> int:
    return WORKERS


def _warm_worker(*_) -> None:
    """A worker's start: the Typst compiler's fonts loaded, once."""
    from fieldrecon.outputs import render

    render.warm()


def pool() -> ProcessPoolExecutor:
    """This process's document workers, started on first use and kept until it exits."""
    global _pool, _pool_pid
    if _pool is None or _pool_pid != os.getpid() or getattr(_pool, "_broken", False):
        # spawn: the workers start clean (no inherited database connections or threads)
        _pool = ProcessPoolExecutor(max_workers=workers(), mp_context=multiprocessing.get_context("spawn"),
                                    initializer=_warm_worker)
        _pool_pid = os.getpid()
        atexit.register(shutdown_pool)
    return _pool


def shutdown_pool() -> None:
    global _pool
    if _pool is not None and _pool_pid == os.getpid():
        _pool.shutdown(wait=not getattr(_pool, "_broken", False), cancel_futures=True)
    _pool = None


def map_parallel(fn: Callable, jobs: Sequence, chunksize: int | None = None) -> Iterator:
    """`fn` over `jobs` in the worker processes, results in job order as they come (the caller
    writes one while the workers render the next). `fn` must be a module-level function and every
    job self-contained: the workers' environment is the one of their start."""
    if len(jobs) < IN_PROCESS_BELOW or workers() == 1 or multiprocessing.current_process().daemon:
        # a daemonic process may not start children: a Celery worker's task (its prefork child is
        # daemonic) renders in its own process, the workers' slots being the parallelism there
        return (fn(j) for j in jobs)
    chunk = chunksize or max(1, min(16, len(jobs) // (workers() * 8)))
    if multiprocessing.parent_process() is not None:
        # a multiprocessing child joins its children before any atexit hook: a kept pool would
        # never be told to stop, so the child's workers live for this call only
        with ProcessPoolExecutor(max_workers=workers(), mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_warm_worker) as once:
            return iter(list(once.map(fn, jobs, chunksize=chunk)))
    return pool().map(fn, jobs, chunksize=chunk)  # a pool broken by a dead worker is replaced next time


def write_documents_csv(output_dir: str | Path, kinds: Sequence[str], rows: list[dict]) -> Path:
    """Replace the rows of `kinds` in `<output_dir>/documents.csv` with `rows` (locked, atomic)."""
    path = Path(output_dir) / "documents.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        kept = []
        if path.exists():
            for r in list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))[1:]:
                if r and r[0] not in kinds:
                    kept.append(dict(zip(FIELDS, r, strict=False)))
        every = kept + [{k: "" if r.get(k) is None else str(r[k]) for k in FIELDS} for r in rows]
        every.sort(key=lambda r: (KIND_ORDER.index(r["kind"]) if r["kind"] in KIND_ORDER else 99, r["region"],
                                  r["subject"], r["version"].zfill(6)))
        write_atomic(path, bom_csv(HEADER, ([r[k] for k in FIELDS] for r in every)))
    path.with_suffix(".lock").unlink(missing_ok=True)
    return path
