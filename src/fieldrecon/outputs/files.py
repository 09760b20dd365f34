"""Writing output files: atomically, deterministically (same content, same bytes), safely (no cell
becomes a formula, no character a workbook cannot hold, no mobile number), and as the BOM-prefixed
UTF-8 CSV that Excel opens in Chinese. Every writer of an output file uses these."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

# The one timestamp written into documents and archives (zip entries, workbook properties):
# outputs depend on their content only, never on when they were made.
FIXED_TIME = dt.datetime(2026, 1, 1)
FIXED_ZIP_TIME = FIXED_TIME.timetuple()[:6]
FIXED_XML_TIME = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")  # workbook core properties


# ---------------------------------------------------------------- safe cells

# A mobile number (optionally with +86 / 86), not inside a longer run of digits.
PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# What a spreadsheet evaluates: a leading = + - @ (OWASP "CSV injection"), or a tab / CR before one.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number in text ("-3.5", "+1"): Excel reads it as that number, never as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# Characters an xlsx (XML 1.0) cannot hold; shown as their Unicode control pictures (\x07 -> U+2407).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
CELL_LIMIT = 32_767  # characters an Excel cell holds


def _picture(m: re.Match) -> str:
    ch = m.group(0)
    if ch == "\x7f":
        return "\u2421"
    if ord(ch) < 0x20:
        return chr(0x2400 + ord(ch))
    return "\ufffd"


def mask_phones(text: str) -> str:
    """139****5678 for every mobile number in the text, whatever column or message it is in."""
    return PHONE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def safe_cell(value):
    """The value as a spreadsheet must receive it: text that would be evaluated written as text
    (prefixed with '), unholdable characters replaced visibly, over-long text cut with a marker,
    mobile numbers masked. Numbers, dates and None stay what they are."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return mask_phones(str(value)) if PHONE_RE.fullmatch(str(value)) else value
    if not isinstance(value, str):
        return value
    text = _ILLEGAL.sub(_picture, mask_phones(value))
    quote = text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text)
    limit = CELL_LIMIT - (1 if quote else 0)
    if len(text) > limit:
        marker = f"…［已截断，原文 {len(text)} 字］"
        text = text[: limit - len(marker)] + marker
    return "'" + text if quote else text


class PhoneMaskingFilter(logging.Filter):
    """Masks mobile numbers in a log record's message (arguments merged in) and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # a malformed record: leave it to the handler to report
        return record
    masked = mask_phones(message)
    if masked != message or record.args:
        record.msg, record.args = masked, None
    if record.exc_info and not record.exc_text:
        import traceback

        record.exc_text = mask_phones("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    return record


_installed = False


def install_log_masking() -> None:
    """Mask mobile numbers in every log record this process makes (any logger, any handler)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        return mask_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True


# ---------------------------------------------------------------- files


TEXT_SUFFIXES = (".csv", ".json", ".html", ".txt", ".md")


def mask_text_file(name: str, data: bytes) -> bytes:
    """A text file's bytes with mobile numbers masked (other files as they are)."""
    if not str(name).lower().endswith(TEXT_SUFFIXES):
        return data
    text = data.decode("utf-8", errors="surrogateescape")
    masked = mask_phones(text)
    return data if masked == text else masked.encode("utf-8", errors="surrogateescape")


_UNSAFE_NAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(text: str) -> str:
    """One file or folder name from data (a PO key, a ticket number, a region), valid on Windows and
    never a path: no separator or reserved character, no leading dot, no trailing dot or space, no
    reserved device name, at most 120 characters."""
    name = _UNSAFE_NAME.sub("_", str(text)).strip().lstrip(".").rstrip(". ")
    if not name or name.split(".")[0].upper() in _RESERVED_NAMES:
        name = "_" + name
    return name[:120]


def write_atomic(path: Path, data: bytes) -> None:
    """Write next to the target and rename, so a reader never sees a half-written file (and a text
    file never holds a mobile number)."""
    data = mask_text_file(path.name, data)
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


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        at_fdcwd, rename_exchange = -100, 2
        return libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0
    except (OSError, AttributeError):
        return False


def publish_folder(staged: Path, target: Path) -> None:
    """Make a fully written folder the target in one rename: readers see the previous folder whole
    or the new one whole, never a mixture. The previous folder is removed afterwards."""
    import shutil

    staged, target = Path(staged), Path(target)
    if not target.exists():
        os.rename(staged, target)
        return
    if not _exchange(staged, target):  # no atomic exchange here: two renames, a moment without the folder
        old = target.with_name(f".{target.name}.old-{staged.name}")
        os.rename(target, old)
        os.rename(staged, target)
        staged = old
    shutil.rmtree(staged)


def bom_csv(header: Sequence[str] | None, rows: Iterable[Sequence]) -> bytes:
    """A CSV as UTF-8 with a BOM (Excel on a Chinese desktop opens it right), every cell safe."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    if header is not None:
        w.writerow([safe_cell(v) for v in header])
    w.writerows([safe_cell(v) for v in row] for row in rows)
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
                body = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)", rb"\g<1>" + FIXED_XML_TIME.encode() + rb"\g<3>", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, body)
    return out.getvalue()


COMPRESSED_SUFFIXES = (".pdf", ".xlsx", ".zip", ".png", ".jpg", ".jpeg", ".docx")


def zip_archive(files: dict[str, bytes], *, in_order: bool = False, compresslevel: int | None = None,
                mask: bool = True) -> bytes:
    """A zip of the given members in name order (or as given: a workbook's parts), with fixed times
    and modes, text members' mobile numbers masked (unless the caller made them safe already).
    Members that are compressed already (PDF, workbooks) are stored as they are: deflating them
    again costs time and saves almost nothing."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        for name in (list(files) if in_order else sorted(files)):
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_STORED if name.lower().endswith(COMPRESSED_SUFFIXES) else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, mask_text_file(name, files[name]) if mask else files[name], compresslevel=compresslevel)
    return out.getvalue()
