"""The runner fills the finding envelope by column name and refuses a column outside it."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldrecon.recon import rules

pytestmark = pytest.mark.db

BD = dt.date(2026, 11, 3)
HEADER = "-- rule: XX-01\n-- severity: {severity}\n-- title: t\n-- explain: e\n-- clause: c\n"


def _rule(tmp_path, body: str, severity: str = "warning") -> rules.RuleFile:
    path = tmp_path / "xx_01_probe.sql"
    path.write_text(HEADER.format(severity=severity) + body, encoding="utf-8")
    return rules._rule_file(path, "probe")


def _run(engine, rule: rules.RuleFile) -> list[dict]:
    params = rules.bind_params(BD) | {"rule_code": rule.code, "rule_severity": rule.severity}
    body = rule.sql.strip()
    with engine.begin() as conn:
        conn.execute(sa.text("delete from recon.finding_snapshots where rule_code = 'XX-01'"))
        cols = rules.rule_columns(conn, rule, body, params)
        conn.execute(sa.text(rules.insert_sql(rule, body, cols)), params)
        return [dict(r) for r in conn.execute(sa.text(
            "select * from recon.finding_snapshots where rule_code = 'XX-01' order by finding_id")).mappings()]


def test_unselected_columns_are_filled(engine, tmp_path):
    rule = _rule(tmp_path, "with final as (select 'T1' as ticket_no, 3 as po_line_no)\n\nselect * from final\n")
    [f] = _run(engine, rule)
    assert (f["rule_code"], f["severity"], f["ticket_no"], f["po_line_no"]) == ("XX-01", "warning", "T1", 3)
    assert f["engineer_id"] is None and f["region"] is None and f["details"] == {}
    assert f["business_date"] == BD and f["finding_id"].startswith("XX-01-")


def test_finding_id_is_the_hash_of_all_subject_keys(engine, tmp_path):
    """Same id as the envelope's old spelled-out hash: code, '' for region, each key or ''."""
    rule = _rule(tmp_path, "with final as (select 'T1' as ticket_no, cast('2026-11-02' as date) as day)\n\n"
                           "select * from final\n")
    [f] = _run(engine, rule)
    with engine.connect() as conn:
        expected = conn.execute(sa.text(
            "select 'XX-01-' || left(md5(concat_ws('|', 'XX-01', '', 'T1', '', '2026-11-02', "
            "'', '', '', '', '', '', '')), 12)")).scalar()
    assert f["finding_id"] == expected


def test_varying_severity_is_the_rules(engine, tmp_path):
    rule = _rule(tmp_path, "with final as (select 'error' as severity, 'E1' as engineer_id)\n\nselect * from final\n",
                 severity="warning / error")
    [f] = _run(engine, rule)
    assert f["severity"] == "error" and f["engineer_id"] == "E1"


def test_column_outside_the_envelope_names_the_file(engine, tmp_path):
    rule = _rule(tmp_path, "with final as (select 'T1' as ticket_no, 1 as tickets)\n\nselect * from final\n")
    with pytest.raises(ValueError, match=r"xx_01_probe\.sql: columns outside the finding envelope: tickets"):
        _run(engine, rule)


def test_header_severity_must_be_a_level(engine, tmp_path):
    rule = _rule(tmp_path, "with final as (select 'T1' as ticket_no)\n\nselect * from final\n", severity="warning / error")
    with pytest.raises(ValueError, match="xx_01_probe.sql: header severity"):
        _run(engine, rule)
