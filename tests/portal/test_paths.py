"""Download paths, form tokens and filters without a warehouse: resolve first, then authorise;
symlinks out of a region's folder refused; tokens bound to session and user; origins compared
exactly (port and host name count)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from fieldrecon.portal import csrf, paths
from fieldrecon.portal.queries import Filters, beijing_minute, period_bounds
from fieldrecon.portal.triage import REASON_MAX, TriageError, clean

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path):
    for rel in ("浙江/PO1-1/v001/a.zip", "上海/PO2-1/v001/b.zip", "runs/2026-11-03/浙江/findings.csv",
                "runs/2026-11-03/上海/findings.csv"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(rel.encode())
    return tmp_path


def refused(fn, *args):
    with pytest.raises(HTTPException) as e:
        fn(*args)
    return e.value.status_code == 404


def test_own_files_resolve(store):
    assert paths.resolve_download(store, "packs/浙江/PO1-1/v001/a.zip", {"浙江"}) == (store / "浙江/PO1-1/v001/a.zip").resolve()
    assert paths.resolve_download(store, "runs/2026-11-03/浙江/findings.csv", {"浙江"}).read_bytes().startswith(b"runs")
    assert paths.resolve_download(store, "packs/上海/PO2-1/v001/b.zip", None).name == "b.zip"
    assert refused(paths.resolve_download, store, "packs/上海/PO2-1/v001/b.zip", {"浙江"})


def test_symlinks_out_of_a_region_folder_are_refused(store, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.zip"
    outside.write_bytes(b"secret")
    (store / "浙江" / "to-shanghai.zip").symlink_to(store / "上海/PO2-1/v001/b.zip")
    (store / "浙江" / "to-outside.zip").symlink_to(outside)
    (store / "浙江" / "same-region.zip").symlink_to(store / "浙江/PO1-1/v001/a.zip")
    (store / "runs/2026-11-03/浙江/sh.csv").symlink_to(store / "runs/2026-11-03/上海/findings.csv")
    (store / "浙江" / "sh-dir").symlink_to(store / "上海", target_is_directory=True)
    for raw in ("packs/浙江/to-shanghai.zip", "packs/浙江/to-outside.zip", "packs/浙江/same-region.zip",
                "runs/2026-11-03/浙江/sh.csv", "packs/浙江/sh-dir/PO2-1/v001/b.zip"):
        for regions in ({"浙江"}, None):  # refused for everyone, admins included
            assert refused(paths.resolve_download, store, raw, regions), (raw, regions)


@pytest.mark.parametrize("raw", ["", "packs/浙江/../上海/PO2-1/v001/b.zip", "/etc/passwd", "packs/浙江/%2e%2e/x.zip",
                                 "packs\\浙江\\a.zip", "C:/x.zip", "packs/浙江/a.zip\x00", "packs/runs/2026-11-03/浙江/findings.csv",
                                 "runs/20261103/浙江/findings.csv", "packs/浙江/PO1-1/v001", "index.json", "packs/浙江/./a.zip"])
def test_malformed_links_are_refused(store, raw):
    assert refused(paths.resolve_download, store, raw, None)


def test_report_path_must_be_the_named_one(tmp_path):
    target = tmp_path / "weekly/2026/T1/E1/r.pdf"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"%PDF")
    (tmp_path / "weekly/2026/T1/E1/link.pdf").symlink_to(target)
    assert paths.resolve_report(tmp_path, "weekly/2026/T1/E1/r.pdf", lambda rel: True) == target.resolve()
    assert refused(paths.resolve_report, tmp_path, "weekly/2026/T1/E1/r.pdf", lambda rel: False)
    assert refused(paths.resolve_report, tmp_path, "weekly/2026/T1/E1/link.pdf", lambda rel: True)
    assert refused(paths.resolve_report, tmp_path, "daily/2026/T1/E1/r.pdf", lambda rel: True)


def _request(headers: dict, cookie: str = "") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if cookie:
        raw.append((b"cookie", f"{csrf.COOKIE}={cookie}".encode()))
    return Request({"type": "http", "method": "POST", "scheme": "http", "server": ("127.0.0.1", 8080),
                    "path": "/triage", "root_path": "/fieldrecon", "query_string": b"",
                    "headers": [(b"host", b"127.0.0.1:8080"), *raw]})


def test_form_token_is_bound_to_origin_session_and_user():
    session = "s" * 43
    token = csrf.token_for(session, "lead")
    csrf.check(_request({"Origin": "http://127.0.0.1:8080"}, session), "lead", token)
    csrf.check(_request({"Referer": "http://127.0.0.1:8080/fieldrecon/"}, session), "lead", token)
    for headers, cookie, user, tok in (
        ({"Origin": "http://127.0.0.1:8081"}, session, "lead", token),  # another port
        ({"Origin": "http://localhost:8080"}, session, "lead", token),  # another host name
        ({"Origin": "null"}, session, "lead", token),
        ({}, session, "lead", token),  # neither Origin nor Referer
        ({"Origin": "http://127.0.0.1:8080"}, "t" * 43, "lead", token),  # another session
        ({"Origin": "http://127.0.0.1:8080"}, session, "clerk", token),  # another user
        ({"Origin": "http://127.0.0.1:8080"}, "", "lead", token),  # no session cookie
        ({"Origin": "http://127.0.0.1:8080"}, session, "lead", ""),
    ):
        with pytest.raises(HTTPException) as e:
            csrf.check(_request(headers, cookie), user, tok)
        assert e.value.status_code == 403, headers


def test_reason_limits_and_filters():
    assert clean("  客户确认 ", " BA-1 ") == ("客户确认", "BA-1")
    for reason, ref in (("", ""), ("  ", ""), ("长" * (REASON_MAX + 1), ""), ("x", "y" * 65)):
        with pytest.raises(TriageError):
            clean(reason, ref)
    assert period_bounds("2026-02") == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert period_bounds("2026-11-03") == (dt.date(2026, 11, 3),) * 2 and period_bounds("11/2026") is None
    f = Filters.of(po=" po8-3 ", rule="at")
    assert f.po_matches("PO8", 3) and not f.po_matches("PO9", 1) and f.rule_matches("AT-01 W11")
    utc = dt.datetime(2026, 11, 3, 1, 41, 59, 123456, tzinfo=dt.UTC)
    assert beijing_minute(utc) == "2026-11-03 09:41"
