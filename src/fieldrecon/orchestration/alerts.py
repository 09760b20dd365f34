"""Telling someone when a night fails: the DAG's on_failure_callback. It always logs one clear
message and sends it through Airflow's notifiers: `SmtpNotifier` on the SMTP connection
(`smtp_default`, FIELDRECON_ALERT_SMTP_CONN_ID) to FIELDRECON_ALERT_TO, and, when
FIELDRECON_ALERT_WEBHOOK_CONN_ID names an HTTP connection, `HttpNotifier` with a JSON body.
Other mail (the timeliness digest) uses the same `smtp_default` connection convention."""

from __future__ import annotations

import html
import logging

from fieldrecon import settings

log = logging.getLogger(__name__)


def committed_by(task_id: str, airflow_run_id: str | None) -> str:
    """What the failed task did commit: a load task commits file by file, every other task in one
    transaction (or not at all). Never raises: the warehouse may be what failed."""
    if not task_id.startswith("load."):
        return "Nothing of this task was committed (it writes in one transaction)"
    source = task_id.removeprefix("load.")
    try:
        import sqlalchemy as sa

        from fieldrecon.warehouse import connection

        with connection.engine().connect() as conn:
            rows = conn.execute(sa.text(
                "select f.file_name, f.status from ops.files f join ops.runs r on r.airflow_run_id = :r "
                "where f.source = :s and f.status in ('loaded', 'rejected') and f.loaded_at >= r.started_at "
                "order by f.extract_date, f.delivery_no, f.file_id"), {"r": airflow_run_id, "s": source}).all()
    except Exception as e:  # noqa: BLE001 - the alert must go out even when the warehouse is down
        return f"What was committed is unknown (warehouse not reachable: {type(e).__name__}); see ops.files for source {source}"
    if not rows:
        return f"No file of {source} was committed by this run"
    done = ", ".join(f"{r.file_name} ({r.status})" for r in rows)
    return f"Committed before the failure, file by file ({len(rows)}): {done}; the rest of {source} is still pending"


def mark_run_failed(airflow_run_id: str | None) -> None:
    """The run log row of a failed run says so (a run killed without a callback is marked by the next run)."""
    if not airflow_run_id:
        return
    try:
        import sqlalchemy as sa

        from fieldrecon.warehouse import connection

        with connection.engine().begin() as conn:
            conn.execute(sa.text("update ops.runs set status = 'failed', finished_at = now() "
                                 "where airflow_run_id = :r and status = 'running'"), {"r": airflow_run_id})
    except Exception:  # noqa: BLE001 - best effort; the next run marks it otherwise
        log.warning("could not mark run %s failed in ops.runs", airflow_run_id)


def _facts(context: dict) -> dict:
    ti = context.get("task_instance") or context.get("ti")
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None) or {}
    business_date = conf.get("business_date")
    if not business_date:
        reference = context.get("data_interval_end") or getattr(dag_run, "run_after", None)
        if reference is not None:
            from fieldrecon import dates

            try:
                business_date = dates.business_date_from(conf, reference).isoformat()
            except Exception:  # noqa: BLE001 - the alert must go out even if the date cannot be told
                business_date = None
    try:
        log_url = getattr(ti, "log_url", None)
    except Exception:  # noqa: BLE001 - log_url reads Airflow config; never let it stop the alert
        log_url = None
    return {
        "dag_id": getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None) or "fieldrecon_nightly",
        "task_id": getattr(ti, "task_id", "?"),
        "run_id": getattr(dag_run, "run_id", "?"),
        "business_date": business_date or "unknown",
        "try_number": getattr(ti, "try_number", "?"),
        "exception": repr(context.get("exception")),
        "log_url": log_url or "(no log URL)",
    }


def failure_message(context: dict) -> str:
    f = _facts(context)
    return (
        f"fieldrecon nightly run FAILED: DAG {f['dag_id']}, task {f['task_id']} of run {f['run_id']} "
        f"(business_date {f['business_date']}), try {f['try_number']}: {f['exception']}. "
        f"Log: {f['log_url']}. {committed_by(f['task_id'], getattr(context.get('dag_run'), 'run_id', None))}; "
        "clear the task to rerun it."
    )


def _send_mail(s: settings.Settings, f: dict, message: str, context: dict) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    subject = f"[fieldrecon] {f['dag_id']} failed: {f['task_id']} (business date {f['business_date']})"
    body = (f"<p>{html.escape(message)}</p><p><a href=\"{html.escape(f['log_url'])}\">Task log</a></p>")
    # subject and body given: the notifier renders no templates over the exception text
    SmtpNotifier(to=[a.strip() for a in s.alert_to.split(",") if a.strip()], from_email=s.alert_from,
                 subject=subject, html_content=body, smtp_conn_id=s.alert_smtp_conn_id).notify(context)


def _post_webhook(s: settings.Settings, f: dict, message: str, context: dict) -> None:
    from airflow.providers.http.notifications.http import HttpNotifier

    HttpNotifier(http_conn_id=s.alert_webhook_conn_id, json={"text": message, **f}).notify(context)


def notify_failure(context: dict) -> str:
    """on_failure_callback: log, then mail and/or post; returns how the alert went out
    ("smtp", "webhook", "smtp+webhook", or "logged")."""
    message = failure_message(context)
    log.error(message)
    mark_run_failed(getattr(context.get("dag_run"), "run_id", None))
    s = settings.get()
    f = _facts(context)
    sent = []
    for channel, configured, send in (("smtp", s.alert_to, _send_mail), ("webhook", s.alert_webhook_conn_id, _post_webhook)):
        if not configured:
            continue
        try:
            send(s, f, message, context)
            sent.append(channel)
        except Exception:  # noqa: BLE001 - a broken mail server must not hide the task's own failure
            log.exception("failure alert over %s could not be sent", channel)
    if not (s.alert_to or s.alert_webhook_conn_id):
        log.warning("no alert recipient configured (FIELDRECON_ALERT_TO / FIELDRECON_ALERT_WEBHOOK_CONN_ID): "
                    "alert only logged, nothing sent")
    return "+".join(sent) or "logged"
