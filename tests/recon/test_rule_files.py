"""The rule-file convention (recon/rules.py, include/sql/recon/README.md): every file says its code,
severity, title, explanation and clause in its header, and its `final` selects only what the rule
knows; the runner fills the rest of the finding envelope."""

from __future__ import annotations

import re

import pytest

from fieldrecon.recon import rules

pytestmark = pytest.mark.unit

ALL = [r for fam in rules.FAMILIES for r in rules.rule_files(fam)]


def test_tree_has_the_rules():
    assert len(ALL) >= 37
    assert len({r.code for r in ALL}) == len(ALL)


@pytest.mark.parametrize("rule", ALL, ids=lambda r: r.code)
def test_header_and_name(rule):
    prefix, number = rule.code.split("-")
    assert rule.path.stem.startswith(f"{prefix.lower()}_{number}_"), rule.path.name
    assert rule.title and rule.explain and rule.clause, rule.path.name
    sql = rule.sql
    assert sql.rstrip().endswith("select * from final"), rule.path.name
    varies = re.search(r"^\s+\S+\s+as severity,?$|^\s+\w+\.severity,?$", sql, re.M)
    if varies:
        assert "/" in rule.severity, f"{rule.path.name}: selects severity, header should list the levels"
    else:
        assert rule.severity in rules.SEVERITIES, rule.path.name


@pytest.mark.parametrize("rule", ALL, ids=lambda r: r.code)
def test_no_envelope_padding(rule):
    final = rule.sql[rule.sql.index("final as ("):]
    assert not re.search(r"\bas rule_code\b", final), f"{rule.path.name}: the runner fills rule_code"
    assert not re.search(r"cast\(null as \w+\) as \w+|null::\w+ as \w+", final), \
        f"{rule.path.name}: the runner fills keys the rule does not select"


def test_insert_fills_the_envelope_by_name():
    rule = ALL[0]
    sql = rules.insert_sql(rule, "select 1", ["region", "ticket_no", "details"])
    assert "f.ticket_no" in sql and "f.engineer_id" not in sql and ":rule_severity" in sql
    with_severity = rules.insert_sql(rule, "select 1", ["severity", "ticket_no"])
    assert "f.severity" in with_severity and "'{}'::jsonb" in with_severity
