"""The reference tables SQL joins instead of copying facts: ref.labels from `fieldrecon.labels`,
ref.required_attachments from `contract.REQUIRED_ATTACHMENTS`. Rewritten on every migrate (under
its advisory lock), so the warehouse always holds what the code says; readers in other
transactions keep seeing the previous rows until the rewrite commits."""

from __future__ import annotations

import sqlalchemy as sa

from fieldrecon.contract import REQUIRED_ATTACHMENTS
from fieldrecon.labels import LABELS


def label_rows() -> list[dict]:
    return [{"kind": kind, "code": code, "label_zh": label}
            for kind, words in LABELS.items() for code, label in words.items()]


def attachment_rows() -> list[dict]:
    return [{"ticket_type": ticket_type, "kind": kind, "list_order": i}
            for ticket_type, kinds in REQUIRED_ATTACHMENTS.items() for i, kind in enumerate(kinds, 1)]


def write(conn: sa.Connection) -> dict[str, int]:
    """Replace both tables' rows with the definitions in the code; returns rows per table."""
    tables = {
        "ref.labels": ("kind, code, label_zh", label_rows()),
        "ref.required_attachments": ("ticket_type, kind, list_order", attachment_rows()),
    }
    for table, (cols, rows) in tables.items():
        conn.execute(sa.text(f"delete from {table}"))
        conn.execute(sa.text(f"insert into {table} ({cols}) values ({', '.join(':' + c.strip() for c in cols.split(','))})"),
                     rows)
    return {table: len(rows) for table, (_, rows) in tables.items()}
