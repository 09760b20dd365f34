"""Each fact once: the rule catalogue (titles, explanations, clauses from the rule files' headers,
thresholds from the parameters) is the only place a rule's title is written, and the Chinese words
of codes live in fieldrecon.labels; the mart SQL joins them (recon.rule_catalogue, ref.labels)."""

from __future__ import annotations

import re

import pytest

from fieldrecon import labels
from fieldrecon.recon import rules
from fieldrecon.settings import SQL_DIR

pytestmark = pytest.mark.unit

ALL = [r for fam in rules.FAMILIES for r in rules.rule_files(fam)]
MART_SQL = sorted((SQL_DIR / "mart").rglob("*.sql"))


@pytest.mark.parametrize("rule", ALL, ids=lambda r: r.code)
def test_every_rule_file_is_in_the_catalogue_with_a_title(rule):
    entry = rules.catalogue()[rule.code]
    assert entry.path == rule.path and entry.family == rule.family
    assert entry.title and entry.title != rule.code, rule.path.name
    assert "{" not in entry.title + entry.explain, f"{rule.path.name}: a threshold placeholder left unfilled"


@pytest.mark.parametrize("rule", ALL, ids=lambda r: r.code)
def test_placeholders_name_a_parameter_the_rule_binds(rule):
    """A title states the threshold the rule itself uses: the placeholder's parameter is bound in the file."""
    for name, _fmt in rules.PLACEHOLDER_RE.findall(rule.title + rule.explain):
        assert name in rules.DEFAULT_PARAMS, f"{rule.path.name}: {{{name}}} is no parameter"
        assert re.search(rf":{name}\b", rule.sql), f"{rule.path.name}: states {{{name}}} but does not bind it"


def test_titles_read_their_thresholds_from_the_parameters():
    default = rules.catalogue()
    assert default["PD-04"].title == "前后工单间隔不足1小时"
    assert "至少60分钟" in default["PD-04"].explain
    assert default["PO-06"].title == "月度验收驳回率超过3%"
    assert default["PD-05"].title == "打卡位置超出3公里或为空"
    changed = rules.catalogue({"pd04_min_gap_minutes": 90, "po06_max_reject_rate": 0.05, "pd05_max_distance_km": 2.5,
                               "sl02_dispatch_working_days": 12})
    assert changed["PD-04"].title == "前后工单间隔不足1.5小时"
    assert "至少90分钟" in changed["PD-04"].explain
    assert changed["PO-06"].title == "月度验收驳回率超过5%"
    assert changed["PD-05"].title == "打卡位置超出2.5公里或为空"
    assert changed["SL-02"].title == "巡检/整改工单派发超过12个工作日"


def test_unknown_placeholder_is_an_error():
    with pytest.raises(ValueError, match="x.sql: unknown parameter"):
        rules.fill_thresholds("超过{no_such_param}次", rules.DEFAULT_PARAMS, "x.sql")


@pytest.mark.parametrize("path", MART_SQL, ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_no_mart_sql_copies_a_rule_title(path):
    """Sheets join recon.rule_catalogue for titles: a title copied into a sheet goes stale when the
    rule file (or a threshold) changes."""
    text = path.read_text(encoding="utf-8")
    copied = sorted(r.title for r in rules.catalogue().values() if r.title in text)
    assert not copied, f"{path.name} copies rule titles {copied}: join recon.rule_catalogue instead"


@pytest.mark.parametrize("path", MART_SQL, ids=lambda p: str(p.relative_to(SQL_DIR)))
def test_no_mart_sql_spells_out_a_label(path):
    """Severities, report statuses and kinds, item kinds, cycle and money states read from ref.labels."""
    literals = set(re.findall(r"'([^']+)'", path.read_text(encoding="utf-8")))
    kinds = ("severity", "report_status", "report_kind", "item_kind", "cycle_state", "money_state")
    spelled = sorted(literals & {w for k in kinds for w in labels.LABELS[k].values()})
    assert not spelled, f"{path.name} spells out {spelled}: join ref.labels instead"


def test_amounts_and_numbers_read_one_way():
    assert labels.amount(1234) == "1,234.00"
    assert labels.amount("12345.678") == "12,345.68"
    assert labels.amount(None) == "" and labels.amount("", empty="-") == "-"
    assert labels.amount(5, unit=" 元") == "5.00 元"
    assert labels.amount("n/a", unit=" 元") == "n/a"
    assert labels.number(25.0) == "25" and labels.number(6.696) == "6.7" and labels.number(None, empty="-") == "-"
