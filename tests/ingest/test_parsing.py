"""Normalisation and typing of cells in PostgreSQL (the typing statement's own expressions):
the contract's quirks, boundaries included."""

import datetime as dt
from decimal import Decimal

import pytest

from fieldrecon.ingest import typing_sql

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def typed(engine):
    def run(values, type_):
        with engine.connect() as c:
            cur = c.connection.dbapi_connection.cursor()
            cur.execute(typing_sql.cells_query(type_), {"cells": list(values)})
            rows = cur.fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]
    return run


def test_nfkc_and_strip_fullwidth_ids(typed):
    assert typed(["  ＷＯ２０２６１１０３ ", "", "   ", None, "\u3000x\u00a0"], "text")[0] == ["WO20261103", None, None, None, "x"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-03 09:12:00", dt.datetime(2026, 11, 3, 9, 12)),
        ("2026/11/3 9:12", dt.datetime(2026, 11, 3, 9, 12)),
        ("2026/11/03 09:12:07", dt.datetime(2026, 11, 3, 9, 12, 7)),
        ("２０２６-１１-０３ ０９:１２:００", dt.datetime(2026, 11, 3, 9, 12)),
        ("2026-11-03", dt.datetime(2026, 11, 3)),
        ("46329.5", dt.datetime(2026, 11, 3, 12, 0)),  # Excel serial
        ("46329.38333333", dt.datetime(2026, 11, 3, 9, 12)),  # serial rounded to the second
        ("2026-11-03 09:12:00.6", dt.datetime(2026, 11, 3, 9, 12, 1)),
        ("2026.11.03T09:12", dt.datetime(2026, 11, 3, 9, 12)),
    ],
)
def test_datetime_styles(typed, text, expected):
    values, bad = typed([text], "datetime")
    assert values == [expected] and bad == [False]


@pytest.mark.parametrize("text", ["2026-02-30 10:00", "2026/13/1 9:00", "2026-11-03 24:00", "yesterday", "9:12",
                                  "2026-11-03 23:59:60", "0000-01-01", "3000.01.01", "1e999"])
def test_unparseable_datetimes_are_flagged(typed, text):
    values, bad = typed([text], "datetime")
    assert values == [None] and bad == [True]


def test_empty_is_null_not_bad(typed):
    assert typed([None, ""], "datetime") == ([None, None], [False, False])


def test_dates_and_serial_dates(typed):
    values, bad = typed(["2026/11/3", "2026-11-03", "46329", "2026-11-03 00:00:00", "2026-11-31"], "date")
    assert values[:4] == [dt.date(2026, 11, 3)] * 4 and bad == [False, False, False, False, True]


def test_times(typed):
    values, bad = typed(["08:30", "17:30:00", "0.5", "24:00", "8.30"], "time")
    assert values[:3] == [dt.time(8, 30), dt.time(17, 30), dt.time(12, 0)]
    assert bad == [False, False, False, True, True]


def test_amounts_with_thousands_separators_stay_exact(typed):
    values, bad = typed(["12,500.00", "1,234,567.89", "0.1", "12.5.0", "¥100", "1e999999", "NaN"], "decimal")
    assert values[:3] == [Decimal("12500.00"), Decimal("1234567.89"), Decimal("0.1")]
    assert bad == [False, False, False, True, True, True, True]  # 1e999999: too large, reported as such


def test_ints_and_bools(typed):
    assert typed(["10", "10.0", "1.5", "+5", "99999999999"], "int") == ([10, 10, None, 5, None], [False, False, True, False, True])
    assert typed(["是", "否", "maybe", None], "bool") == ([True, False, None, None], [False, False, True, False])
