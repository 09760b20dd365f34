"""The clerks' download page plugin (issue 6): authentication on every route, branch isolation,
traversal attempts answered 404 without opening anything, triage marks, the JSON list."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys

import pytest
import sqlalchemy as sa

from fieldrecon import exports, packs
from fieldrecon.pipeline import make_context
from fieldrecon.rules import run_family
from fieldrecon.settings import PROJECT_ROOT
from tests.factories import clear

BD = dt.date(2026, 11, 3)


@pytest.fixture(scope="module")
def env(engine, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plugin")
    mp = pytest.MonkeyPatch()
    mp.setenv("FIELDRECON_PACKS", str(tmp / "store"))
    mp.setenv("FIELDRECON_CLERK_REGIONS", "clerk:浙江;admin:*")
    mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "clerk:viewer,admin:admin,nobody:viewer")
    mp.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "fieldrecon-test-secret")
    mp.setenv("AIRFLOW__CORE__AUTH_MANAGER",
              "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager")
    from tests.test_packs import seed

    clear(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.cycle_schedule, packs.pack_runs, packs.versions, recon.triage_marks"))
    seed(engine)
    run_family(engine, "po", BD)
    ctx = make_context(BD, output_root=str(tmp / "out"))
    exports.write_all(engine, ctx)
    packs.build_all(engine, ctx)

    spec = importlib.util.spec_from_file_location("fieldrecon_downloads", PROJECT_ROOT / "plugins" / "fieldrecon_downloads.py")
    plugin = importlib.util.module_from_spec(spec)
    sys.modules["fieldrecon_downloads"] = plugin
    spec.loader.exec_module(plugin)
    plugin.app.dependency_overrides[plugin.get_engine] = lambda: engine
    plugin.app.dependency_overrides[plugin.get_store] = lambda: tmp / "store"

    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers import base_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    # The token's signature and expiry are verified for real; only the revocation list lookup (a
    # table of Airflow's metadata DB, which this unit test does not set up) is stubbed. The browser
    # test runs the real api-server with its own migrated metadata DB.
    mp.setattr(base_auth_manager.RevokedToken, "is_revoked", classmethod(lambda cls, jti, **kw: False))
    am = init_auth_manager()
    tokens = {u: am.generate_jwt(SimpleAuthManagerUser(username=u, role=r))
              for u, r in (("clerk", "viewer"), ("admin", "admin"), ("nobody", "viewer"))}
    opened = []
    real = plugin.FileResponse

    def spy(path, *a, **kw):
        opened.append(str(path))
        return real(path, *a, **kw)

    mp.setattr(plugin, "FileResponse", spy)
    client = TestClient(plugin.app)
    yield {"client": client, "tokens": tokens, "store": tmp / "store", "plugin": plugin, "opened": opened}
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
    assert {f["name"] for f in body["run_files"]} == {"exceptions.xlsx", "findings.csv", "acceptance_todo.csv"}
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


def test_page_in_chinese_and_triage(env, engine):
    c = env["client"]
    page = c.get("/", headers=auth(env, "clerk"))
    assert page.status_code == 200 and "验收包下载" in page.text and "上海浦东发展银行" not in page.text
    assert "验收包_PO8-3.zip" in page.text and "阻塞" in page.text
    with engine.connect() as conn:
        ids = dict(conn.execute(sa.text("select region, finding_id from recon.finding_snapshots "
                                        "where business_date = :d order by finding_id"), {"d": BD}).all())
    zj = ids["浙江"]
    r = c.post("/triage", data={"finding_id": zj, "reason": "客户确认", "filing_ref": "BA-1"},
               headers=auth(env, "clerk"), follow_redirects=False)
    assert r.status_code == 303
    with engine.connect() as conn:
        mark = conn.execute(sa.text("select * from recon.triage_marks where finding_id = :f"), {"f": zj}).mappings().one()
    assert (mark["reason"], mark["filing_ref"], mark["marked_by"]) == ("客户确认", "BA-1", "clerk")
    if "上海" in ids:
        assert c.post("/triage", data={"finding_id": ids["上海"], "reason": "x"},
                      headers=auth(env, "clerk")).status_code == 404
    assert c.post("/triage", data={"finding_id": "no-such", "reason": "x"}, headers=auth(env, "clerk")).status_code == 404
    assert "已说明：客户确认" in c.get("/", headers=auth(env, "clerk")).text
    r = c.post("/triage/unmark", data={"finding_id": zj}, headers=auth(env, "clerk"), follow_redirects=False)
    assert r.status_code == 303
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from recon.triage_marks")).scalar() == 0
        assert conn.execute(sa.text("select count(*) from recon.triage_log")).scalar() == 2


def test_plugin_registers_app_and_menu(env):
    p = env["plugin"].FieldreconDownloadsPlugin
    assert p.fastapi_apps[0]["url_prefix"] == "/fieldrecon"
    assert p.external_views[0]["url_route"] == "fieldrecon-downloads"
    assert env["plugin"].clerk_regions("a:浙江,上海;b:*") == {"a": {"浙江", "上海"}, "b": None}
