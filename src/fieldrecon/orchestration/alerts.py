"""Telling someone when a night fails: a task failure callback that always logs a clear message
and, when an alert connection is configured, sends it by e-mail (SMTP) or webhook."""

from __future__ import annotations

import json
import logging
import os
import smtplib
import urllib.request
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)


def failure_message(context: dict) -> str:
    ti = context.get("task_instance") or context.get("ti")
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or {}
    return (
        f"fieldrecon nightly run FAILED: task {getattr(ti, 'task_id', '?')} of run {getattr(dag_run, 'run_id', '?')} "
        f"(business_date {conf.get('business_date', 'from schedule')}), try {getattr(ti, 'try_number', '?')}: "
        f"{context.get('exception')!r}. Nothing of this task was committed; clear the task to rerun it."
    )


def notify_failure(context: dict) -> str:
    """on_failure_callback: log, then send over FIELDRECON_ALERT_WEBHOOK or AIRFLOW_CONN_SMTP_ALERTS if set."""
    message = failure_message(context)
    log.error(message)
    webhook = os.environ.get("FIELDRECON_ALERT_WEBHOOK")
    smtp = os.environ.get("AIRFLOW_CONN_SMTP_ALERTS")
    if webhook:
        req = urllib.request.Request(webhook, data=json.dumps({"text": message}).encode(), headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10)  # noqa: S310 - operator-configured URL
        return "webhook"
    if smtp:
        u = urlsplit(smtp)
        msg = EmailMessage()
        msg["Subject"] = "fieldrecon nightly run failed"
        msg["From"] = os.environ.get("FIELDRECON_ALERT_FROM", "fieldrecon@localhost")
        msg["To"] = os.environ.get("FIELDRECON_ALERT_TO", "data-team@localhost")
        msg.set_content(message)
        with smtplib.SMTP(u.hostname, u.port or 25, timeout=10) as s:
            if u.username:
                s.starttls()
                s.login(unquote(u.username), unquote(u.password or ""))
            s.send_message(msg)
        return "smtp"
    log.warning("no alert connection configured (FIELDRECON_ALERT_WEBHOOK / AIRFLOW_CONN_SMTP_ALERTS): alert only logged, nothing sent")
    return "logged"
