"""A refusal by the warehouse during the raw COPY is named by the file row it stopped at: COPY's
line in the stream, mapped through the row numbers of the blocks sent (rows dropped before the
stream, such as malformed ones, shift lines and file rows apart)."""

from __future__ import annotations

from types import SimpleNamespace

import pyarrow as pa
import pytest

from fieldrecon.contract import SOURCES
from fieldrecon.ingest import loader

pytestmark = pytest.mark.unit


def _refusal(context: str, message: str = 'invalid input syntax for type numeric: "x"'):
    return SimpleNamespace(diag=SimpleNamespace(context=context, message_primary=message))


def _copying(*blocks: list[int]) -> loader._Copying:
    where = loader._Copying()
    for rows in blocks:
        where.sent(pa.array(rows, pa.int32()))
    return where


def test_line_in_the_second_block_names_its_file_row_and_column():
    where = _copying([2, 3, 5], [6, 9])
    reason = loader.refusal_reason("netcare_punches_20261120.csv", _refusal("COPY netcare_punches, line 5, column lng"),
                                   where, SOURCES["netcare_punches"])
    assert "第 9 行「经度」列" in reason and reason.startswith("文件 netcare_punches_20261120.csv ")


def test_first_line_and_line_without_column():
    where = _copying([2, 3, 5])
    reason = loader.refusal_reason("f.csv", _refusal("COPY netcare_punches, line 1"), where, SOURCES["netcare_punches"])
    assert "第 2 行" in reason and "列" not in reason.split("无法写入")[0]


def test_a_line_beyond_what_was_sent_or_a_restarted_copy_is_not_guessed():
    where = _copying([2, 3])
    assert where.row_no(3) is None
    where.restart()
    assert where.row_no(1) is None
    reason = loader.refusal_reason("f.csv", _refusal("COPY netcare_punches, line 1"), where, SOURCES["netcare_punches"])
    assert "（位置未知）" in reason
