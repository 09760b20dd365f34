"""Shared template and PDF machinery for the clerks' documents.

- `render_html(template_name, context)` renders a Jinja template from `include/templates/`
  (autoescaped, `StrictUndefined`: a missing value is an error, never an empty cell) with the
  filters `money` (``1,234.00``), `date` (``2026-11-03``) and `cndate` (``2026年11月3日``).
- `html_to_pdf(html)` turns that HTML into a PDF with fpdf2's HTML renderer and Noto Sans SC
  (Simplified Chinese). The font comes from PyPI (`justmytype-intl-cjk`, a variable TrueType
  font), so a machine set up by the README needs no system font. Per document the font is cut down
  to the characters the document uses and instanced at weights 400/700 (fontTools, well under a
  second), which is both faster and smaller than embedding a 10 MB static instance.
- The PDF is deterministic: fixed creation date, no /ID, fixed subset tags — the same HTML gives
  the same bytes, so a rerun reproduces a pack byte for byte.
- `pdf_text(pdf)` extracts the text again (pypdf), for tests.

What fpdf2's HTML renderer understands (keep templates inside it): h1–h6, p, b/strong, i, u, br,
hr, font, ul/ol/li, table/thead/tbody/tr/th/td (border, width, align, colspan, bgcolor), and a
`style` attribute with colour/size. `<head>`, `<style>` and `<script>` are dropped before PDF
rendering (they are for the browser view of the same HTML); so are blocks wrapped in
``<!--screen-only-->…<!--/screen-only-->``.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html as html_lib
import io
import os
import re
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from fieldrecon.settings import TEMPLATES_DIR

FIXED_PDF_TIME = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
FONT_FAMILY = "notosanssc"
BASE_FONT_SIZE = 10


# ---------------------------------------------------------------- Jinja


def money(value, places: int = 2) -> str:
    """`1234` → ``1,234.00``; None/empty → ``""``; non-numbers are returned as text."""
    if value is None or value == "":
        return ""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{d:,.{places}f}"


def fmt_date(value, fmt: str = "%Y-%m-%d") -> str:
    """A date/datetime (or ISO text) → ``2026-11-03``; None → ``""``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    return value.strftime(fmt)


def cn_date(value) -> str:
    """A date → ``2026年11月3日``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日"


def compact_date(value) -> str:
    """A date → ``20261103`` (file names)."""
    return fmt_date(value, "%Y%m%d")


@functools.lru_cache(maxsize=4)
def environment(templates_dir: str | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir or str(TEMPLATES_DIR)),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["money"] = money
    env.filters["date"] = fmt_date
    env.filters["cndate"] = cn_date
    env.filters["compactdate"] = compact_date
    return env


def render_html(template_name: str, context: dict) -> str:
    """Render `include/templates/<template_name>` with `context` (autoescaped, strict)."""
    return environment().get_template(template_name).render(**context)


# ---------------------------------------------------------------- PDF


def _font_source() -> Path:
    import justmytype_intl_cjk

    path = Path(justmytype_intl_cjk.__file__).parent / "fonts" / "ofl" / "notosanssc" / "NotoSansSC[wght].ttf"
    if not path.exists():  # pragma: no cover - packaging problem
        raise FileNotFoundError(f"Noto Sans SC not found at {path}: install justmytype-intl-cjk")
    return path


_ALWAYS = "".join(chr(c) for c in range(0x20, 0x7F)) + "，。：；、！？（）《》“”‘’—…·￥％"


@functools.lru_cache(maxsize=8)
def _variable_subset(chars: str) -> bytes:
    """The variable font cut to `chars` (loading and cutting the 17 MB font is the slow part: once
    per document, shared by both weights)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(str(_font_source()), lazy=True)
    opts = subset.Options()
    opts.layout_features = []
    opts.notdef_outline = True
    opts.name_IDs = ["*"]
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "STAT", "vhea", "vmtx"]
    sub = subset.Subsetter(opts)
    sub.populate(text=chars)
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


@functools.lru_cache(maxsize=16)
def _font_bytes(chars: str, weight: int) -> bytes:
    """Noto Sans SC cut to `chars` and instanced at `weight`: a small static TrueType font."""
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = TTFont(io.BytesIO(_variable_subset(chars)))
    instancer.instantiateVariableFont(font, {"wght": weight}, inplace=True)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


@functools.lru_cache(maxsize=1)
def _common_chars() -> frozenset[str]:
    """Every GB2312 character (the 6,763 common hanzi, punctuation, full-width forms) and ASCII."""
    chars = set(_ALWAYS)
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return frozenset(chars)


@functools.lru_cache(maxsize=2)
def _common_font(weight: int) -> Path:
    """The GB2312 cut of Noto Sans SC at `weight`, made once (about 10 s) and kept in the data area
    under a name that changes with the source font, so every process and every run reuses it."""
    from fieldrecon.settings import home

    source = _font_source()
    key = hashlib.sha256(f"{source.stat().st_size}:{weight}:{len(_common_chars())}".encode()).hexdigest()[:16]
    path = home() / "cache" / "fonts" / f"NotoSansSC-GB2312-{weight}-{key}.ttf"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(_font_bytes("".join(sorted(_common_chars())), weight))
        os.replace(tmp, path)
    return path


_DROP = re.compile(
    r"<!DOCTYPE[^>]*>|<head\b.*?</head>|<style\b.*?</style>|<script\b.*?</script>"
    r"|<!--\s*screen-only\s*-->.*?<!--\s*/screen-only\s*-->|<!--.*?-->",
    re.S | re.I,
)
_BODY = re.compile(r"</?(html|body)\b[^>]*>", re.I)


def _pdf_markup(html: str) -> str:
    """The part of the HTML fpdf2 should see: no head/style/script/comments, no html/body tags,
    no whitespace between tags (fpdf2 would print it)."""
    body = _BODY.sub("", _DROP.sub("", html))
    return re.sub(r">\s+<", "><", body).strip()


def html_to_pdf(html: str) -> bytes:
    """Render HTML (fpdf2's subset of HTML, see the module docstring) to deterministic PDF bytes."""
    from fpdf import FPDF, TextStyle

    markup = _pdf_markup(html)
    chars = "".join(sorted(set(_ALWAYS) | set(html_lib.unescape(markup)) - {"\n", "\r", "\t"}))

    class _PDF(FPDF):
        def file_id(self):  # no /ID: it would differ per run
            return None

    pdf = _PDF(orientation="P", unit="mm", format="A4")
    pdf.set_creation_date(FIXED_PDF_TIME)
    pdf.set_producer("fieldrecon")
    pdf.set_creator("fieldrecon")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=15)
    common = set(chars) <= _common_chars()
    with tempfile.TemporaryDirectory(prefix="fieldrecon-font-") as tmp:
        for style, weight in (("", 400), ("B", 700)):
            if common:  # the usual case: one cached font for every document (fpdf2 subsets it on output)
                path = _common_font(weight)
            else:
                path = Path(tmp) / f"NotoSansSC-{weight}-{hashlib.sha256(chars.encode()).hexdigest()[:12]}.ttf"
                path.write_bytes(_font_bytes(chars, weight))
            pdf.add_font(FONT_FAMILY, style, str(path))
            # Italic is not available: map it to the upright faces so <i>/<em> still render.
            pdf.add_font(FONT_FAMILY, style + "I", str(path))
        pdf.set_font(FONT_FAMILY, size=BASE_FONT_SIZE)
        pdf.add_page()
        black = (0, 0, 0)
        tag_styles = {
            "h1": TextStyle(font_family=FONT_FAMILY, font_style="B", font_size_pt=18, color=black, t_margin=0, b_margin=0.6),
            "h2": TextStyle(font_family=FONT_FAMILY, font_style="B", font_size_pt=13, color=black, t_margin=1, b_margin=0.3),
            "h3": TextStyle(font_family=FONT_FAMILY, font_style="B", font_size_pt=11, color=black, t_margin=0.8, b_margin=0.2),
        }
        pdf.write_html(markup, tag_styles=tag_styles, warn_on_tags_not_matching=False)
        return bytes(pdf.output())


def pdf_text(pdf: bytes) -> str:
    """All text of a PDF, page by page (for tests and checks)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def font_subset(chars: str, weight: int = 400) -> bytes:
    """Noto Sans SC cut to `chars` (plus ASCII and common punctuation) at `weight`, as TrueType bytes:
    for a web page that must read right on a machine without a Chinese font (the download page)."""
    return _font_bytes("".join(sorted(set(_ALWAYS) | set(chars))), weight)
