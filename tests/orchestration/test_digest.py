"""The daily reminder digest end to end: reminders of a business date on real PostgreSQL, one mail per
region through Airflow's SmtpNotifier on `smtp_default` to a local SMTP server (aiosmtpd, started
here); `*` recipients get every region's mail; nothing is sent without recipients."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
from email import policy

import pytest

from fieldrecon.orchestration import digest
from fieldrecon.pipeline import make_context
from fieldrecon.recon.rules import run_family
from tests.factories import clear, put

pytestmark = pytest.mark.db

BD = dt.date(2026, 11, 3)


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, sorted(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server(monkeypatch):
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "fieldrecon@example.invalid", "timeout": 30}}))
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def reminders_of_bd(engine):
    clear(engine)
    put(engine, "netcare_workorders", [
        {"ticket_no": "K1", "ticket_type": "单次现场服务", "status": "履行中", "region": "浙江", "customer_name": "某银行",
         "created_at": dt.datetime(2026, 10, 1)},
    ], BD)
    put(engine, "netcare_punches", [{"punch_id": "P1", "ticket_no": "K1", "engineer_id": "E1", "punch_type": "完成",
                                      "punched_at": dt.datetime(2026, 10, 29, 16)}], BD)  # SL-04, due Nov 5
    put(engine, "netcare_rfcs", [{"rfc_no": "RFC1", "status": "实施", "region": "上海", "submitted_at": dt.datetime(2026, 10, 1),
                                  "pm_approved_at": dt.datetime(2026, 10, 5, 10)}], BD)  # CH-02, due Nov 5 10:00
    run_family(engine, "timeliness", BD)
    run_family(engine, "changes", BD)


def body_of(content: bytes) -> tuple[str, str]:
    msg = email.message_from_bytes(content, policy=policy.default)
    part = msg.get_body(("html", "plain"))
    return str(msg["Subject"]), part.get_content()


def test_one_mail_per_region(engine, reminders_of_bd, smtp_server, monkeypatch):
    monkeypatch.setenv("FIELDRECON_DIGEST_TO", "浙江:zj@example.invalid;*:lead@example.invalid")
    result = digest.send_digests(make_context(BD), engine=engine)
    assert result["failed"] == {} and sorted(result["sent"]) == ["上海", "浙江"]
    mails = {body_of(c)[0]: (f, r, body_of(c)[1]) for f, r, c in smtp_server.messages}
    assert len(smtp_server.messages) == 2
    zj = mails["[fieldrecon] 浙江 到期提醒 2026-11-03：1 项"]
    assert zj[0] == "fieldrecon@example.invalid" and zj[1] == ["lead@example.invalid", "zj@example.invalid"]
    assert "K1" in zj[2] and "2026-11-05 当天结束前" in zj[2] and "RFC1" not in zj[2]
    sh = mails["[fieldrecon] 上海 到期提醒 2026-11-03：1 项"]
    assert sh[1] == ["lead@example.invalid"] and "RFC1" in sh[2] and "2026-11-05 10:00 前" in sh[2]


def test_nothing_sent_without_recipients(engine, reminders_of_bd, smtp_server, monkeypatch):
    monkeypatch.delenv("FIELDRECON_DIGEST_TO", raising=False)
    result = digest.send_digests(make_context(BD), engine=engine)
    assert result["regions_due"] == 2 and result["sent"] == {} and "FIELDRECON_DIGEST_TO" in result["not_configured"]
    assert smtp_server.messages == []


def test_recipient_spec():
    assert digest.recipients("浙江:a@x.cn，b@x.cn；上海:c@x.cn;*:d@x.cn;bad") == {
        "浙江": ["a@x.cn", "b@x.cn"], "上海": ["c@x.cn"], "*": ["d@x.cn"]}
