"""Writing output files: atomically, deterministically (same content, same bytes), and as the
BOM-prefixed UTF-8 CSV that Excel opens in Chinese. Every writer of an output file uses these."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

# The one timestamp written into documents and archives (zip entries, workbook properties):
# outputs depend on their content only, never on when they were made.
FIXED_TIME = dt.datetime(2026, 1, 1)
_FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def write_atomic(path: Path, data: bytes) -> None:
    """Write next to the target and rename, so a reader never sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def bom_csv(header: Sequence[str] | None, rows: Iterable[Sequence]) -> bytes:
    """A CSV as UTF-8 with a BOM (Excel on a Chinese desktop opens it right)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def deterministic_zip(data: bytes) -> bytes:
    """Same content, same bytes: fixed zip entry times and document timestamps (openpyxl stamps
    the save time), so a rerun or a backfill of a date reproduces its workbooks byte for byte."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>2026-01-01T00:00:00Z\g<3>", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, body)
    return out.getvalue()


def zip_archive(files: dict[str, bytes]) -> bytes:
    """A zip of the given members in name order, with fixed times and modes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, files[name])
    return out.getvalue()
