"""Remote landing: the same extracts in a folder, in an S3 bucket (moto in server mode) and on an
SFTP server (asyncssh, in-process) give the same run: pull, archive and load through the sftp /
amazon providers' filesystems (ObjectStoragePath with FIELDRECON_LANDING_CONN_ID), then the same run
summary counts and the same findings, byte for byte. Each run has its own warehouse database."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import socket
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from fieldrecon.warehouse import connection

pytestmark = pytest.mark.db

BUSINESS_DATE = dt.date(2026, 11, 3)
SECRET = uuid.uuid4().hex


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _extracts(folder: Path) -> Path:
    """Roster and punches of the business date (E3 arrives and never leaves, E9 is not on the roster)."""
    folder.mkdir(parents=True)
    d, day = f"{BUSINESS_DATE:%Y%m%d}", f"{BUSINESS_DATE:%Y-%m-%d}"
    (folder / f"timesheet_engineers_{d}.csv").write_text(
        "工号,姓名,区域,手机号,在职状态\nE1,张三,浙江,13800000000,在职\nE3,王五,浙江,13700000000,在职\n", encoding="utf-8")
    (folder / f"netcare_punches_{d}.csv").write_bytes((
        "打卡记录ID,工单号,工号,姓名,打卡类型,打卡时间,经度,纬度\n"
        f"P1,WO1,E1,张三,到达,{day} 09:12:00,120.1,30.2\nP2,WO1,E1,张三,离场,{day} 17:12:00,120.1,30.2\n"
        f"P3,WO2,E3,王五,到达,{day} 10:00:00,121.4,31.2\nP4,WO3,E9,赵六,到达,{day} 11:00:00,120.2,30.3\n"
    ).encode("gb18030"))
    (folder / "readme.txt").write_text("not an extract\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def extracts(tmp_path_factory) -> Path:
    return _extracts(tmp_path_factory.mktemp("landing") / "outbox")


@pytest.fixture(scope="module")
def s3(extracts):
    import boto3
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="landing", aws_secret_access_key=SECRET,
                          region_name="cn-north-1")
    client.create_bucket(Bucket="partner-drop", CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
    for f in sorted(extracts.iterdir()):
        client.upload_file(str(f), "partner-drop", f"outbox/{f.name}")
    conn = {"conn_type": "aws", "login": "landing", "password": SECRET,
            "extra": {"endpoint_url": endpoint, "region_name": "cn-north-1"}}
    try:
        yield "s3://partner-drop/outbox", conn
    finally:
        server.stop()


@pytest.fixture(scope="module")
def sftp(extracts, tmp_path_factory):
    import asyncssh

    root = extracts.parent  # the server's chroot: /outbox is the partner's drop folder
    key = asyncssh.generate_private_key("ssh-ed25519")
    port = _free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()

    class Server(asyncssh.SSHServer):
        def begin_auth(self, username):
            return True

        def password_auth_supported(self):
            return True

        def validate_password(self, username, password):
            return username == "landing" and password == SECRET

    async def serve():
        return await asyncssh.listen("127.0.0.1", port, server_host_keys=[key], server_factory=Server,
                                     sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root)))

    def run():
        asyncio.set_event_loop(loop)
        holder["server"] = loop.run_until_complete(serve())
        started.set()
        loop.run_forever()

    holder: dict = {}
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(60), "the SFTP server did not start"
    conn = {"conn_type": "sftp", "host": "127.0.0.1", "port": port, "login": "landing", "password": SECRET,
            "extra": {"no_host_key_check": "true"}}  # the test server's key is generated on the fly
    try:
        yield "sftp://127.0.0.1/outbox", conn
    finally:
        loop.call_soon_threadsafe(holder["server"].close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


def _run(landing: str, conn: dict | None, tmp: Path, monkeypatch, conn_id: str = "partner_drop") -> dict:
    from fieldrecon import pipeline

    db = f"fr_remote_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(connection.url_for_database("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'create database "{db}"'))
    monkeypatch.setenv("FIELDRECON_DB", db)
    for name in ("ARCHIVE", "PACKS", "REPORTS"):
        monkeypatch.setenv(f"FIELDRECON_{name}", str(tmp / name.lower()))
    if conn:
        monkeypatch.setenv("FIELDRECON_LANDING_CONN_ID", conn_id)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    else:
        monkeypatch.delenv("FIELDRECON_LANDING_CONN_ID", raising=False)
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    connection.engine.cache_clear()
    try:
        summary = pipeline.run_in_process(BUSINESS_DATE, landing, str(tmp / "outputs"))
        with connection.engine().connect() as c:
            archived = sorted(c.execute(sa.text("select file_name, sha256, status from ops.files")).all())
    finally:
        connection.engine().dispose()
        connection.engine.cache_clear()
        with admin.connect() as c:
            c.execute(sa.text(f'drop database if exists "{db}" with (force)'))
        admin.dispose()
    out = tmp / "outputs" / BUSINESS_DATE.isoformat()
    return {"summary": summary, "archived": archived, "findings": (out / "findings.csv").read_bytes(),
            "archive_files": sorted(p.name for p in (tmp / "archive").rglob("*") if p.is_file())}


def _counts(summary: dict) -> dict:
    """What the run summary says about files and rows, without timings and run ids."""
    per_file = sorted((f["file_name"], f["status"], f.get("rows_read"), f.get("rows_loaded"), f.get("rows_quarantined"),
                       f.get("rows_duplicate")) for f in summary["per_file"])
    return {"files": summary["files"], "per_file": per_file, "findings_total": summary["findings_total"]}


def test_sftp_and_s3_landings_give_the_same_run_as_a_folder(extracts, s3, sftp, tmp_path, monkeypatch):
    local = _run(str(extracts), None, tmp_path / "folder", monkeypatch)
    assert local["summary"]["files"]["loaded"] == 2 and local["findings"].count(b"\n") > 1
    for scheme, (url, conn) in (("s3", s3), ("sftp", sftp)):
        remote = _run(url, conn, tmp_path / scheme, monkeypatch)
        assert _counts(remote["summary"]) == _counts(local["summary"]), scheme
        assert remote["findings"] == local["findings"], scheme
        assert [(n, s, st) for n, s, st in remote["archived"]] == [(n, s, st) for n, s, st in local["archived"]], scheme
        assert remote["archive_files"] == local["archive_files"], scheme


def test_a_wrong_sftp_password_fails_the_pull_loudly(sftp, tmp_path, monkeypatch):
    url, conn = sftp
    with pytest.raises(Exception) as e:
        # another connection id: Airflow caches a filesystem per (scheme, connection id) in a process
        _run(url, conn | {"password": "wrong"}, tmp_path, monkeypatch, conn_id="partner_drop_wrong")
    assert any(w in repr(e.value).lower() for w in ("auth", "permission", "connect")), repr(e.value)
