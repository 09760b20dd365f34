"""Shared template and PDF machinery for the documents (acceptance packs, resident reports).

- `render_html(template, context)`: the browser views, Jinja templates `include/templates/*.html.j2`
  (autoescaped, `StrictUndefined`: a missing value is an error, never an empty cell).
- `render_pdf(template, context)`: the printed documents, Jinja templates `include/templates/*.typ.j2`
  rendering **Typst** markup, typeset by the Typst engine (PyPI `typst`). Every `{{ value }}` is
  emitted as a Typst string literal (`#"…";`), so no character of the data can become markup
  (`# $ * _ [ ] \\ @ < >` and backticks print as themselves). Filters that return markup (`nw`,
  `money`, `cndate`, `tokens`) return `Typst` objects, which are not escaped again.
- Fonts: Noto Sans SC from PyPI (`justmytype-intl-cjk`, a variable TrueType font; Typst instances
  the weights and subsets it itself), passed by path with system fonts ignored, so every machine
  typesets the same glyphs. One `typst.Compiler` per process keeps the font loaded (~1 ms/page).
- PDF/A-2b, fixed timestamp: the same markup gives the same bytes in any process.
- Formats: amounts `12,345.67` (`money`), dates `2026年10月31日` (`cndate`).
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from fieldrecon.labels import amount, number
from fieldrecon.outputs.files import FIXED_TIME
from fieldrecon.settings import TEMPLATES_DIR

FIXED_PDF_TIME = FIXED_TIME.replace(tzinfo=dt.UTC)
PDF_STANDARD = "a-2b"
FONT_FAMILY = "Noto Sans SC"


# ---------------------------------------------------------------- formats


def money(value, places: int = 2) -> str:
    """`1234` → ``1,234.00``; None/empty → ``""``; non-numbers are returned as text."""
    return amount(value, places)


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
    """A date (or ISO text) → ``2026年11月3日``."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日"


def compact_date(value) -> str:
    """A date → ``20261103`` (file names)."""
    return fmt_date(value, "%Y%m%d")


def quantity(value) -> str:
    """Person-days, counts: up to 2 decimals without trailing zeros (``3``, ``2.5``)."""
    return number(value)


# ---------------------------------------------------------------- HTML (browser views)


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
    env.filters["qty"] = quantity
    return env


def render_html(template_name: str, context: dict) -> str:
    """Render `include/templates/<template_name>` with `context` (autoescaped, strict)."""
    from fieldrecon.outputs.files import mask_phones  # no mobile number in a document, whatever field it came in

    return mask_phones(environment().get_template(template_name).render(**context))


# ---------------------------------------------------------------- Typst markup


class Typst(str):
    """Typst markup that is already safe (made by the filters below): not escaped again."""


def typst_string(value) -> str:
    """A Typst string literal with `value`'s text: only `\\` and `"` need escaping inside it, and
    control characters become spaces (a newline would end a table cell's line)."""
    text = "" if value is None else str(value)
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def escape(value) -> Typst:
    """Any value as Typst markup that prints exactly its text (`#"…";` — the semicolon ends the
    embedded expression, so a following `.` or `(` in the template stays text)."""
    if isinstance(value, Typst):
        return value
    if value is None or value == "":
        return Typst("")
    return Typst(f"#{typst_string(value)};")


def nowrap(value) -> Typst:
    """Text that never breaks across lines (identifiers, amounts, dates)."""
    if isinstance(value, Typst):
        return Typst(f"#box[{value}]") if value else value
    if value is None or value == "":
        return Typst("")
    return Typst(f"#box({typst_string(value)});")


_TOKEN = re.compile(r"[\x21-\x7e\uff01-\uff5e]{2,80}")


def tokens(value) -> Typst:
    """Free text (remarks, notes) that may break between words and Chinese characters but never
    inside a token such as `2026-10-31` or `PO2026001-3`: each run of Latin letters, digits and
    punctuation up to 80 characters is kept on one line."""
    if value is None or value == "":
        return Typst("")
    text = str(value)
    out, pos = [], 0
    for m in _TOKEN.finditer(text):
        if m.start() > pos:
            out.append(escape(text[pos:m.start()]))
        out.append(nowrap(m.group()))
        pos = m.end()
    if pos < len(text):
        out.append(escape(text[pos:]))
    return Typst("".join(out))


def _finalize(value):
    return escape(value)


@functools.lru_cache(maxsize=4)
def typst_environment(templates_dir: str | None = None) -> Environment:
    """Jinja for `*.typ.j2`: every expression escaped as a Typst string (see `escape`)."""
    env = Environment(
        loader=FileSystemLoader(templates_dir or str(TEMPLATES_DIR)),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["money"] = lambda v: nowrap(money(v))
    env.filters["cndate"] = lambda v: nowrap(cn_date(v))
    env.filters["date"] = lambda v: nowrap(fmt_date(v))
    env.filters["qty"] = lambda v: nowrap(quantity(v))
    env.filters["nw"] = nowrap
    env.filters["tokens"] = tokens
    env.filters["str"] = lambda v: Typst(typst_string(v))  # a value inside Typst code
    env.globals["raw"] = Typst
    return env


def render_typst(template_name: str, context: dict) -> str:
    """The Typst markup of `include/templates/<template_name>` for `context`."""
    from fieldrecon.outputs.files import mask_phones  # no mobile number in a PDF either

    return mask_phones(typst_environment().get_template(template_name).render(**context))


# ---------------------------------------------------------------- PDF


def font_dir() -> Path:
    import justmytype_intl_cjk

    path = Path(justmytype_intl_cjk.__file__).parent / "fonts" / "ofl" / "notosanssc"
    if not any(path.glob("NotoSansSC*.ttf")):  # pragma: no cover - packaging problem
        raise FileNotFoundError(f"Noto Sans SC not found in {path}: install justmytype-intl-cjk")
    return path


@functools.lru_cache(maxsize=1)
def _compiler():
    """One Typst compiler per process: the font is read once, each document then costs ~1 ms."""
    import typst

    return typst.Compiler(font_paths=[str(font_dir())], ignore_system_fonts=True)


def warm() -> None:
    """Load the compiler and its fonts (regular and bold) now, so the first document does not pay."""
    typst_to_pdf(f'#set text(font: "{FONT_FAMILY}", lang: "zh")\n验收单 *驻场月报* 1,234.00')
    _regular_glyphs()  # the advances `fits_columns` measures with


def typst_to_pdf(markup: str) -> bytes:
    """Typeset Typst markup to PDF/A-2b bytes, deterministic (fixed timestamp, fixed fonts)."""
    try:
        return _compiler().compile(input=markup.encode("utf-8"), format="pdf", pdf_standards=PDF_STANDARD,
                                   timestamp=int(FIXED_PDF_TIME.timestamp()))
    except Exception as exc:
        raise TypstRenderError(f"{exc}; markup starts: {markup[:200]!r}", markup) from exc


class TypstRenderError(RuntimeError):
    """A template produced markup Typst refuses (a template bug: data cannot cause it)."""

    def __init__(self, message: str, markup: str):
        super().__init__(message)
        self.markup = markup


@functools.lru_cache(maxsize=1)
def _regular_glyphs():
    """The font's glyphs at the regular weight (the variable font's advances at wght 400)."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(next(font_dir().glob("NotoSansSC*.ttf"))), lazy=True)
    return font.getBestCmap(), font.getGlyphSet(location={"wght": 400}), font["head"].unitsPerEm


@functools.lru_cache(maxsize=4096)
def _char_em(ch: str) -> float:
    cmap, glyphs, upem = _regular_glyphs()
    glyph = cmap.get(ord(ch))
    if glyph is None:
        return 1.0  # not in the font: Typst sets a fallback glyph, at most a square
    em = glyphs[glyph].width / upem
    return em if em >= 1.0 else em * 1.02  # Latin: 2 % for kerning and rounding (ideographs are 1 em)


def _wide(ch: str) -> bool:
    return ch >= "\u2e80"


def text_width_em(text: str) -> float:
    """An upper bound of the width of `text` at the regular weight, in em of its font size: the
    font's advances, plus the quarter em Typst puts between Chinese and Latin text."""
    width = sum(_char_em(ch) for ch in text)
    return width + 0.25 * sum(1 for a, b in zip(text, text[1:], strict=False) if _wide(a) != _wide(b) and " " not in (a, b))


def fits_columns(rows: list[dict], columns: list[tuple[str, float]]) -> bool:
    """Whether every value of `rows` fits on one line of its column (`columns`: key, width in em):
    the condition for a `column-ledger` (_page.typ.j2), whose rows line up only if no value wraps."""
    return all(text_width_em(str(row[key] or "")) <= width for row in rows for key, width in columns)


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render a `*.typ.j2` template and typeset it."""
    return typst_to_pdf(render_typst(template_name, context))


def pdf_text(pdf: bytes) -> str:
    """All text of a PDF, page by page (for tests and checks)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


# ---------------------------------------------------------------- web font (the portal's pages)

_ALWAYS = "".join(chr(c) for c in range(0x20, 0x7F)) + "，。：；、！？（）《》“”‘’—…·￥％"


@functools.lru_cache(maxsize=16)
def _font_bytes(chars: str, weight: int) -> bytes:
    """Noto Sans SC cut to `chars` at `weight`, for a web page's inline @font-face (the portal);
    PDFs do not use it (Typst subsets the font itself). fontTools comes with the font package."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.varLib import instancer

    font = TTFont(str(next(font_dir().glob("NotoSansSC*.ttf"))), lazy=True)
    opts = subset.Options()
    opts.layout_features = []
    opts.notdef_outline = True
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "STAT", "vhea", "vmtx"]
    sub = subset.Subsetter(opts)
    sub.populate(text=chars)
    sub.subset(font)
    buf = io.BytesIO()
    font.save(buf)
    font = TTFont(io.BytesIO(buf.getvalue()))
    instancer.instantiateVariableFont(font, {"wght": weight}, inplace=True)
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def font_subset(chars: str, weight: int = 400) -> bytes:
    """Noto Sans SC cut to `chars` (plus ASCII and common punctuation) at `weight`, as TrueType bytes:
    for a web page that must read right on a machine without a Chinese font (the download page)."""
    return _font_bytes("".join(sorted(set(_ALWAYS) | set(chars))), weight)
