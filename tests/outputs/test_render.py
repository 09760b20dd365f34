"""The document engine: Jinja filters, Typst escaping of hostile text, fonts, PDF/A-2b, same bytes."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from decimal import Decimal

import pytest
from jinja2 import UndefinedError

from fieldrecon.outputs import render

pytestmark = pytest.mark.unit

HOSTILE = "# $ * _ [ ] \\ @ < > ` ``` // /* = - + ~ \"q\" <lbl> @ref $x^2$ *b* _i_ #let x = 1 ) } \\n 2026-10-31"
PAGE = """#set text(font: "Noto Sans SC", lang: "zh")
= {{ title }}
客户：{{ customer }}　期间：{{ start|cndate }}至{{ end|cndate }}
#table(columns: 3,
{% for r in rows %}
  [{{ r.wo|nw }}], [{{ r.engineer }}], [{{ r.amount|money }}],
{% endfor %}
)
备注：{{ remark|tokens }}

原样：{{ hostile }}

[{{ hostile|tokens }}]
"""
CTX = {
    "title": "验收单",
    "customer": "中国移动通信集团浙江有限公司",
    "start": dt.date(2026, 10, 1),
    "end": dt.date(2026, 10, 31),
    "rows": [{"wo": "WO2026100001", "engineer": "张三", "amount": Decimal("12345.67")},
             {"wo": "WO2026100002", "engineer": "李四", "amount": 1500.5}],
    "remark": "验收周期:2026-10-01至2026-10-31 " + "维保服务费<含税>&驻场，" * 160,  # ~2,000 characters
    "hostile": HOSTILE,
}


def _markup() -> str:
    return render.typst_environment().from_string(PAGE).render(**CTX)


def test_formats():
    assert render.money(Decimal("12345.67")) == "12,345.67"
    assert render.money(23200) == "23,200.00"
    assert render.money(None) == ""
    assert render.cn_date(dt.date(2026, 10, 31)) == "2026年10月31日"
    assert render.cn_date("2026-11-03") == "2026年11月3日"
    assert render.quantity(Decimal("2.50")) == "2.5"
    html = render.environment().from_string("{{ x }} {{ y|money }}").render(x="<含税> & 驻场", y=1500.5)
    assert html == "&lt;含税&gt; &amp; 驻场 1,500.50"


def test_strict_undefined():
    with pytest.raises(UndefinedError):
        render.typst_environment().from_string("{{ nope }}").render()


def test_hostile_text_prints_as_itself():
    assert len(CTX["remark"]) >= 2000
    pdf = render.typst_to_pdf(_markup())
    text = render.pdf_text(pdf)
    flat = "".join(text.split())
    for needle in ("验收单", "中国移动通信集团浙江有限公司", "2026年10月1日至2026年10月31日", "WO2026100001", "张三",
                   "12,345.67", "1,500.50", "验收周期:2026-10-01至2026-10-31"):
        assert needle in flat, needle
    hostile = "".join(HOSTILE.split())
    assert flat.count(hostile) == 2, text  # neither markup, math, a label nor a comment: the characters
    assert flat.count("维保服务费<含税>&驻场，") == 160  # a 2,000-character remark, wrapped, nothing lost
    # identifiers, dates and amounts stay on one line
    lines = text.splitlines()
    assert any("验收周期:2026-10-01至2026-10-31" in ln for ln in lines)
    assert any("12,345.67" in ln for ln in lines)


def test_pdf_a_and_same_bytes_in_another_process():
    markup = _markup()
    pdf = render.typst_to_pdf(markup)
    assert pdf.startswith(b"%PDF") and b"pdfaid:part" in pdf and b"NotoSansSC" in pdf
    assert render.typst_to_pdf(markup) == pdf
    code = ("import sys; from fieldrecon.outputs import render; "
            "sys.stdout.buffer.write(render.typst_to_pdf(sys.stdin.read()))")
    other = subprocess.run([sys.executable, "-c", code], input=markup.encode(), capture_output=True, check=True).stdout
    assert other == pdf


def test_template_error_names_the_markup():
    with pytest.raises(render.TypstRenderError):
        render.typst_to_pdf("#let x = (")
