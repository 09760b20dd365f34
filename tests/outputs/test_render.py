"""The shared template/PDF machinery: Chinese text survives HTML → PDF, output is deterministic."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal

import pytest
from jinja2 import UndefinedError

from fieldrecon.outputs import render
from fieldrecon.settings import PROJECT_ROOT

pytestmark = pytest.mark.unit

PAGE = """<!DOCTYPE html><html><head><style>body{font-family:sans-serif}</style></head><body>
<h1>{{ title }}</h1>
<p>客户：{{ customer }}　期间：{{ start|cndate }}至{{ end|cndate }}</p>
<table border="1" width="100%"><thead><tr><th>工单号</th><th>工程师</th><th>金额</th></tr></thead>
<tbody>{% for r in rows %}<tr><td>{{ r.wo }}</td><td>{{ r.engineer }}</td><td align="right">{{ r.amount|money }}</td></tr>{% endfor %}</tbody></table>
<p>备注：{{ remark }}</p></body></html>"""

CTX = {
    "title": "验收单",
    "customer": "中国移动通信集团浙江有限公司",
    "start": dt.date(2026, 10, 1),
    "end": dt.date(2026, 10, 31),
    "rows": [{"wo": "WO2026100001", "engineer": "张三", "amount": Decimal("1234")},
             {"wo": "WO2026100002", "engineer": "李四", "amount": 1500.5}],
    "remark": "维保服务费 <含税> & 驻场",
}


def _html() -> str:
    return render.environment().from_string(PAGE).render(**CTX)


def test_filters_and_escaping():
    assert render.money(Decimal("1234")) == "1,234.00"
    assert render.money(None) == ""
    assert render.fmt_date(dt.date(2026, 11, 3)) == "2026-11-03"
    assert render.cn_date(dt.date(2026, 11, 3)) == "2026年11月3日"
    html = _html()
    assert "&lt;含税&gt; &amp; 驻场" in html
    assert "1,500.50" in html


def test_strict_undefined():
    with pytest.raises(UndefinedError):
        render.environment().from_string("{{ nope }}").render()


def test_pdf_has_the_chinese_text_and_is_deterministic():
    html = _html()
    pdf = render.html_to_pdf(html)
    assert pdf.startswith(b"%PDF")
    text = render.pdf_text(pdf)
    compact = "".join(text.split())
    for needle in ("验收单", "中国移动通信集团浙江有限公司", "2026年10月1日至2026年10月31日", "张三", "李四",
                   "1,234.00", "维保服务费<含税>&驻场"):
        assert needle in compact, (needle, text)
    assert b"CreationDate" not in pdf or b"D:20260101" in pdf
    assert render.html_to_pdf(html) == pdf  # same HTML, same bytes
    # keep a rendered page for people to look at
    out = PROJECT_ROOT / "var" / "test-artifacts"
    out.mkdir(parents=True, exist_ok=True)
    (out / "render_sample.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "1", "-singlefile",
                        str(out / "render_sample.pdf"), str(out / "render_sample")], check=True)
