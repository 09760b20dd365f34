"""The clerks' download page (issues 6, 12, 14, 18): authentication on every route, branch isolation,
traversal and symlink attempts answered 404 without opening anything, forged writes refused (origin,
per-session token, write permission, reason length), triage marks, filters, the plugin registration."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
import sys

import pytest
import sqlalchemy as sa

from fieldrecon.outputs import exports, packs
from fieldrecon.pipeline import make_context
from fieldrecon.recon.rules import run_family
from fieldrecon.settings import PROJECT_ROOT
from tests.factories import clear

pytestmark = pytest.mark.db

BD = dt.date(2026, 11, 3)
ORIGIN = {"Origin": "http://testserver"}
USERS = (("clerk", "viewer"), ("lead", "user"), ("admin", "admin"), ("nobody", "viewer"))


@pytest.fixture(scope="module")
def env(engine, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plugin")
    mp = pytest.MonkeyPatch()
    mp.setenv("FIELDRECON_PACKS", str(tmp / "store"))
    mp.setenv("FIELDRECON_CLERK_REGIONS", "clerk:浙江;lead:浙江;admin:*")
    mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", ",".join(f"{u}:{r}" for u, r in USERS))
    mp.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "fieldrecon-test-secret")
    mp.setenv("AIRFLOW__CORE__AUTH_MANAGER",
              "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager")
    from tests.outputs.test_packs import seed

    clear(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.cycle_schedule, packs.pack_runs, packs.versions, recon.triage_marks"))
    seed(engine)
    run_family(engine, "po", BD)
    ctx = make_context(BD, output_root=str(tmp / "out"))
    exports.write_all(engine, ctx)
    packs.build_all(engine, ctx)

    from fieldrecon.portal import app as portal

    spec = importlib.util.spec_from_file_location("fieldrecon_downloads", PROJECT_ROOT / "plugins" / "fieldrecon_downloads.py")
    plugin = importlib.util.module_from_spec(spec)
    sys.modules["fieldrecon_downloads"] = plugin
    spec.loader.exec_module(plugin)
    portal.app.dependency_overrides[portal.get_engine] = lambda: engine
    portal.app.dependency_overrides[portal.get_store] = lambda: tmp / "store"

    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers import base_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    # The token's signature and expiry are verified for real; only the revocation list lookup (a
    # table of Airflow's metadata DB, which this test does not set up) is stubbed. The browser
    # test runs the real api-server with its own migrated metadata DB.
    mp.setattr(base_auth_manager.RevokedToken, "is_revoked", classmethod(lambda cls, jti, **kw: False))
    am = init_auth_manager()
    tokens = {u: am.generate_jwt(SimpleAuthManagerUser(username=u, role=r)) for u, r in USERS}
    opened = []
    real = portal.FileResponse

    def spy(path, *a, **kw):
        opened.append(str(path))
        return real(path, *a, **kw)

    mp.setattr(portal, "FileResponse", spy)
    client = TestClient(portal.app)
    yield {"client": client, "tokens": tokens, "store": tmp / "store", "plugin": plugin, "portal": portal,
           "opened": opened}
    mp.undo()


def auth(env, user):
    return {"Authorization": f"Bearer {env['tokens'][user]}"}


def zips(env, region):
    return sorted(p.relative_to(env["store"]).as_posix() for p in (env["store"] / region).rglob("*.zip"))


def test_every_route_needs_credentials(env):
    c = env["client"]
    some = zips(env, "浙江")[0]
    for method, url in [("get", "/"), ("get", "/api/packs"), ("get", "/api/findings"), ("get", f"/files/packs/{some}"),
                        ("get", "/files/runs/2026-11-03/浙江/findings.csv")]:
        assert getattr(c, method)(url).status_code == 401, url
    assert c.post("/triage", data={"finding_id": "x", "reason": "y"}).status_code == 401
    assert c.post("/triage/unmark", data={"finding_id": "x"}).status_code == 401
    assert c.get("/api/packs", headers={"Authorization": "Bearer not-a-token"}).status_code in (401, 403)
    assert env["opened"] == []


def test_clerk_sees_only_own_branch(env):
    c = env["client"]
    body = c.get("/api/packs", headers=auth(env, "clerk")).json()
    assert body["regions"] == ["浙江"]
    assert body["packs"] and {p["region"] for p in body["packs"]} == {"浙江"}
    assert {f["region"] for f in body["run_files"]} == {"浙江"}
    assert {f["name"] for f in body["run_files"]} == {"exceptions.xlsx", "findings.csv", "acceptance_todo.csv",
                                                     "reminders.csv", "问题清单.csv", "验收待办.csv"}
    admin = c.get("/api/packs", headers=auth(env, "admin")).json()
    assert {p["region"] for p in admin["packs"]} == {"浙江", "上海"}
    assert c.get("/api/packs", headers=auth(env, "nobody")).json()["packs"] == []
    # filters
    only = c.get("/api/packs", params={"po": "PO8-3", "status": "blocked"}, headers=auth(env, "clerk")).json()["packs"]
    assert [p["pack_key"] for p in only] == ["PO8-3"]
    sept = c.get("/api/packs", params={"period": "2026-09"}, headers=auth(env, "admin")).json()["packs"]
    assert {p["pack_key"] for p in sept} >= {"PO7-1_20260901-20260930", "PO9-1_20260901-20260930"}
    assert all(p["cycle_start"] is None or p["cycle_start"] <= "2026-09-30" for p in sept)


def test_downloads_and_other_branch_404(env):
    c = env["client"]
    mine = zips(env, "浙江")[0]
    r = c.get(f"/files/packs/{mine}", headers=auth(env, "clerk"))
    assert r.status_code == 200 and r.content == (env["store"] / mine).read_bytes()
    theirs = zips(env, "上海")[0]
    assert c.get(f"/files/packs/{theirs}", headers=auth(env, "clerk")).status_code == 404
    assert c.get("/files/runs/2026-11-03/上海/findings.csv", headers=auth(env, "clerk")).status_code == 404
    ok = c.get("/files/runs/2026-11-03/浙江/findings.csv", headers=auth(env, "clerk"))
    assert ok.status_code == 200 and "上海" not in ok.content.decode("utf-8-sig")
    assert c.get(f"/files/packs/{theirs}", headers=auth(env, "admin")).status_code == 200


@pytest.mark.parametrize("path", [
    "/files/packs/浙江/..%2F..%2F..%2Fetc%2Fpasswd",
    "/files/packs/%2E%2E/%2E%2E/etc/passwd",
    "/files/packs/%252e%252e/%252e%252e/index.json",
    "/files/%2Fetc%2Fpasswd",
    "/files//etc/passwd",
    "/files/packs/浙江/..%5C..%5Cindex.json",
    "/files/packs/浙江/../上海/x.zip",
    "/files/index.json",
    "/files/runs/2026-11-03/浙江/..%2F上海%2Ffindings.csv",
    "/files/packs/C:%5Cwindows%5Cwin.ini",
    "/files/packs/浙江/nope.zip",
])
def test_traversal_is_404_and_never_opens(env, path):
    before = len(env["opened"])
    r = env["client"].get(path, headers=auth(env, "admin"))
    assert r.status_code == 404, (path, r.status_code)
    assert len(env["opened"]) == before


def _ids(engine):
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("select region, finding_id from recon.finding_snapshots "
                                         "where business_date = :d order by finding_id"), {"d": BD}).all())


def session_token(env, user) -> str:
    """The form token the page gives this user in this client's browser session."""
    r = env["client"].get("/api/session", headers=auth(env, user))
    assert r.status_code == 200
    page = env["client"].get("/", headers=auth(env, user)).text
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    if token:
        assert token.group(1) == r.json()["csrf_token"]
    return r.json()["csrf_token"]


def marks(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("select count(*) from recon.triage_marks")).scalar()


def test_page_in_chinese_and_triage(env, engine):
    c = env["client"]
    page = c.get("/", headers=auth(env, "lead"))
    assert page.status_code == 200 and "验收包下载" in page.text and "上海浦东发展银行" not in page.text
    assert "验收包_PO8-3.zip" in page.text and "阻塞" in page.text
    assert 'href="files/packs/' in page.text and 'href="/' not in page.text  # relative links only
    ids = _ids(engine)
    zj = ids["浙江"]
    token = session_token(env, "lead")
    r = c.post("/triage", data={"finding_id": zj, "reason": "客户确认", "filing_ref": "BA-1", "csrf_token": token},
               headers={**auth(env, "lead"), **ORIGIN}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "./#findings"
    with engine.connect() as conn:
        mark = conn.execute(sa.text("select * from recon.triage_marks where finding_id = :f"), {"f": zj}).mappings().one()
    assert (mark["reason"], mark["filing_ref"], mark["marked_by"]) == ("客户确认", "BA-1", "lead")
    if "上海" in ids:
        assert c.post("/triage", data={"finding_id": ids["上海"], "reason": "x", "csrf_token": token},
                      headers={**auth(env, "lead"), **ORIGIN}).status_code == 404
    assert c.post("/triage", data={"finding_id": "no-such", "reason": "x", "csrf_token": token},
                  headers={**auth(env, "lead"), **ORIGIN}).status_code == 404
    page = c.get("/", headers=auth(env, "lead")).text
    assert "已说明：客户确认" in page
    # the mark time: Beijing time to the minute (no seconds, no UTC offset)
    shown = re.search(r"lead (\d{4}-\d{2}-\d{2} \d{2}:\d{2})</div>", page)
    with engine.connect() as conn:
        local = conn.execute(sa.text("select to_char(marked_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') "
                                     "from recon.triage_marks where finding_id = :f"), {"f": zj}).scalar()
    assert shown and shown.group(1) == local
    r = c.post("/triage/unmark", data={"finding_id": zj, "csrf_token": token},
               headers={**auth(env, "lead"), **ORIGIN}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "../#findings"
    with engine.connect() as conn:
        assert marks(engine) == 0
        assert conn.execute(sa.text("select count(*) from recon.triage_log")).scalar() == 2


def test_forged_writes_are_refused(env, engine):
    """Another origin (port or host name), a missing or foreign token, a viewer, an over-long reason:
    403/422 and nothing written."""
    c = env["client"]
    zj = _ids(engine)["浙江"]
    token = session_token(env, "lead")
    good = {"finding_id": zj, "reason": "客户确认", "csrf_token": token}
    lead = auth(env, "lead")
    for headers in ({"Origin": "http://testserver:8081"}, {"Origin": "http://localhost"}, {"Origin": "null"},
                    {"Referer": "http://evil.example/page"}, {}):
        assert c.post("/triage", data=good, headers={**lead, **headers}).status_code == 403, headers
        assert c.post("/triage/unmark", data={"finding_id": zj, "csrf_token": token},
                      headers={**lead, **headers}).status_code == 403, headers
    # same origin by Referer alone is fine only with the token
    for data in ({**good, "csrf_token": ""}, {**good, "csrf_token": "0" * 64}, {k: v for k, v in good.items() if k != "csrf_token"}):
        assert c.post("/triage", data=data, headers={**lead, **ORIGIN}).status_code == 403
    # a token is bound to its user: the clerk's token does not work for the lead
    assert c.post("/triage", data={**good, "csrf_token": session_token(env, "clerk")},
                  headers={**lead, **ORIGIN}).status_code == 403
    # another browser session (its own cookie) cannot reuse this session's token
    from fastapi.testclient import TestClient

    other = TestClient(env["portal"].app)
    other.get("/api/session", headers=lead)
    assert other.post("/triage", data=good, headers={**lead, **ORIGIN}).status_code == 403
    # a viewer has no write permission, even with a valid token
    clerk_token = session_token(env, "clerk")
    r = c.post("/triage", data={**good, "csrf_token": clerk_token}, headers={**auth(env, "clerk"), **ORIGIN})
    assert r.status_code == 403 and "写权限" in r.text
    assert "标记已说明" not in c.get("/", headers=auth(env, "clerk")).text
    # reasons have a length limit
    from fieldrecon.portal.triage import REASON_MAX

    r = c.post("/triage", data={**good, "reason": "长" * (REASON_MAX + 1)}, headers={**lead, **ORIGIN})
    assert r.status_code == 422 and str(REASON_MAX) in r.text
    assert c.post("/triage", data={**good, "reason": "x" * 200_000}, headers={**lead, **ORIGIN}).status_code == 422
    assert c.post("/triage", data={**good, "reason": "   "}, headers={**lead, **ORIGIN}).status_code == 422
    assert marks(engine) == 0
    assert c.post("/triage", data={**good, "reason": "长" * REASON_MAX}, headers={**lead, **ORIGIN},
                  follow_redirects=False).status_code == 303
    assert marks(engine) == 1
    assert c.post("/triage/unmark", data={"finding_id": zj, "csrf_token": token}, headers={**lead, **ORIGIN},
                  follow_redirects=False).status_code == 303
    assert marks(engine) == 0


def test_session_cookie_is_strict_and_httponly(env):
    from fastapi.testclient import TestClient

    fresh = TestClient(env["portal"].app)
    r = fresh.get("/", headers=auth(env, "lead"))
    cookie = r.headers["set-cookie"].lower()
    assert "fieldrecon_csrf=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert r.headers["cache-control"] == "no-store"


def test_findings_list_names_subject_title_and_filters(env, engine):
    c = env["client"]
    body = c.get("/api/findings", headers=auth(env, "admin")).json()
    assert body["findings"]
    for f in body["findings"]:
        assert f["subject"] and f["title"] and f["title"] != f["rule_code"], f
        assert f["sentence"] and f["what"] and f["system"] and f["who"], f  # outputs.sentences
        assert re.search(r"[\u4e00-\u9fff]", f["sentence"]), f
    codes = {f["rule_code"] for f in body["findings"]}
    one = sorted(codes)[0]
    only = c.get("/api/findings", params={"rule": one}, headers=auth(env, "admin")).json()["findings"]
    assert only and {f["rule_code"] for f in only} == {one}
    assert c.get("/api/findings", params={"region": "上海"}, headers=auth(env, "clerk")).json()["findings"] == []
    assert c.get("/api/findings", params={"finding_status": "marked"}, headers=auth(env, "admin")).json()["findings"] == []
    blocked = c.get("/api/packs", params={"rule": "AT-01"}, headers=auth(env, "clerk")).json()["packs"]
    assert blocked and all(any(x.startswith("AT-01") for x in p["reasons"]) for p in blocked)
    page = c.get("/", params={"rule": one, "period": "2026-11"}, headers=auth(env, "admin")).text
    assert f'value="{one}"' in page


def test_plugin_registers_app_and_menu(env):
    p = env["plugin"].FieldreconDownloadsPlugin
    assert p.fastapi_apps[0]["url_prefix"] == "/fieldrecon" and p.fastapi_apps[0]["app"] is env["portal"].app
    assert p.external_views[0]["url_route"] == "fieldrecon-downloads"
    assert not p.external_views[0]["href"].startswith("/")  # relative: works behind a URL prefix
    from fieldrecon.portal.access import clerk_regions

    assert clerk_regions("a:浙江,上海;b:*") == {"a": {"浙江", "上海"}, "b": None}
    # the plugin file only registers: no routes, SQL or HTML of its own
    source = (PROJECT_ROOT / "plugins" / "fieldrecon_downloads.py").read_text(encoding="utf-8")
    assert "sqlalchemy" not in source and "<table" not in source and "@app." not in source


def test_trailing_slash_redirects_relatively(env):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    root = FastAPI()
    root.mount("/fieldrecon", env["portal"].app)
    root.add_middleware(env["portal"].TrailingSlash, prefix="/fieldrecon")
    c = TestClient(root)
    r = c.get("/fieldrecon", params={"po": "PO8"}, follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "fieldrecon/?po=PO8"
    assert c.get("/fieldrecon/", headers=auth(env, "clerk")).status_code == 200
    assert c.get("/fieldrecon", headers=auth(env, "clerk")).status_code == 200  # followed


def test_symlink_out_of_a_region_is_refused(env):
    """Resolve, then authorise: a link inside 浙江's folder to 上海's zip is 404 for everyone."""
    store = env["store"]
    theirs = store / zips(env, "上海")[0]
    link = store / "浙江" / "link.zip"
    link.symlink_to(theirs)
    escape = store / "runs" / "2026-11-03" / "浙江" / "passwd"
    escape.symlink_to("/etc/passwd")
    try:
        before = len(env["opened"])
        for user in ("clerk", "admin"):
            assert env["client"].get("/files/packs/浙江/link.zip", headers=auth(env, user)).status_code == 404
            assert env["client"].get("/files/runs/2026-11-03/浙江/passwd", headers=auth(env, user)).status_code == 404
        assert len(env["opened"]) == before
    finally:
        link.unlink()
        escape.unlink()


# ---------------------------------------------------------------- resident reports (issue 7)

RD_OLD, RD_NEW = dt.date(2026, 11, 2), dt.date(2026, 11, 3)


def _report_row(business_date, kind, ticket, engineer, name, region, customer, start, end, due, status, version):
    from fieldrecon.outputs.reports import relative_paths

    key = start - dt.timedelta(days=start.weekday()) if kind == "weekly" else start.replace(day=1)
    row = {"business_date": business_date, "report_kind": kind, "ticket_no": ticket, "engineer_id": engineer,
           "period_key": key, "engineer_name": name, "region": region, "customer_name": customer,
           "period_start": start, "period_end": end, "attendance_days": 5, "due_date": due, "period_over": True,
           "status": status, "version": version, "html_path": None, "pdf_path": None, "xlsx_path": None}
    if version:
        row.update({f"{ext}_path": p for ext, p in relative_paths(row, version).items()})
    return row


@pytest.fixture(scope="module")
def reports_env(env, engine, tmp_path_factory):
    root = tmp_path_factory.mktemp("reports")
    rows = [
        _report_row(RD_NEW, "weekly", "T-ZJ-1", "E01", "张伟", "浙江", "杭州甲公司", dt.date(2026, 10, 26),
                    dt.date(2026, 10, 30), dt.date(2026, 11, 2), "generated", 1),
        _report_row(RD_NEW, "monthly", "T-ZJ-1", "E01", "张伟", "浙江", "杭州甲公司", dt.date(2026, 10, 8),
                    dt.date(2026, 10, 31), dt.date(2026, 11, 2), "late", 2),
        _report_row(RD_NEW, "weekly", "T-ZJ-2", "E02", "李娜", "浙江", "宁波乙公司", dt.date(2026, 10, 26),
                    dt.date(2026, 10, 30), dt.date(2026, 11, 2), "missing", None),
        _report_row(RD_NEW, "weekly", "T-SH-1", "E03", "王强", "上海", "上海丙公司", dt.date(2026, 10, 26),
                    dt.date(2026, 10, 30), dt.date(2026, 11, 2), "generated", 1),
        _report_row(RD_OLD, "weekly", "T-ZJ-9", "E09", "赵敏", "浙江", "旧客户", dt.date(2026, 10, 19),
                    dt.date(2026, 10, 23), dt.date(2026, 10, 26), "generated", 1),
    ]
    for r in rows:
        for ext in ("html", "pdf", "xlsx"):
            if r[f"{ext}_path"]:
                f = root / r[f"{ext}_path"]
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(f"{ext}:{r['ticket_no']}:{r['version']}".encode())
    cols = list(rows[0])
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.resident_reports"))
        conn.execute(sa.text(f"insert into mart.resident_reports ({', '.join(cols)}) "
                             f"values ({', '.join(':' + c for c in cols)})"), rows)
    portal = env["portal"]
    portal.app.dependency_overrides[portal.get_reports_dir] = lambda: root
    yield {"root": root, "rows": rows}
    portal.app.dependency_overrides.pop(portal.get_reports_dir, None)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.resident_reports"))


def test_reports_need_credentials(env, reports_env):
    c = env["client"]
    pdf = reports_env["rows"][0]["pdf_path"]
    before = len(env["opened"])
    for url in ("/api/reports", f"/reports/{pdf}", "/reports/weekly/..%2F..%2Fetc%2Fpasswd"):
        assert c.get(url).status_code == 401, url
        assert c.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code in (401, 403), url
    assert len(env["opened"]) == before


def test_reports_listed_for_own_branch(env, reports_env):
    c = env["client"]
    body = c.get("/api/reports", headers=auth(env, "clerk")).json()
    assert body["business_date"] == "2026-11-03"
    got = {(r["report_kind"], r["ticket_no"]): r for r in body["reports"]}
    assert set(got) == {("weekly", "T-ZJ-1"), ("monthly", "T-ZJ-1"), ("weekly", "T-ZJ-2")}  # no 上海, no old date
    assert {r["region"] for r in body["reports"]} == {"浙江"}
    assert [got[k]["status_zh"] for k in sorted(got)] == ["逾期生成", "已生成", "缺失"]
    assert set(got[("weekly", "T-ZJ-1")]["files"]) == {"pdf", "html", "xlsx"}
    assert got[("weekly", "T-ZJ-2")]["files"] == {}
    admin = c.get("/api/reports", headers=auth(env, "admin")).json()["reports"]
    assert {r["region"] for r in admin} == {"浙江", "上海"}
    assert c.get("/api/reports", headers=auth(env, "nobody")).json()["reports"] == []
    page = c.get("/", headers=auth(env, "clerk")).text
    assert "驻场报告" in page and "张伟" in page and "李娜" in page and "王强" not in page and "赵敏" not in page
    for text in ("周报", "月报", "已生成", "逾期生成", "缺失", "2026-10-26 至 2026-10-30", ">PDF<", ">HTML<", ">Excel<"):
        assert text in page, text
    assert got[("weekly", "T-ZJ-1")]["files"]["pdf"] in page


def test_report_download_own_branch(env, reports_env):
    c = env["client"]
    row = reports_env["rows"][0]
    links = next(r for r in c.get("/api/reports", headers=auth(env, "clerk")).json()["reports"]
                 if r["ticket_no"] == "T-ZJ-1" and r["report_kind"] == "weekly")["files"]
    for ext in ("pdf", "html", "xlsx"):
        r = c.get("/" + links[ext], headers=auth(env, "clerk"))
        assert r.status_code == 200, ext
        assert r.content == (reports_env["root"] / row[f"{ext}_path"]).read_bytes()
        assert "attachment" in r.headers["content-disposition"]
    assert c.get("/" + links["pdf"]).status_code == 401
    assert c.get("/" + links["pdf"], headers=auth(env, "nobody")).status_code == 404


def test_report_other_branch_404(env, reports_env):
    c = env["client"]
    sh = next(r for r in reports_env["rows"] if r["region"] == "上海")
    before = len(env["opened"])
    for ext in ("pdf", "html", "xlsx"):
        assert c.get(f"/reports/{sh[f'{ext}_path']}", headers=auth(env, "clerk")).status_code == 404
    assert len(env["opened"]) == before
    assert c.get(f"/reports/{sh['pdf_path']}", headers=auth(env, "admin")).status_code == 200


@pytest.mark.parametrize("path", [
    "/reports/weekly/..%2F..%2F..%2Fetc%2Fpasswd",
    "/reports/%2E%2E/%2E%2E/etc/passwd",
    "/reports/weekly/%252e%252e/%252e%252e/x.pdf",
    "/reports/%2Fetc%2Fpasswd",
    "/reports//etc/passwd",
    "/reports/weekly/2026/..%5C..%5Cx.pdf",
    "/reports/weekly/2026/T-SH-1/../../../../etc/passwd",
    "/reports/C:%5Cwindows%5Cwin.ini",
    "/reports/weekly/2026/T-ZJ-1/E01/nope.pdf",
    "/reports/weekly",
    "/files/reports/weekly/2026/T-ZJ-1/E01/x.pdf",
])
def test_report_traversal_is_404_and_never_opens(env, reports_env, path):
    before = len(env["opened"])
    r = env["client"].get(path, headers=auth(env, "admin"))
    assert r.status_code == 404, (path, r.status_code)
    assert len(env["opened"]) == before


def test_report_path_outside_folder_in_db_is_never_opened(env, reports_env, engine, tmp_path):
    """Even a row naming a path that leaves the reports folder (a symlink out of it) is 404."""
    outside = tmp_path / "secret.pdf"
    outside.write_bytes(b"secret")
    link_dir = reports_env["root"] / "weekly" / "2026" / "LINK"
    link_dir.mkdir(parents=True)
    (link_dir / "x.pdf").symlink_to(outside)
    row = dict(reports_env["rows"][0], ticket_no="LINK", pdf_path="weekly/2026/LINK/x.pdf",
               html_path=None, xlsx_path=None)
    cols = list(row)
    with engine.begin() as conn:
        conn.execute(sa.text(f"insert into mart.resident_reports ({', '.join(cols)}) "
                             f"values ({', '.join(':' + c for c in cols)})"), row)
    try:
        before = len(env["opened"])
        assert env["client"].get("/reports/weekly/2026/LINK/x.pdf", headers=auth(env, "admin")).status_code == 404
        assert len(env["opened"]) == before
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("delete from mart.resident_reports where ticket_no = 'LINK'"))
