"""Business date and as_of: never the wall clock, never Airflow's `ds`."""

import datetime as dt

import pendulum
import pytest

from fieldrecon import dates

pytestmark = pytest.mark.unit


def test_nightly_run_is_for_the_day_before_in_shanghai():
    # the 02:00 Asia/Shanghai run on 2026-11-04 is 2026-11-03 18:00 UTC (its `ds` would say 11-03 too,
    # but a 07:00 run would get a wrong `ds`): the business date comes from the local date
    end = pendulum.datetime(2026, 11, 4, 2, tz="Asia/Shanghai")
    assert dates.business_date_from({}, end) == dt.date(2026, 11, 3)
    assert dates.business_date_from(None, end.in_timezone("UTC")) == dt.date(2026, 11, 3)
    assert dates.as_of(dt.date(2026, 11, 3)) == dt.datetime(2026, 11, 4, 0, 0)


def test_manual_run_just_after_local_midnight():
    # 2026-11-04 00:30 local is still 11-03 in UTC: the business date is 11-03, not 11-02
    started = pendulum.datetime(2026, 11, 3, 16, 30, tz="UTC")
    assert dates.business_date_from({}, started) == dt.date(2026, 11, 3)


def test_conf_business_date_wins_and_is_validated():
    assert dates.business_date_from({"business_date": "2026-10-31"}, None) == dt.date(2026, 10, 31)
    for bad in ["2026/10/31", "31-10-2026", "2026-02-30", 20261031]:
        with pytest.raises(dates.BadBusinessDate):
            dates.business_date_from({"business_date": bad}, None)
    with pytest.raises(dates.BadBusinessDate):
        dates.business_date_from({}, None)
