"""Acceptance packages (issue 6): contents per service type, manifest, PDF text, byte-identical
reruns, a new version when an input changes, triage marks that stop blocking across runs."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from fieldrecon.outputs import exports, packs, render
from fieldrecon.outputs.files import safe_cell
from fieldrecon.pipeline import make_context
from fieldrecon.recon.rules import run_family
from fieldrecon.settings import PROJECT_ROOT
from tests.factories import clear, put

pytestmark = pytest.mark.db

D = dt.date
BD = D(2026, 11, 3)
EXTRACT = D(2026, 11, 1)
AS_OF = dt.datetime(2026, 11, 4)
OLD = AS_OF - dt.timedelta(days=40)


def line(po_no, po_line_no, service_type, start=None, end=None, amount="1000.00", **kw) -> dict:
    row = {"po_no": po_no, "po_line_no": po_line_no, "service_type": service_type, "region": kw.pop("region", "浙江"),
           "quantity": Decimal("1"), "line_amount": Decimal(amount), "service_start": start, "service_end": end,
           "issued_on": D(2026, 8, 1), "po_status": "已接收", "contract_no": kw.pop("contract_no", "HT-ZJ-01"),
           "customer_name": kw.pop("customer_name", "中国移动通信集团浙江有限公司")}
    row.update(kw)
    return row


def wo(ticket_no, ticket_type, status="已关闭", **kw) -> dict:
    row = {"ticket_no": ticket_no, "ticket_type": ticket_type, "status": status, "region": kw.pop("region", "浙江"),
           "customer_name": kw.pop("customer_name", "中国移动通信集团浙江有限公司"),
           "created_at": dt.datetime(2026, 9, 1, 9), "engineer_id": "E1", "engineer_name": "张三"}
    row.update(kw)
    return row


LINES = [
    line("PO7", 1, "维保", D(2026, 8, 1), D(2027, 7, 31), "3650.00"),
    line("PO8", 3, "巡检", amount="800.00", ticket_refs="W10;W11"),
    line("PO9", 1, "驻场", D(2026, 9, 1), D(2026, 12, 31), "1000.00", region="上海", contract_no="HT-SH-09",
         customer_name="上海浦东发展银行"),
]
INSPECTION = ("信息收集包", "健康检查报告", "TD审批邮件", "现场技术服务报告")


def seed(engine, amount_po8="800.00", extract=EXTRACT):
    lines = [dict(x) for x in LINES]
    lines[1]["line_amount"] = Decimal(amount_po8)
    put(engine, "isc_po_lines", lines, extract)
    put(engine, "netcare_workorders", [
        wo("W10", "巡检", closed_at=OLD), wo("W11", "巡检", closed_at=OLD),
        wo("R3", "驻场", status="履行中", po_no="PO9", region="上海", customer_name="上海浦东发展银行",
           engineer_id="E2", engineer_name="李四"),
        wo("S1", "现场问题处理", contract_no="HT-ZJ-01", closed_at=dt.datetime(2026, 9, 10, 12)),
    ], extract)
    put(engine, "netcare_attachments", [
        *[{"ticket_no": "W10", "kind": k, "file_name": f"W10_中国移动通信集团浙江有限公司_{k}"} for k in INSPECTION],
        *[{"ticket_no": "W11", "kind": k, "file_name": f"W11_{k}"} for k in INSPECTION[:2]],  # AT-01 on W11
        {"ticket_no": "S1", "kind": "现场技术服务报告", "file_name": "S1_中国移动通信集团浙江有限公司.docx"},
    ], extract)
    put(engine, "netcare_resident_attendance", [
        {"ticket_no": "R3", "engineer_id": "E2", "engineer_name": "李四", "work_date": D(2026, 9, d),
         "shift_start": dt.time(8, 30), "shift_end": dt.time(17, 30),
         "clock_in_at": dt.datetime(2026, 9, d, 8, 20), "clock_out_at": dt.datetime(2026, 9, d, 17, 40)}
        for d in (1, 2, 3)
    ], extract)


def run(engine, tmp_path, business_date=BD):
    for family in ("po",):
        run_family(engine, family, business_date)
    ctx = make_context(business_date, output_root=str(tmp_path / "out"))
    exports.write_all(engine, ctx)
    return packs.build_all(engine, ctx)


def store_files(store) -> dict[str, bytes]:
    return {p.relative_to(store).as_posix(): p.read_bytes() for p in sorted(store.rglob("*.zip"))}


def open_zip(body: bytes) -> dict[str, bytes]:
    z = zipfile.ZipFile(io.BytesIO(body))
    return {n: z.read(n) for n in z.namelist()}


@pytest.fixture(scope="module")
def built(engine, tmp_path_factory):
    """One clean build of BD in a fresh store (shared by the read-only tests)."""
    tmp = tmp_path_factory.mktemp("packs")
    mp = pytest.MonkeyPatch()
    mp.setenv("FIELDRECON_PACKS", str(tmp / "store"))
    clear(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("truncate mart.cycle_schedule, packs.pack_runs, packs.versions, recon.triage_marks"))
    seed(engine)
    counts = run(engine, tmp)
    yield {"counts": counts, "store": tmp / "store", "tmp": tmp, "files": store_files(tmp / "store")}
    mp.undo()


def by_name(files: dict[str, bytes], fragment: str) -> dict[str, bytes]:
    [(_, body)] = [(k, v) for k, v in files.items() if fragment in k]
    return open_zip(body)


def test_one_pack_per_todo_item(built):
    names = sorted(p.rsplit("/", 1)[1] for p in built["files"])
    assert "验收包_PO8-3.zip" in names
    assert "验收包_PO7-1_20260801-20260831.zip" in names
    assert "验收包_PO9-1_20260901-20260930.zip" in names
    # <region>/<pack key>/<label>/<zip>: the label is the content's (no running number, no run order)
    assert all(p.split("/")[0] in ("浙江", "上海") and re.fullmatch(r"[0-9a-f]{8}", p.split("/")[-2])
               for p in built["files"])
    assert built["counts"]["packs"] == len(built["files"]) == built["counts"]["new_versions"]


def test_manifest_and_files(built):
    z = by_name(built["files"], "验收包_PO8-3.zip")
    assert sorted(z) == ["manifest.json", "核对单_PO8-3.pdf", "附件明细_PO8-3.xlsx", "验收单_PO8-3.html",
                         "验收单_PO8-3.pdf"]
    m = json.loads(z["manifest.json"])
    assert m["status"] == "blocked" and m["reasons"] == ["AT-01 W11"]
    assert "as_of" not in m and "prepared_on" not in m  # nothing from the run that met it first
    assert m["version"] == next(p for p in built["files"] if p.endswith("验收包_PO8-3.zip")).split("/")[-2]
    for name, body in z.items():
        if name != "manifest.json":
            assert m["files"][name] == packs.sha256(body)
    sources = {(r["source"], r["key"]) for r in m["rows"]}
    assert {("isc_po_lines", "PO8-3"), ("netcare_workorders", "W10"), ("netcare_workorders", "W11")} <= sources
    assert all(len(r["sha256"]) == 64 for r in m["rows"])
    assert not any(".csv" in json.dumps(m, ensure_ascii=False) for _ in [0])  # no extract file names inside
    wb = load_workbook(io.BytesIO(z["附件明细_PO8-3.xlsx"]))
    assert wb.sheetnames == ["工单明细", "相关问题", "排除的数据行"]
    rows = list(wb["工单明细"].iter_rows(values_only=True))
    assert rows[0][:3] == ("工单号", "工单类型", "状态")
    w11 = [r for r in rows if r[0] == "W11"][0]
    assert w11[10] == "TD审批邮件、现场技术服务报告"
    assert [r[0] for r in wb["相关问题"].iter_rows(min_row=2, values_only=True)] == ["AT-01"]


INTERNAL_WORDS = ("状态", "可提交", "阻塞", "AT-01", "ISC", "备注", "相关问题", "规则", "备案", "核对", "内部", "驳回")


def test_pdf_text_per_service_type(built):
    customer = {
        "验收包_PO7-1_20260901-20260930.zip": ("维保", "中国移动通信集团浙江有限公司", "2026年9月1日至2026年9月30日",
                                              "3,650.00×30÷365=300.00", "S1", "300.00元"),
        "验收包_PO9-1_20260901-20260930.zip": ("驻场", "上海浦东发展银行", "2026年9月1日至2026年9月30日", "李四",
                                              "应出勤（天）", "缺勤（天）"),
        "验收包_PO8-3.zip": ("巡检", "中国移动通信集团浙江有限公司", "按单验收", "W10", "W11", "800.00",
                            "合计2张工单", "健康检查报告"),
    }
    internal = {
        "验收包_PO7-1_20260901-20260930.zip": ("验收周期:2026-09-01至2026-09-30", "可提交"),
        "验收包_PO8-3.zip": ("阻塞", "AT-01", "未处理（阻塞）", "TD审批邮件、现场技术服务报告"),
    }
    look = PROJECT_ROOT / "var" / "test-artifacts" / "packs"  # kept for people to look at (pdftoppm)
    look.mkdir(parents=True, exist_ok=True)
    for fragment, needles in customer.items():
        z = by_name(built["files"], fragment)
        for name, body in z.items():
            if name.endswith(".pdf"):
                (look / name).write_bytes(body)
        pdf = next(v for k, v in z.items() if k.startswith("验收单") and k.endswith(".pdf"))
        html = next(v for k, v in z.items() if k.endswith(".html")).decode()
        text = "".join(render.pdf_text(pdf).split())
        for needle in needles:
            assert needle in text, (fragment, needle, text)
        for block in ("客户（签字并盖章）", "华为代表处项目经理", "服务提供方", "第1/", "版本："):
            assert block in text, (block, text)
        assert "编制日期" not in text and "2026年11月3日" not in text  # no date of the run
        assert "客户（签字并盖章）" in html
        for word in INTERNAL_WORDS:  # the customer's 验收单 carries nothing internal
            assert word not in text and word not in html, (fragment, word)
    for fragment, needles in internal.items():
        z = by_name(built["files"], fragment)
        text = "".join(render.pdf_text(next(v for k, v in z.items() if k.startswith("核对单"))).split())
        for needle in needles:
            assert needle in text, (fragment, needle, text)
    resident = by_name(built["files"], "验收包_PO9-1_20260901-20260930.zip")
    wb = load_workbook(io.BytesIO(resident["附件明细_PO9-1_20260901-20260930.xlsx"]))
    assert "驻场考勤" in wb.sheetnames and wb["驻场考勤"].max_row == 4
    assert "考勤异常" in wb.sheetnames


def test_rerun_and_later_unchanged_night_are_byte_identical(engine, built):
    counts = run(engine, built["tmp"])
    assert counts["new_versions"] == 0
    assert store_files(built["store"]) == built["files"]
    # the next night sees the same data again, delivered in new files
    seed(engine, extract=D(2026, 11, 4))
    counts = run(engine, built["tmp"], D(2026, 11, 4))
    after = store_files(built["store"])
    same = {k: v for k, v in after.items() if k in built["files"]}
    assert same == built["files"]
    # the only new ones are cycles that became due on the later date (none here: Oct is already due)
    assert counts["new_versions"] == len(after) - len(built["files"])


def test_changed_input_makes_a_new_version(engine, built):
    seed(engine, amount_po8="1500.00", extract=D(2026, 11, 5))
    run(engine, built["tmp"], D(2026, 11, 5))
    after = store_files(built["store"])
    with engine.connect() as conn:
        versions = list(conn.execute(sa.text(
            "select zip_path from packs.versions where pack_key = 'PO8-3' order by version_no")).scalars())
        v2 = conn.execute(sa.text("select * from packs.versions where pack_key = 'PO8-3' and version_no = 2")).mappings().one()
    assert len(versions) == 2 and versions[0] != versions[1]
    assert after[versions[0]] == built["files"][versions[0]]  # the old version is kept untouched
    m = json.loads(open_zip(after[versions[1]])["manifest.json"])
    assert m["version"] == versions[1].split("/")[-2] == v2["content_sha256"][:8] and m["amount"] == "1500.00"
    assert "金额 800.00 → 1,500.00" in v2["changes"]
    assert any(f["name"].startswith("isc_po_lines_20261105") for f in v2["source_files"])


def test_triage_mark_unblocks_across_runs(engine, built):
    with engine.begin() as conn:
        fid = conn.execute(sa.text("select finding_id from recon.finding_snapshots where rule_code = 'AT-01' "
                                   "and ticket_no = 'W11' limit 1")).scalar_one()
        conn.execute(sa.text("insert into recon.triage_marks values (:f, '客户邮件确认TD审批免提供', 'BA-2026-001', "
                             "'clerk', '2026-11-05 10:00+08')"), {"f": fid})
    run(engine, built["tmp"], D(2026, 11, 5))
    seed(engine, amount_po8="1500.00", extract=D(2026, 11, 6))
    run(engine, built["tmp"], D(2026, 11, 6))  # a later night: the mark still applies
    after = store_files(built["store"])
    with engine.connect() as conn:
        latest = conn.execute(sa.text(
            "select v.zip_path from packs.pack_runs r join packs.versions v using (pack_key, version_no) "
            "where r.pack_key = 'PO8-3' and r.business_date = '2026-11-06'")).scalar_one()
    z = open_zip(after[latest])
    m = json.loads(z["manifest.json"])
    assert m["status"] == "ready" and m["reasons"] == []
    text = "".join(render.pdf_text(z["核对单_PO8-3.pdf"]).split())
    assert "已说明：客户邮件确认TD审批免提供（备案BA-2026-001）" in text
    with engine.connect() as conn:
        run_versions = dict(conn.execute(sa.text(
            "select business_date, version_no from packs.pack_runs where pack_key = 'PO8-3' order by 1")).all())
    assert run_versions[D(2026, 11, 6)] == run_versions[D(2026, 11, 5)] == 3


def test_regional_run_files(engine, built):
    runs = built["store"] / "runs" / "2026-11-06"
    assert sorted(p.name for p in runs.iterdir()) == ["上海", "浙江"]
    todo = (runs / "上海" / "acceptance_todo.csv").read_text(encoding="utf-8-sig")
    assert "PO9" in todo and "PO8" not in todo


@pytest.mark.parametrize("raw,expected", [
    ("PO/1:2", "PO_1_2"), ("CON", "_CON"), ("a. ", "a"), ("验收包_X?*", "验收包_X__"),
])
def test_safe_names(raw, expected):
    assert packs.safe_name(raw) == expected


def test_regional_workbook_keeps_values_and_formats():
    """A region's copy of the run workbook holds that region's rows with the values and number formats
    of the original: dates stay dates (not midnight datetimes), integers integers, percents percents."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "KPI统计"
    ws.append(["区域", "日期", "时间", "次数", "比率", "说明"])
    rows = [("浙江", dt.date(2026, 11, 3), dt.datetime(2026, 11, 3, 9, 12), 3, 0.875, "+1-2 待核"),
            ("上海", dt.date(2026, 11, 4), dt.datetime(2026, 11, 4, 18, 0), 0, 1.0, "其他区域"),
            ("浙江", dt.date(2026, 11, 5), None, 12, 0.5, "")]
    for r in rows:
        ws.append(list(r))
    for row in ws.iter_rows(min_row=2):
        row[1].number_format, row[2].number_format, row[4].number_format = "yyyy-mm-dd", "yyyy-mm-dd hh:mm", "0.00%"
    wb.create_sheet("规则说明").append(["规则", "说明"])
    buf = io.BytesIO()
    wb.save(buf)
    copy = openpyxl.load_workbook(io.BytesIO(packs.regional_workbook(buf.getvalue(), "浙江")))
    assert copy.sheetnames == ["KPI统计", "规则说明"]
    got = list(copy["KPI统计"].iter_rows(min_row=2))
    assert [[c.value for c in r] for r in got] == [
        ["浙江", dt.datetime(2026, 11, 3), dt.datetime(2026, 11, 3, 9, 12), 3, 0.875, safe_cell("+1-2 待核")],
        ["浙江", dt.datetime(2026, 11, 5), None, 12, 0.5, None]]
    assert [(r[1].number_format, r[4].number_format) for r in got] == [("yyyy-mm-dd", "0.00%")] * 2
    assert got[0][2].number_format == "yyyy-mm-dd hh:mm" and isinstance(got[0][3].value, int)
