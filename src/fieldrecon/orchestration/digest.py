"""The daily reminder digest (issue 16; part 12 "即将超时…提醒"): after the exports, one mail per region
listing what falls due (outputs.reminders), sent through Airflow's SmtpNotifier on the SMTP
connection FIELDRECON_DIGEST_SMTP_CONN_ID (default `smtp_default`) to the region's recipients in
FIELDRECON_DIGEST_TO (`浙江:a@x.cn;上海:b@x.cn,c@x.cn;*:lead@x.cn`). Without recipients or without the
connection nothing is sent and the step says so; a region with nothing due gets no mail. A mail
that cannot be sent is logged and reported, and never fails the night."""

from __future__ import annotations

import logging
import re

from fieldrecon import pipeline, settings
from fieldrecon.outputs import reminders
from fieldrecon.recon import rules
from fieldrecon.warehouse.runlog import record

log = logging.getLogger(__name__)


def recipients(spec: str | None) -> dict[str, list[str]]:
    """`region:addr,addr;region2:addr` -> {region: [addr, ...]} (`*` = every region)."""
    out: dict[str, list[str]] = {}
    for part in re.split(r"[;；]", spec or ""):
        region, _, addrs = part.partition(":")
        names = [a.strip() for a in re.split(r"[,，]", addrs) if a.strip()]
        if region.strip() and names:
            out.setdefault(region.strip(), []).extend(names)
    return out


def _connection_configured(conn_id: str) -> bool:
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except Exception:  # noqa: BLE001 - any lookup failure means: not configured here
        return False
    return True


def send_digests(ctx: pipeline.RunContext, context: dict | None = None, engine=None) -> dict:
    """Mail each region's reminders of ctx's business date; returns what was sent and skipped."""
    s = settings.get()
    with (engine or pipeline.engine()).connect() as conn:
        rows = reminders.reminder_rows(conn, rules.bind_params(ctx.date, ctx.params))
    mails = reminders.digests(rows, ctx.date)
    to = recipients(s.digest_to)
    result: dict = {"regions_due": len(mails), "sent": {}, "skipped": {}, "failed": {}}
    if not to or not _connection_configured(s.digest_smtp_conn_id):
        result["not_configured"] = ("no digest recipients (FIELDRECON_DIGEST_TO)" if not to
                                    else f"no SMTP connection {s.digest_smtp_conn_id!r}")
        log.warning("reminder digest not mailed: %s", result["not_configured"])
        record(ctx.run_id, "digest", result)
        return result
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    for region, mail in mails.items():
        addrs = sorted(set(to.get(region, []) + to.get("*", [])))
        if not addrs:
            result["skipped"][region] = "no recipient for this region"
            continue
        try:
            # subject and body given: the notifier renders no templates over the reminders' text
            SmtpNotifier(to=addrs, from_email=s.digest_from, subject=mail["subject"], html_content=mail["html"],
                         smtp_conn_id=s.digest_smtp_conn_id).notify(context or {})
            result["sent"][region] = {"to": addrs, "reminders": mail["count"]}
        except Exception as exc:  # noqa: BLE001 - one broken mail must not stop the others or the night
            log.exception("reminder digest for %s could not be sent", region)
            result["failed"][region] = repr(exc)
    record(ctx.run_id, "digest", result)
    return result
