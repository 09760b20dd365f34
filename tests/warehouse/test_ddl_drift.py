"""DDL drift (the promise of warehouse/ddl.py): the checked-in staging models are what the contract
renders, and a migrated warehouse's raw and typed-row tables have exactly the contract's columns."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldrecon.contract import PG_TYPES, SOURCES
from fieldrecon.warehouse import ddl

pytestmark = pytest.mark.db

SOURCE_NAMES = sorted(SOURCES)


def test_staging_models_are_rendered_from_the_contract():
    drifted = [p.name for p, text in ddl.render_all().items() if p.read_text(encoding="utf-8") != text]
    assert drifted == [], "re-render with python -m fieldrecon.warehouse.ddl"


def _columns(conn, schema: str, table: str) -> list[tuple[str, str]]:
    return [tuple(r) for r in conn.execute(sa.text(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = :s and table_name = :t order by ordinal_position"), {"s": schema, "t": table})]


def _pg(data_type: str) -> str:
    return {"timestamp without time zone": "timestamp", "time without time zone": "time"}.get(data_type, data_type)


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_warehouse_tables_match_the_contract(engine, source):
    s = SOURCES[source]
    with engine.connect() as conn:
        raw = _columns(conn, "raw", source)
        rows = _columns(conn, "staging", f"{source}_rows")
    contract_raw = [(c.name, "text") for c in s.columns]
    assert [c for c in raw if c[0] not in ("file_id", "row_no", "disposition", "extra_columns")] == contract_raw
    contract_rows = [(c.name, PG_TYPES[c.type]) for c in s.columns]
    assert [(n, _pg(t)) for n, t in rows if n not in ("file_id", "row_no", "extract_date")] == contract_rows
