"""The demo extracts generator: determinism, the contract's headers, the manifest's counts, rule coverage.

No database: the files are read back with openpyxl / pandas and checked against the manifest.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import unicodedata
from collections import Counter
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from fieldrecon_demo import contract as C
from fieldrecon_demo import generate
from fieldrecon_demo.__main__ import main as cli_main

pytestmark = pytest.mark.unit

RULE_CODES = (
    "PD-01 PD-02 PD-03 PD-04 PD-05 PD-06 PD-07 PD-08 PD-09 POC-01 RA-01 RA-04 RA-05 RA-06 RA-07 "
    "CH-01 CH-02 CH-03 CH-04 CH-05 CH-06 CH-07 CH-08 PO-01 PO-02 PO-03 PO-04 PO-05 PO-06 PO-08 PO-09 "
    "AT-01 AT-02 DQ-01 DQ-02 DQ-03"
).split()
FINDING_KEYS = ["rule_code", "ticket_no", "engineer_id", "day", "rfc_no", "task_no", "po_no", "po_line_no",
                "cycle_start", "acceptance_no", "month", "region"]
NAME_RE = re.compile(r"^(?P<src>[a-z_]+?)_(?P<d>\d{8})(?:_(?P<n>\d+))?\.(?P<ext>xlsx|csv)$")
ENUM_OF = {
    ("netcare_workorders", "工单类型"): "工单类型", ("netcare_workorders", "工单状态"): "工单状态",
    ("netcare_workorders", "服务级别"): "服务级别", ("netcare_punches", "打卡类型"): "打卡类型",
    ("netcare_punches", "打卡方式"): "打卡方式", ("timesheet_entries", "工作类型"): "工作类型",
    ("timesheet_entries", "审批状态"): "审批状态(工时)", ("timesheet_engineers", "在职状态"): "在职状态",
    ("isc_po_lines", "服务类型"): "服务类型", ("isc_po_lines", "单位"): "单位", ("isc_po_lines", "PO状态"): "PO状态",
    ("isc_acceptances", "审批状态"): "审批状态(验收)", ("netcare_rfcs", "状态"): "状态(RFC)",
    ("netcare_rfcs", "风险等级"): "风险等级", ("netcare_rfcs", "延期审批状态"): "延期审批状态",
    ("netcare_rfc_tasks", "任务状态"): "任务状态", ("netcare_resident_attendance", "请假类型"): "请假类型",
    ("netcare_resident_attendance", "请假审批状态"): "请假审批状态",
    ("netcare_resident_attendance", "异常电子流状态"): "异常电子流状态", ("netcare_attachments", "附件类型"): "附件类型",
}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    manifest = generate(landing)
    return landing, manifest


@functools.lru_cache(maxsize=512)
def _read(path: Path) -> tuple[list[list], int, str | None]:
    """All rows of the first sheet / the CSV (raw cells), the number of sheets, the CSV encoding."""
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
        n = len(wb.worksheets)
        wb.close()
        return rows, n, None
    data = path.read_bytes()
    enc = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else None
    if enc is None:
        try:
            data.decode("utf-8")
            enc = "utf-8"
        except UnicodeDecodeError:
            enc = "gb18030"
    df = pd.read_csv(io.BytesIO(data), encoding=enc, dtype=str, keep_default_na=False, header=None)
    return df.values.tolist(), 1, enc


def _nfkc(v) -> str:
    return unicodedata.normalize("NFKC", str(v)).strip()


def _header_index(rows: list[list], source: str) -> int | None:
    req = C.required_headers(source)
    for i, r in enumerate(rows):
        cells = {_nfkc(c) for c in r if c is not None}
        if all(h in cells for h in req):
            return i
    return None


def _parse_dt(v):
    if isinstance(v, datetime):
        return v
    if isinstance(v, (int, float)):
        return v
    s = _nfkc(v)
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"):
        try:
            return datetime.strptime(s, fmt)
        except ValueError:
            pass
    raise ValueError(s)


def _parse_date(v):
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = _nfkc(v)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    raise ValueError(s)


def _parse_dec(v) -> Decimal:
    if isinstance(v, (int, float)):
        return Decimal(str(v))
    try:
        return Decimal(_nfkc(v).replace(",", ""))
    except InvalidOperation as e:
        raise ValueError(v) from e


def _quarantined(source: str, row: dict) -> bool:
    """The contract's quarantine conditions (extracts.md / rulebook 'Quarantine')."""
    kinds = C.kinds(source)
    req = set(C.required_headers(source))
    try:
        for h, k in kinds.items():
            v = row.get(h)
            if v is None or _nfkc(v) == "":
                if h in req:
                    return True
                continue
            if k == "enum" and _nfkc(v) not in C.ENUMS[ENUM_OF[(source, h)]]:
                return True
            if k == "dt":
                _parse_dt(v)
            elif k == "date":
                _parse_date(v)
            elif k in ("dec", "amt", "int"):
                _parse_dec(v)
            elif k == "coord":
                x = float(_parse_dec(v))
                if abs(x) > (180 if "经" in h else 90):
                    return True
        if source == "timesheet_entries" and not Decimal(0) < _parse_dec(row["工时"]) <= 24:
            return True
    except ValueError:
        return True
    return False


# ---------------------------------------------------------------- tests


def test_same_seed_same_bytes(demo, tmp_path):
    landing, manifest = demo
    again = generate(tmp_path)
    assert json.dumps(again, sort_keys=True) == json.dumps(manifest, sort_keys=True)
    names = sorted(p.name for p in landing.iterdir())
    assert names == sorted(p.name for p in tmp_path.iterdir())
    for n in names:
        assert (landing / n).read_bytes() == (tmp_path / n).read_bytes(), n


def test_other_seed_other_data(tmp_path):
    a = generate(tmp_path / "a", seed=1, engineers=15, months=1)
    b = generate(tmp_path / "b", seed=2, engineers=15, months=1)
    assert a["expected_findings"] != b["expected_findings"]


def test_manifest_is_json_and_lists_every_file(demo):
    landing, manifest = demo
    json.dumps(manifest, ensure_ascii=False)
    assert manifest["end_date"] == "2026-11-20"
    assert manifest["as_of"] == "2026-11-21T00:00:00"
    assert sorted(f["name"] for f in manifest["files"]) == sorted(p.name for p in landing.iterdir())
    for f in manifest["files"]:
        assert f["kind"] in ("extract", "repeat", "redelivery", "unrecognised", "rejected")
        assert {"name", "source", "kind", "rows", "quarantined", "duplicates"} <= set(f)


def test_every_source_has_extracts_named_per_contract(demo):
    _landing, manifest = demo
    extracts = [f for f in manifest["files"] if f["kind"] in ("extract", "redelivery")]
    for f in extracts:
        m = NAME_RE.match(f["name"])
        assert m and m["src"] == f["source"], f["name"]
    by_source = Counter(f["source"] for f in extracts)
    assert set(by_source) == set(C.SOURCES)
    assert all(n >= 5 for n in by_source.values())
    end = manifest["end_date"].replace("-", "")
    stale = set(manifest["clerk_states"]["stale_sources"])
    for s in C.SOURCES:
        assert any(f["source"] == s and f"_{end}" in f["name"] for f in extracts) != (s in stale), s
    formats = Counter(f["format"] for f in extracts)
    assert formats["xlsx"] >= 10 and formats["csv"] >= 10


def test_contract_headers_findable(demo):
    landing, manifest = demo
    for f in manifest["files"]:
        if f["kind"] not in ("extract", "redelivery", "repeat"):
            continue
        rows, _n, _enc = _read(landing / f["name"])
        i = _header_index(rows, f["source"])
        assert i is not None, f["name"]
        header = [_nfkc(c) for c in rows[i] if c is not None]
        extra = set(header) - set(C.headers(f["source"]))
        assert set(C.headers(f["source"])) <= set(header), f["name"]
        assert len(extra) <= 1 and (f["extra_column"] is None) == (not extra), f["name"]
        assert header == rows[i] if f["format"] == "csv" else True  # csv headers are written exactly


def test_manifest_counts_match_files(demo):
    landing, manifest = demo
    checked = 0
    for f in manifest["files"]:
        if f["kind"] not in ("extract", "redelivery"):
            continue
        rows, _n, _enc = _read(landing / f["name"])
        i = _header_index(rows, f["source"])
        header = [_nfkc(c) if c is not None else None for c in rows[i]]
        body = rows[i + 1:]
        assert len(body) == f["rows"], f["name"]
        seen, dups, bad = set(), 0, 0
        for r in body:
            t = tuple(r)
            if t in seen:
                dups += 1
                continue
            seen.add(t)
            bad += _quarantined(f["source"], dict(zip(header, r, strict=False)))
        assert dups == f["duplicates"], f["name"]
        assert bad == f["quarantined"], f["name"]
        checked += 1
    assert checked > 100
    totals = Counter()
    for f in manifest["files"]:
        totals["quarantined"] += f["quarantined"] if f["kind"] == "extract" else 0
        totals["duplicates"] += f["duplicates"] if f["kind"] == "extract" else 0
    assert totals["quarantined"] >= 8 and totals["duplicates"] >= 4


def test_special_files(demo):
    landing, manifest = demo
    by_kind: dict[str, list[dict]] = {}
    for f in manifest["files"]:
        by_kind.setdefault(f["kind"], []).append(f)
    (rep,) = by_kind["repeat"]
    assert (landing / rep["name"]).read_bytes() == (landing / rep["repeat_of"]).read_bytes()
    assert NAME_RE.match(rep["name"])
    (red,) = by_kind["redelivery"]
    assert red["name"].rsplit(".", 1)[0].endswith("_2")
    assert (landing / red["corrects"]).exists()
    (rej,) = by_kind["rejected"]
    rows, _n, _enc = _read(landing / rej["name"])
    assert _header_index(rows, rej["source"]) is None
    assert rej["missing_column"] in C.required_headers(rej["source"])
    unrec = {f["name"] for f in by_kind["unrecognised"]}
    assert any(n.endswith(".xls") for n in unrec)
    assert any(not NAME_RE.match(n) or NAME_RE.match(n)["src"] not in C.SOURCES for n in unrec)
    conflicts = [f for f in manifest["files"] if f.get("same_key_conflicts")]
    assert conflicts


def test_quirks_present(demo):
    landing, manifest = demo
    encodings = {f["encoding"] for f in manifest["files"] if f["format"] == "csv" and f["kind"] == "extract"}
    assert {"utf-8", "utf-8-sig", "gb18030"} <= encodings
    xlsx = [f for f in manifest["files"] if f["format"] == "xlsx" and f["kind"] == "extract"]
    assert any(f["title_row"] for f in xlsx) and any(not f["title_row"] for f in xlsx)
    assert any(f["sheets"] == 2 for f in xlsx)
    assert any(f["extra_column"] for f in manifest["files"])
    styles, serials, real_dt, fullwidth, padded, separators = set(), 0, 0, 0, 0, 0
    for f in manifest["files"]:
        if f["kind"] != "extract":
            continue
        rows, nsheets, _enc = _read(landing / f["name"])
        i = _header_index(rows, f["source"])
        if f["format"] == "xlsx" and f["title_row"]:
            assert rows[0][0].endswith(f["extract_date"]) and all(c in (None, "") for c in rows[1])
        kinds = C.kinds(f["source"])
        header = [_nfkc(c) if c is not None else None for c in rows[i]]
        for r in rows[i + 1:]:
            for h, v in zip(header, r, strict=False):
                k = kinds.get(h)
                if k == "dt" and isinstance(v, str) and v:
                    styles.add("iso" if "-" in v else "slash")
                elif k == "dt" and isinstance(v, float):
                    serials += 1
                elif k == "dt" and isinstance(v, datetime):
                    real_dt += 1
                elif k == "id" and isinstance(v, str) and v:
                    fullwidth += any("\uff01" <= c <= "\uff5e" for c in v)
                    padded += v != v.strip()
                elif k == "amt" and isinstance(v, str) and "," in v:
                    separators += 1
    assert styles == {"iso", "slash"}
    assert serials and real_dt and fullwidth and padded and separators


def test_windows_carry_updated_states(demo):
    """Keys repeat across extracts; later files carry later states (履行中 first, 已关闭 later)."""
    landing, manifest = demo
    states: dict[str, list[tuple[str, str]]] = {}
    for f in sorted(manifest["files"], key=lambda f: f["extract_date"]):
        if f["source"] != "netcare_workorders" or f["kind"] != "extract":
            continue
        rows, _n, _enc = _read(landing / f["name"])
        i = _header_index(rows, f["source"])
        header = [_nfkc(c) if c is not None else None for c in rows[i]]
        for r in rows[i + 1:]:
            d = dict(zip(header, r, strict=False))
            states.setdefault(_nfkc(d["工单号"]), []).append((f["extract_date"], d["工单状态"]))
    moved = [k for k, v in states.items() if [s for _, s in v][:1] == ["履行中"] and v[-1][1] == "已关闭"]
    assert len(moved) > 20
    assert sum(len(v) > 1 for v in states.values()) > len(states) // 3


def test_every_rule_code_expected(demo):
    _landing, manifest = demo
    findings = manifest["expected_findings"]
    codes = Counter(f["rule_code"] for f in findings)
    for code in RULE_CODES:
        assert codes[code] >= 1, code
    assert "CAL-01" not in codes
    for f in findings:
        assert list(f) == FINDING_KEYS
        if f["rule_code"] == "PO-06":
            assert f["region"] and f["month"]
        else:
            assert f["region"] is None
        if f["day"]:
            date.fromisoformat(f["day"])
        if f["cycle_start"]:
            date.fromisoformat(f["cycle_start"])
        if f["month"]:
            assert re.fullmatch(r"\d{4}-\d{2}", f["month"])
    assert len({tuple(f.values()) for f in findings}) == len(findings)
    assert manifest["calendar_unknown_years"] == []


def test_cli_writes_manifest_outside_landing(tmp_path, capsys):
    landing = tmp_path / "landing"
    out = tmp_path / "out" / "manifest.json"
    assert cli_main(["--landing", str(landing), "--engineers", "12", "--months", "1", "--seed", "3",
                     "--end-date", "2026-10-30", "--manifest", str(out), "--csv-only"]) == 0
    m = json.loads(out.read_text(encoding="utf-8"))
    assert m["end_date"] == "2026-10-30"
    assert not any(p.suffix == ".json" for p in landing.iterdir())
    assert {f["format"] for f in m["files"] if f["kind"] == "extract"} == {"csv"}
    with pytest.raises(SystemExit):
        cli_main(["--landing", str(landing), "--manifest", str(landing / "m.json")])


def test_rows_parse_like_the_contract_says(demo):
    """Every non-quarantined csv row reads back with the right types (spot check on the last extracts)."""
    landing, manifest = demo
    last = [f for f in manifest["files"] if f["kind"] == "extract" and f["extract_date"] == manifest["end_date"]
            and f["format"] == "csv"]
    assert last
    for f in last:
        data = (landing / f["name"]).read_bytes()
        enc = f["encoding"]
        reader = csv.DictReader(io.StringIO(data.decode(enc)))
        n = sum(1 for r in reader if not _quarantined(f["source"], r))
        assert n == f["rows"] - f["quarantined"]


def test_every_state_a_clerk_meets_is_shown(demo):
    """A blocked pack (AT-01 and PD-01 on an unaccepted line), one blocked by a single finding (for
    the walk-through), a rejected cycle, a stale source and quarantined rows (issue 18)."""
    _landing, manifest = demo
    states = manifest["clerk_states"]
    expected = {(f["rule_code"], f["ticket_no"]) for f in manifest["expected_findings"]}
    packs = states["blocked_packs"]
    assert [sorted(b["rule_code"] for b in p["blocked_by"]) for p in packs] == [["AT-01", "PD-01"], ["PD-01"]]
    for p in packs:
        assert all((b["rule_code"], b["ticket_no"]) in expected for b in p["blocked_by"])
        assert p["region"] and p["po_no"]
    assert states["rejected_cycle"] and states["rejected_cycle"]["cycle_start"].endswith("-01")
    assert states["stale_sources"] == ["timesheet_engineers"]
    assert states["quarantined_rows"] > 0
