"""Business date and as_of (rulebook, "Business date and as_of").

A run is for one business date; its as_of is the local midnight that ends it. The nightly 02:00
Asia/Shanghai run on 2026-11-04 is business date 2026-11-03, as_of 2026-11-04 00:00, whatever
Airflow's `ds` says. A run that names its business date (conf) uses it; otherwise it is the day
before the local date the run is for (its data interval end, else when it was due to run).
"""

from __future__ import annotations

import datetime as dt
import re

import pendulum

from fieldrecon.settings import LOCAL_TZ

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadBusinessDate(ValueError):
    pass


def parse_business_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        raise BadBusinessDate(f"business_date must be a date (YYYY-MM-DD), not a datetime: {value!r}")
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not DATE_RE.match(value.strip()):
        raise BadBusinessDate(f"business_date must look like YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as e:
        raise BadBusinessDate(f"business_date {value!r} is not a calendar date") from e


def business_date_from(conf: dict | None, reference: dt.datetime | None) -> dt.date:
    """From the run conf's `business_date`, else the day before the local date of `reference`
    (the run's data interval end for scheduled runs, its run_after for manual ones)."""
    if conf and conf.get("business_date") not in (None, ""):
        return parse_business_date(conf["business_date"])
    if reference is None:
        raise BadBusinessDate("the run has neither a business_date in its conf nor a reference time")
    local = pendulum.instance(reference).in_timezone(LOCAL_TZ)
    return local.date() - dt.timedelta(days=1)


def as_of(business_date: dt.date) -> dt.datetime:
    """Local midnight ending the business date (naive local time, as extract times are)."""
    return dt.datetime.combine(business_date + dt.timedelta(days=1), dt.time())
