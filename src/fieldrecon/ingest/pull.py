"""Pulling extracts from the landing location into the content-addressed archive and registry.

The landing location is any path object with `iterdir()` and `open()`: a local folder, or an
Airflow `ObjectStoragePath` (`s3://…`, `sftp://…` with a connection). Each file is copied to
`<archive>/<sha256[:2]>/<sha256>` before anything reads it; the archive is never rewritten.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from fieldrecon.ingest.reading import UnrecognisedFile, parse_name

log = logging.getLogger(__name__)
PULL_LOCK = 724_002


def _archive(entry, archive: Path) -> tuple[str, int, Path]:
    archive.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    size = 0
    with entry.open("rb") as src, tempfile.NamedTemporaryFile(dir=archive, delete=False) as tmp:
        while chunk := src.read(1 << 20):
            h.update(chunk)
            tmp.write(chunk)
            size += len(chunk)
    sha = h.hexdigest()
    target = archive / sha[:2] / sha
    target.parent.mkdir(exist_ok=True)
    if target.exists():
        os.unlink(tmp.name)
    else:
        shutil.move(tmp.name, target)
        os.chmod(target, 0o444)
    return sha, size, target


def _is_symlink(entry) -> bool:
    return bool(getattr(entry, "is_symlink", lambda: False)())


def _refusal(entry) -> str | None:
    """Why a landing entry is not read: only regular files directly in the landing are extracts.
    A symlink is never followed (it could point anywhere, e.g. outside the landing); a folder is
    never descended into."""
    if _is_symlink(entry):
        return f"{entry.name} 是符号链接（快捷方式），不读取：请把文件本身放入投放目录"
    if entry.is_dir():
        return (f"{entry.name} 是文件夹，不读取其中的文件：只读取投放目录本身的文件，"
                "请把提取文件直接放入投放目录")
    if not entry.is_file():
        return f"{entry.name} 不是普通文件，不读取"
    return None


def _register_refused(conn, entry, reason: str, now) -> None:
    """A refused entry is registered by its name and reason (its content is never read)."""
    marker = hashlib.sha256(f"refused:{entry.name}:{reason}".encode()).hexdigest()
    conn.execute(
        sa.text(
            "insert into ops.files (file_name, sha256, size_bytes, arrived_at, status, reason) "
            "values (:n, :s, 0, :t, 'refused', :r) on conflict do nothing"
        ),
        {"n": entry.name, "s": marker, "t": now, "r": reason},
    )


def pull(engine: sa.Engine, landing, archive: Path) -> dict[str, list[dict]]:
    """Register every file in `landing`; returns this pull's files by outcome."""
    result: dict[str, list[dict]] = {"new": [], "known": [], "repeat": [], "unrecognised": [], "refused": []}
    entries = []
    refused = []
    for e in sorted(landing.iterdir(), key=lambda e: e.name):
        reason = _refusal(e)
        (refused.append((e, reason)) if reason else entries.append(e))
    now = datetime.now(UTC)  # arrival time: an operational fact, not business logic
    with engine.begin() as conn:
        conn.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": PULL_LOCK})
        for entry, reason in refused:
            _register_refused(conn, entry, reason, now)
            result["refused"].append({"file_name": entry.name, "reason": reason})
            log.warning("refused landing entry %s: %s", entry.name, reason)
        for entry in entries:
            sha, size, target = _archive(entry, archive)
            item = {"file_name": entry.name, "sha256": sha}
            try:
                name = parse_name(entry.name)
            except UnrecognisedFile as e:
                item["reason"] = str(e)
                conn.execute(
                    sa.text(
                        "insert into ops.files (file_name, sha256, size_bytes, arrived_at, archive_path, status, reason) "
                        "values (:n, :s, :z, :t, :p, 'unrecognised', :r) on conflict do nothing"
                    ),
                    {"n": entry.name, "s": sha, "z": size, "t": now, "p": str(target), "r": str(e)},
                )
                result["unrecognised"].append(item)
                continue
            first = conn.execute(
                sa.text(
                    "select file_id, file_name from ops.files where sha256 = :s "
                    "and status not in ('repeat', 'unrecognised') order by file_id limit 1"
                ),
                {"s": sha},
            ).one_or_none()
            if first is not None and first.file_name == entry.name:
                result["known"].append(item | {"file_id": first.file_id})
                continue
            if first is not None:
                conn.execute(
                    sa.text(
                        "insert into ops.files (file_name, source, extract_date, delivery_no, sha256, size_bytes, "
                        "arrived_at, archive_path, status, repeat_of, reason) values (:n, :src, :d, :dn, :s, :z, :t, :p, "
                        "'repeat', :of, :r) on conflict do nothing"
                    ),
                    {"n": entry.name, "src": name.source, "d": name.extract_date, "dn": name.delivery_no, "s": sha,
                     "z": size, "t": now, "p": str(target), "of": first.file_id,
                     "r": f"与已收到的文件 {first.file_name} 内容相同（重复文件，不改变任何数据）"},
                )
                result["repeat"].append(item | {"repeat_of": first.file_name})
                continue
            file_id = conn.execute(
                sa.text(
                    "insert into ops.files (file_name, source, extract_date, delivery_no, sha256, size_bytes, "
                    "arrived_at, archive_path, status) values (:n, :src, :d, :dn, :s, :z, :t, :p, 'pending') "
                    "returning file_id"
                ),
                {"n": entry.name, "src": name.source, "d": name.extract_date, "dn": name.delivery_no, "s": sha,
                 "z": size, "t": now, "p": str(target)},
            ).scalar_one()
            result["new"].append(item | {"file_id": file_id, "source": name.source})
    log.info("pulled %s", {k: len(v) for k, v in result.items()})
    return result
