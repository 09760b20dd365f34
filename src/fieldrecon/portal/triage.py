"""Marking a finding explained (it then stops blocking packs and shows in 已说明问题) and taking the
mark back; every change is also written to `recon.triage_log`. The reason is a clerk's sentence, not
a document: at most REASON_MAX characters (the filing reference at most FILING_REF_MAX)."""

from __future__ import annotations

import sqlalchemy as sa

REASON_MAX = 500
FILING_REF_MAX = 64


class TriageError(ValueError):
    """A mark the page refuses, with the Chinese message shown to the clerk."""


def clean(reason: str, filing_ref: str = "") -> tuple[str, str | None]:
    """The reason and filing reference as stored, or TriageError."""
    reason, filing_ref = (reason or "").strip(), (filing_ref or "").strip()
    if not reason:
        raise TriageError("说明原因不能为空")
    if len(reason) > REASON_MAX:
        raise TriageError(f"说明原因最多 {REASON_MAX} 个字符（现为 {len(reason)} 个）")
    if len(filing_ref) > FILING_REF_MAX:
        raise TriageError(f"备案号最多 {FILING_REF_MAX} 个字符")
    return reason, filing_ref or None


def mark(engine: sa.Engine, finding_id: str, reason: str, filing_ref: str, who: str) -> None:
    reason, ref = clean(reason, filing_ref)
    values = {"f": finding_id, "r": reason, "b": ref, "u": who}
    with engine.begin() as conn:
        conn.execute(sa.text(
            "insert into recon.triage_marks (finding_id, reason, filing_ref, marked_by, marked_at) "
            "values (:f, :r, :b, :u, now()) on conflict (finding_id) do update set reason = excluded.reason, "
            "filing_ref = excluded.filing_ref, marked_by = excluded.marked_by, marked_at = excluded.marked_at"), values)
        conn.execute(sa.text("insert into recon.triage_log (finding_id, action, reason, filing_ref, actor, at) "
                             "values (:f, 'mark', :r, :b, :u, now())"), values)


def unmark(engine: sa.Engine, finding_id: str, who: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("delete from recon.triage_marks where finding_id = :f"), {"f": finding_id})
        conn.execute(sa.text("insert into recon.triage_log (finding_id, action, actor, at) "
                             "values (:f, 'unmark', :u, now())"), {"f": finding_id, "u": who})
