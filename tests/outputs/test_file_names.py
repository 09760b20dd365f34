"""One safe_name for every file or folder named from data (packs, resident reports)."""

from __future__ import annotations

import datetime as dt

import pytest

from fieldrecon.outputs import files, packs, reports

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("raw,expected", [
    ("PO/1:2", "PO_1_2"), ("CON", "_CON"), ("a. ", "a"), ("验收包_X?*", "验收包_X__"), ("..", "_"), ("", "_"),
    ("../etc/passwd", "_etc_passwd"), (".hidden", "hidden"), ("E\\001", "E_001"),
    ("驻场周报_T1_E1_20261102-20261108", "驻场周报_T1_E1_20261102-20261108"),
])
def test_safe_name(raw, expected):
    assert files.safe_name(raw) == expected
    assert "/" not in expected and "\\" not in expected


def test_packs_and_reports_name_files_the_same_way():
    assert packs.safe_name is files.safe_name
    p = {"report_kind": "weekly", "period_key": dt.date(2026, 11, 2), "ticket_no": "WO/1",
         "engineer_id": "..", "period_start": dt.date(2026, 11, 2),
         "period_end": dt.date(2026, 11, 8)}
    paths = reports.relative_paths(p, "0a1b2c3d")
    assert paths["pdf"] == "weekly/2026/WO_1/_/驻场周报_WO_1_.._20261102-20261108_0a1b2c3d.pdf"
