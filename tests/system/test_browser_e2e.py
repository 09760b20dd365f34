"""End to end in a real browser (issue 6): Airflow's api-server on a free local port with the
project's plugins and SimpleAuthManager users, a clerk logs in with headless Debian Chromium
(playwright's driver, pointed at /usr/bin/chromium: no browser download), opens the download page
from the menu, filters, downloads a pack and checks the zip's manifest. The page's screenshot is
kept in var/test-artifacts/.

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
ARTIFACTS = PROJECT_ROOT / "var" / "test-artifacts"
PASSWORDS = {"clerk": "clerk-pass-1", "admin": "admin-pass-1"}

pytestmark = [pytest.mark.system, pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed (apt-get install -y chromium)")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen, seconds: float = 180) -> None:
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


@pytest.fixture(scope="module")
def server(engine, tmp_path_factory):
    pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("e2e")
    store = tmp / "store"
    old = os.environ.get("FIELDRECON_PACKS")
    os.environ["FIELDRECON_PACKS"] = str(store)
    try:
        from tests.outputs.test_packs import seed

        clear(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("truncate mart.cycle_schedule, packs.pack_runs, packs.versions, recon.triage_marks"))
        seed(engine)
        run_family(engine, "po", BD)
        ctx = make_context(BD, output_root=str(tmp / "out"))
        exports.write_all(engine, ctx)
        packs.build_all(engine, ctx)
    finally:
        if old is None:
            os.environ.pop("FIELDRECON_PACKS", None)
        else:
            os.environ["FIELDRECON_PACKS"] = old

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
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "clerk:viewer,admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": "fieldrecon-e2e-secret",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "FIELDRECON_PACKS": str(store),
        "FIELDRECON_CLERK_REGIONS": "clerk:浙江;admin:*",
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
        yield {"url": f"http://127.0.0.1:{port}", "store": store, "log": tmp / "api-server.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_anonymous_request_is_refused(server):
    for path in ("/fieldrecon/", "/fieldrecon/api/packs", "/fieldrecon/files/runs/2026-11-03/浙江/findings.csv"):
        req = urllib.request.Request(server["url"] + urllib.parse.quote(path))
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert e.value.code == 401, path


def test_clerk_downloads_a_pack_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 800}, accept_downloads=True, locale="zh-CN")
            page.set_default_timeout(60_000)
            page.goto(server["url"] + "/")
            # SimpleAuthManager's login form
            page.locator("input[name=username]").fill("clerk")
            page.locator("input[type=password]").fill(PASSWORDS["clerk"])
            page.locator("button[type=submit]").click()
            page.wait_for_url(lambda u: "/auth/" not in u and "login" not in u)
            # open the page from the menu: Browse → 验收包下载
            page.get_by_role("button", name="Browse").click()
            page.get_by_role("menuitem", name="验收包下载").click()
            page.wait_for_url("**/plugin/fieldrecon-downloads")
            frame = page.frame_locator("iframe")
            expect(frame.locator("h1")).to_have_text("验收包下载")
            expect(frame.locator("#packs")).to_contain_text("PO8-3")
            expect(frame.locator("#packs")).not_to_contain_text("上海浦东发展银行")
            # filter: one PO, blocked
            frame.locator("input[name=po]").fill("PO8-3")
            frame.locator("select[name=status]").select_option("blocked")
            frame.get_by_role("button", name="筛选").click()
            expect(frame.locator("#packs tbody tr")).to_have_count(1)
            page.frames[-1].evaluate("document.fonts.ready.then(() => true)")
            page.screenshot(path=str(ARTIFACTS / "download_page.png"), full_page=True)
            with page.expect_download() as info:
                frame.get_by_role("link", name="验收包_PO8-3.zip").click()
            download = info.value
            target = tmp_path / download.suggested_filename
            download.save_as(target)
        finally:
            browser.close()
    assert target.name == "验收包_PO8-3.zip"
    z = zipfile.ZipFile(io.BytesIO(target.read_bytes()))
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["pack"] == "PO8-3" and manifest["status"] == "blocked" and manifest["reasons"] == ["AT-01 W11"]
    for name in z.namelist():
        if name != "manifest.json":
            assert manifest["files"][name] == packs.sha256(z.read(name))
