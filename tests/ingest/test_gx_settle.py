"""GX Data Docs as a function of the run (issue 14 item 5): wall-clock stamps, random element ids and
the remote, time-stamped logo GX writes into its pages are settled, so two runs of one date give the
same bytes."""

from __future__ import annotations

import re

import pytest

from fieldrecon.ingest import gx_checks

pytestmark = pytest.mark.unit

PAGE = ('<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=20261202T014516.521861Z">'
        '<a href="#c-{a}">x</a><div id="c-{a}"></div><div id="c-{b}"></div><span>{t}</span>')


def _page(a: str, b: str, t: str) -> str:
    return PAGE.format(a=a, b=b, t=t)


def test_two_runs_of_a_page_give_the_same_text():
    one = _page("03ace867-dd53-4b29-90fc-13ca1858e433", "41cf0a4d-75cf-4667-8ccf-d1811d14c5b2", "20261202T014547.955853Z")
    two = _page("8b881643-b291-4039-9919-664cf70c06cc", "5b9fb803-c933-473c-aeb9-757bfa88e146", "20261203T094501.000001Z")
    rel, stamp = "validations/x/raw/run/page.html", "20261103T160000.000000Z"
    settled = gx_checks._settled(one, rel, stamp)
    assert settled == gx_checks._settled(two, rel, stamp)
    assert stamp in settled and "2026120" not in settled and "amazonaws" not in settled
    assert 'src="../../../../static/images/logo-long.png"' in settled
    # an id keeps its links: the anchor and its target still agree, two ids stay two
    ids = re.findall(r'(?:#|id=")c-([0-9a-f-]{36})', settled)
    assert ids[0] == ids[1] != ids[2]
