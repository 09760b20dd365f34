"""End to end in a real browser (issues 6, 14, 18): one Airflow api-server on a free local port with
the project's plugins and SimpleAuthManager users, headless Debian Chromium (playwright's driver,
pointed at /usr/bin/chromium: no browser download).

- a clerk's walk-through, asserted step by step: a region's clerk lead logs in (Airflow's UI in
  Chinese), opens 验收包下载 from the menu, finds the blocked pack, reads why in Chinese, marks the
  finding explained with a reason, sees the pack ready after the next night's run, downloads it and
  reads its PDF; screenshots of the page go to docs/portal-*.png;
- forged writes: pages on another port and on another host name of 127.0.0.1 submit a form and a
  fetch() to the triage routes in the clerk's browser — nothing is written.

Needs `chromium` (Debian package; bin/test installs it) and the `playwright` Python package;
skipped when either is missing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from fieldrecon.outputs import exports, packs
from fieldrecon.pipeline import make_context
from fieldrecon.recon.rules import run_family
from fieldrecon.settings import PROJECT_ROOT
from tests.factories import clear

BD = dt.date(2026, 11, 3)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORDS = {"clerk": "clerk-pass-1", "lead": "lead-pass-1", "admin": "admin-pass-1"}
DOCS = PROJECT_ROOT / "docs"

pytestmark = [pytest.mark.system, pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (apt-get install -y chromium)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"api-server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status < 500:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(url)


def night(engine, tmp: Path, store: Path, business_date: dt.date) -> None:
    """One night's PO family, exports and packs for `business_date` (the DAG's steps, in-process)."""
    old = os.environ.get("FIELDRECON_PACKS")
    os.environ["FIELDRECON_PACKS"] = str(store)
    try:
        run_family(engine, "po", business_date)
        ctx = make_context(business_date, output_root=str(tmp / "out"))
        exports.write_all(engine, ctx)
        packs.build_all(engine, ctx)
    finally:
        if old is None:
            os.environ.pop("FIELDRECON_PACKS", None)
        else:
            os.environ["FIELDRECON_PACKS"] = old


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory):
    pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("e2e")
    store = tmp / "store"
    from tests.outputs.test_packs import seed

    clear(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.cycle_schedule, packs.pack_runs, packs.versions, recon.triage_marks"))
    seed(engine)
    night(engine, tmp, store, BD)

    home = tmp / "airflow"
    (home / "dags").mkdir(parents=True)
    (home / "passwords.json").write_text(json.dumps(PASSWORDS))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__") and k != "AIRFLOW_HOME"}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "clerk:viewer,lead:user,admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": "fieldrecon-e2e-secret",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "FIELDRECON_PACKS": str(store),
        "FIELDRECON_CLERK_REGIONS": "clerk:浙江;lead:浙江;admin:*",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    })
    # the plugin reaches this module's test database
    if env.get("AIRFLOW_CONN_WAREHOUSE"):
        env["AIRFLOW_CONN_WAREHOUSE"] = engine.url.render_as_string(hide_password=False)
    else:
        env["FIELDRECON_DB"] = engine.url.database
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)
    log = open(tmp / "api-server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([airflow, "api-server", "--port", str(port), "--host", "127.0.0.1"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait(f"http://127.0.0.1:{port}/api/v2/monitor/health", proc)
        yield {"url": f"http://127.0.0.1:{port}", "port": port, "store": store, "log": tmp / "api-server.log",
               "tmp": tmp}
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()




def _marks(engine) -> list[tuple]:
    with engine.connect() as conn:
        return conn.execute(sa.text("select finding_id, reason, marked_by from recon.triage_marks order by 1")).all()


def test_anonymous_request_is_refused(server):
    for path in ("/fieldrecon/", "/fieldrecon/api/packs", "/fieldrecon/files/runs/2026-11-03/浙江/findings.csv"):
        req = urllib.request.Request(server["url"] + urllib.parse.quote(path))
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=30)
        assert e.value.code == 401, path
    # without the trailing slash: redirected to the page (then 401 without credentials), never a 404
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(server["url"] + "/fieldrecon", timeout=30)
    assert e.value.code == 401 and e.value.url.endswith("/fieldrecon/")


def _browser(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])


def _login(context, server, user):
    page = context.new_page()
    page.set_default_timeout(300_000)
    page.goto(server["url"] + "/")
    page.locator("input[name=username]").fill(user)
    page.locator("input[type=password]").fill(PASSWORDS[user])
    page.locator("button[type=submit]").click()
    page.wait_for_url(lambda u: "/auth/" not in u and "login" not in u)
    return page


ATTACK = """<!DOCTYPE html><html><body><h1>win a prize</h1>
<form id="f" method="post" action="{target}/fieldrecon/triage">
<input name="finding_id" value="{finding}"><input name="reason" value="forged">
<input name="csrf_token" value="{token}"></form>
<script>
fetch("{target}/fieldrecon/triage", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "application/x-www-form-urlencoded"}},
  body: "finding_id={finding}&reason=forged-by-fetch&csrf_token={token}"}})
  .finally(() => {{ document.title = "sent"; document.getElementById("f").submit(); }});
</script></body></html>"""


def test_pages_on_other_origins_cannot_write(server, engine):
    """A clerk lead is logged in; pages on another port and on `localhost` (another host name of
    127.0.0.1) post the triage form and a fetch() — even with the session's real token (as if it had
    leaked). Nothing is written; the same-origin request with that token would be accepted."""
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    with engine.connect() as conn:
        finding = conn.execute(sa.text("select finding_id from recon.finding_snapshots where business_date = :d "
                                       "and region = '浙江' order by finding_id limit 1"), {"d": BD}).scalar()
    before = _marks(engine)
    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = pages.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    evil = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = _browser(p)
            try:
                context = browser.new_context(locale="zh-CN")
                page = _login(context, server, "lead")
                session = page.request.get(server["url"] + "/fieldrecon/api/session").json()
                assert session["can_mark"] and session["user"] == "lead"
                body = ATTACK.format(target=server["url"], finding=finding, token=session["csrf_token"]).encode()
                pages["/attack.html"] = body
                for host in ("127.0.0.1", "localhost"):
                    attacker = context.new_page()
                    attacker.set_default_timeout(300_000)
                    with attacker.expect_navigation(url=lambda u: "/fieldrecon/triage" in u):
                        attacker.goto(f"http://{host}:{evil.server_port}/attack.html")
                    text = attacker.locator("body").inner_text()
                    # another port: the cookies come along (same site) and the origin check refuses;
                    # another host name: Airflow's cookie (re-set SameSite=Lax by the page) stays home
                    assert ("跨站请求已拒绝" in text) if host == "127.0.0.1" else ("Not authenticated" in text
                                                                               or "跨站请求已拒绝" in text), (host, text)
                    attacker.close()
                assert _marks(engine) == before
                # the control: the same token from the page's own origin is accepted
                r = page.request.post(server["url"] + "/fieldrecon/triage", headers={"Origin": server["url"]},
                                      form={"finding_id": finding, "reason": "对照：本页提交", "csrf_token": session["csrf_token"]},
                                      max_redirects=0)
                assert r.status == 303
                r = page.request.post(server["url"] + "/fieldrecon/triage/unmark", headers={"Origin": server["url"]},
                                      form={"finding_id": finding, "csrf_token": session["csrf_token"]}, max_redirects=0)
                assert r.status == 303
            finally:
                browser.close()
    finally:
        evil.shutdown()
    assert _marks(engine) == before


def test_clerk_walk_through(server, engine, tmp_path):
    """Log in as a region's clerk lead, find the blocked pack, read why in Chinese, mark the finding
    explained, see the pack ready after the next run, download it and read its PDF."""
    from playwright.sync_api import expect, sync_playwright

    from fieldrecon.outputs.render import pdf_text

    expect.set_options(timeout=300_000)  # hang guards: a loaded machine is slow, not wrong
    from fieldrecon.recon.rules import catalogue

    title = catalogue()["AT-01"].title
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True, locale="zh-CN",
                                          timezone_id="Asia/Shanghai")
            # 1. log in as the 浙江 clerk lead; Airflow's own UI follows the browser's language (zh-CN) and zone
            page = _login(context, server, "lead")
            page.get_by_role("button", name="浏览").click()
            page.get_by_role("menuitem", name="验收包下载").click()
            page.wait_for_url("**/plugin/fieldrecon-downloads")
            frame = page.frame_locator("iframe")
            expect(frame.locator("h1")).to_have_text("验收包下载")
            expect(frame.locator("#packs")).to_contain_text("PO8-3")
            expect(frame.locator("#packs")).not_to_contain_text("上海浦东发展银行")
            # the page re-set Airflow's session cookie (set by the login page's script without SameSite)
            cookies = {c["name"]: c for c in context.cookies(server["url"] + "/fieldrecon/")}
            assert cookies["_token"]["sameSite"] == "Lax" and cookies["_token"]["httpOnly"], cookies["_token"]
            assert cookies["fieldrecon_csrf"]["sameSite"] == "Strict" and cookies["fieldrecon_csrf"]["httpOnly"]
            # 2. find the blocked pack
            frame.locator("select[name=status]").select_option("blocked")
            frame.get_by_role("button", name="筛选").click()
            blocked = frame.locator("#packs tbody tr")
            expect(blocked).to_have_count(1)
            expect(blocked).to_contain_text("阻塞")
            expect(blocked).to_contain_text("AT-01 W11")
            page.screenshot(path=str(DOCS / "portal-in-airflow.png"))
            # 3. read why, in Chinese: the rule's title (and sentence) on the finding of W11
            row = frame.locator("#findings tbody tr", has_text="工单 W11").filter(has_text="AT-01")
            expect(row).to_have_count(1)
            expect(row).to_contain_text(title)
            # 4. mark it explained with a reason
            row.locator("input[name=reason]").fill("客户邮件确认免提供第三份巡检记录")
            row.locator("input[name=filing_ref]").fill("BA-2026-007")
            row.get_by_role("button", name="标记已说明").click()
            expect(frame.locator("#findings tbody tr", has_text="工单 W11")).to_contain_text(
                "已说明：客户邮件确认免提供第三份巡检记录")
            marked = {m[0]: m for m in _marks(engine)}
            assert [m[1:] for m in marked.values()] == [("客户邮件确认免提供第三份巡检记录", "lead")]
            direct = context.new_page()
            direct.set_default_timeout(300_000)
            direct.goto(server["url"] + "/fieldrecon/")
            direct.evaluate("document.fonts.ready.then(() => true)")
            direct.screenshot(path=str(DOCS / "portal-page.png"), full_page=True)
            # 5. the next night's run; the pack is ready
            night(engine, server["tmp"], server["store"], BD + dt.timedelta(days=1))
            direct.goto(server["url"] + "/fieldrecon/?po=PO8-3")
            latest = direct.locator("#packs tbody tr:not(.old)")
            expect(latest).to_have_count(1)
            expect(latest).to_contain_text("可提交")
            expect(latest).to_contain_text("（第 2 版，最新）")
            direct.evaluate("document.fonts.ready.then(() => true)")
            direct.screenshot(path=str(DOCS / "portal-pack-ready.png"), full_page=True)
            # 6. download it and read its PDF
            with direct.expect_download() as info:
                latest.get_by_role("link", name="验收包_PO8-3.zip").click()
            target = tmp_path / info.value.suggested_filename
            info.value.save_as(target)
        finally:
            browser.close()
    assert target.name == "验收包_PO8-3.zip"
    z = zipfile.ZipFile(io.BytesIO(target.read_bytes()))
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["pack"] == "PO8-3" and manifest["status"] == "ready" and manifest["reasons"] == []
    for name in z.namelist():
        if name != "manifest.json":
            assert manifest["files"][name] == packs.sha256(z.read(name))
    pdfs = [n for n in z.namelist() if n.endswith(".pdf")]
    assert pdfs, z.namelist()
    text = pdf_text(z.read(pdfs[0]))
    assert "PO8" in text and "验收" in text, text[:500]
