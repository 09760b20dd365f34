"""Failure alerts end to end: a task of the real nightly DAG fails (injected) under `dag.test`, its
on_failure_callback goes through Airflow's SmtpNotifier on `smtp_default`, and a local SMTP server
(aiosmtpd, started here) receives a mail naming the DAG, the business date, the task and the log."""

from __future__ import annotations

import email
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from email import policy

import pytest

from fieldrecon.orchestration import alerts, runner

pytestmark = pytest.mark.system

BUSINESS_DATE = "2026-11-03"


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _stop_embedded(pgdata) -> None:
    """The fresh interpreter's own embedded server (Airflow's metadata DB) goes with the test."""
    pid_file = pgdata / "postmaster.pid"
    if pid_file.exists():
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)


def test_injected_task_failure_mails_the_team(smtp_server, monkeypatch, tmp_path, request):
    if os.environ.get("FIELDRECON_FRESH_AIRFLOW_PROCESS") != "1":
        # dag.test needs Airflow's ORM set up on this test's own metadata DB: an earlier module in this
        # (xdist) process may have configured Airflow already, so the test runs in a fresh interpreter
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                               f"{__file__}::test_injected_task_failure_mails_the_team"],
                              env=os.environ | {"FIELDRECON_FRESH_AIRFLOW_PROCESS": "1"}, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        return
    inbox, port = smtp_server
    monkeypatch.setenv("FIELDRECON_HOME", str(tmp_path))
    request.addfinalizer(lambda: _stop_embedded(tmp_path / "pgdata"))
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "fieldrecon@example.invalid", "timeout": 10}}))
    monkeypatch.setenv("FIELDRECON_ALERT_TO", "data-team@example.invalid, oncall@example.invalid")
    for k in ("AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        monkeypatch.delenv(k, raising=False)
    for k, v in runner.airflow_env().items():
        monkeypatch.setenv(k, v)
    runner.migrate_metadata()

    from fieldrecon import pipeline

    def broken_prepare(ctx, **kw):
        raise ConnectionError("injected: warehouse unreachable")

    monkeypatch.setattr(pipeline, "prepare", broken_prepare)  # dag.test runs the tasks in this process
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(runner.settings.PROJECT_ROOT / "dags")).dags[runner.DAG_ID]
    for task in dag.tasks:
        task.retries = 0  # the final failure at once (the DAG retries twice with back-off)
    assert all(t.on_failure_callback for t in dag.tasks)
    dag_run = dag.test(logical_date=pendulum.datetime(2026, 11, 4, 2, tz="Asia/Shanghai"),
                       run_conf={"business_date": BUSINESS_DATE})
    assert "failed" in str(dag_run.state)

    assert len(inbox.messages) == 1, inbox.messages
    mail_from, rcpt, content = inbox.messages[0]
    assert mail_from == "fieldrecon@example.invalid"
    assert sorted(rcpt) == ["data-team@example.invalid", "oncall@example.invalid"]
    msg = email.message_from_bytes(content, policy=policy.default)
    subject = str(msg["Subject"])
    body = "".join(p.get_content() for p in msg.walk() if p.get_content_type() == "text/html")
    for needle in ("fieldrecon_nightly", "prepare", BUSINESS_DATE):
        assert needle in subject and needle in body, (needle, subject)
    assert "injected: warehouse unreachable" in body
    assert "/dags/fieldrecon_nightly/runs/" in body and "/tasks/prepare" in body, body  # the task's log


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_a_broken_mail_server_does_not_hide_the_failure(monkeypatch):
    # a handler of its own on the alerts logger: importing Airflow's notifier on first use reconfigures
    # the root logger, which drops pytest's caplog handler when this test runs first in its process
    records = _Records()
    logging.getLogger(alerts.__name__).addHandler(records)
    monkeypatch.setattr(logging.getLogger(alerts.__name__), "disabled", False)
    monkeypatch.setenv("FIELDRECON_ALERT_TO", "data-team@example.invalid")
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", '{"conn_type": "smtp", "host": "127.0.0.1", "port": 9, '
                       '"extra": {"disable_tls": true, "disable_ssl": true, "from_email": "a@example.invalid", '
                       '"timeout": 2, "retry_limit": 0}}')

    class TI:
        dag_id, task_id, try_number, log_url = "fieldrecon_nightly", "rules.po", 3, "http://x/log"

    class Run:
        run_id, conf = "manual__1", {"business_date": BUSINESS_DATE}

    how = alerts.notify_failure({"task_instance": TI(), "dag_run": Run(), "exception": RuntimeError("boom")})
    logging.getLogger(alerts.__name__).removeHandler(records)
    assert how == "logged"
    text = "\n".join(records.messages)
    assert "could not be sent" in text and "rules.po" in text
