"""Malformed extracts through a real run (pipeline steps in-process on a fresh warehouse): the run
finishes, each bad file costs only its bad rows (or is rejected with a reason naming the row or
byte offset), every other file loads, every row is accounted for, and every message names the
file, the row and the column in Chinese. One world for the module keeps it fast."""

from __future__ import annotations

import datetime as dt
import os

import openpyxl
import pytest
import sqlalchemy as sa

from fieldrecon import pipeline
from fieldrecon.ingest import loader, pull, typing_sql
from fieldrecon.warehouse import connection
from tests import factories

pytestmark = pytest.mark.db

DAY = dt.date(2026, 11, 3)
PUNCH = "打卡记录ID,工单号,工号,姓名,打卡类型,打卡时间,经度,纬度,打卡地址"
ENG = "工号,姓名,区域,手机号,在职状态"
PO = "PO号,PO行号,服务类型,区域,数量,单价,行金额,PO下发日期,PO状态"
TS = "填报ID,工号,姓名,工作日期,工时,审批状态,工号,"
RFC = "RFC单号,状态,区域,提交时间"


def _bytes(lines: list[str], encoding="utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def build_landing(landing, outside):
    landing.mkdir()
    (landing / "netcare_punches_20261102.csv").write_bytes(_bytes([
        PUNCH, "P0,WO1,E1,张三,到达,2026-11-02 09:00,120.1,30.2,杭州"]))
    (landing / "netcare_punches_20261103.csv").write_bytes(_bytes([
        PUNCH,
        "P1,WO1,E1,张三,到达,2026-11-03 09:12:00,120.1,30.2,杭州",
        "P2,WO1,E1,张三,离场,2026/11/3 17:12,120.1,30.2,杭州,多出的字段",  # row 3: wrong field count
        "",  # row 4: a blank line is no row, but keeps its number
        'P3,WO1,E1,张\x00三,开始,2026-11-03 10:00,120.1,30.2,"杭州\n滨江"',  # row 5: NUL byte, quoted newline
        "P4,WO1,E1,张三,完成,2999-01-01 10:00,120.1,30.2,杭州",  # row 6: after the extract's date
        "P5,WO1,E1,张\x1f三,完成,2026-11-03 11:00,120.1,30.2,x",  # rows 7 and 8 differ, though joined
        "P5,WO1,E1,张,完成,2026-11-03 11:00,120.1,30.2,三\x1fx",  # with \x1f they would be equal
        "P6,WO1,E1,张三,完成,2026-11-04 00:00:00,120.1,30.2,杭州",  # row 9: the next day already
    ]))
    (landing / "timesheet_engineers_20261101.csv").write_bytes(_bytes([ENG, "E1,张三,浙江,1,在职"], "utf-16"))
    (landing / "timesheet_engineers_20261102.csv").write_bytes(_bytes([ENG, "E1,张三,浙江,1,在职", "E2,李四,上海,2,在职"]))
    good = [f"E{i},工程师{i},浙江,1,在职" for i in range(3, 372)]
    body = _bytes([ENG, *good[:100]]) + b"E999,Jos\xe9" + ",浙江,1,在职\n".encode() + _bytes(good[100:])
    (landing / "timesheet_engineers_20261103.csv").write_bytes(body)  # one latin-1 byte on row 102
    (landing / "isc_po_lines_20261103.csv").write_bytes(_bytes([
        PO,
        "PO1,1,维保,浙江,1,\"12,500.00\",\"12,500.00\",2026-10-01,已下发",
        "PO1,99999999999,维保,浙江,1,1,1,2026-10-01,已下发",  # row 3: too large for an integer
        "PO1,3,维保,浙江,1,1,1e999999,2026-10-01,已下发",  # row 4: too large an amount
        "PO1,4,维保,浙江,-1,1,1,2026-10-01,已下发",  # row 5: negative quantity
        "PO1,5,维保,浙江,1,1,1e308,2026-10-01,已下发",  # row 6: implausible, a warning only
    ]))
    (landing / "timesheet_entries_20261103.csv").write_bytes(_bytes([
        TS,
        "T1,E1,张三,2026-11-03,8,已提交,E9,备注甲",
        "T2,E1,张三,2026-11-04,8,已提交,E9,",  # row 3: work date after the extract's date
    ]))
    (landing / "netcare_rfcs_20261102.csv").write_bytes(_bytes([RFC, "R1,实施,浙江,2026-11-01 10:00"]))
    (landing / "netcare_rfcs_20261103.csv").write_bytes(_bytes([RFC]))  # header only: stale
    (landing / "isc_acceptances_20261103.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["验收单号", "PO号", "PO行号", "验收金额", "审批状态"])
    ws.append(["A1", "PO1", 1, 100, "已通过"])
    ws.append(["A2", "PO1", 1, -5, "已通过"])  # row 3: negative amount
    wb.save(landing / "isc_acceptances_20261103_2.xlsx")
    outside.write_text("secret\n")
    os.symlink(outside, landing / "netcare_workorders_20261103.csv")
    os.symlink(landing / "missing", landing / "netcare_workorders_20261102.csv")  # dangling
    (landing / "netcare_attachments_20261103.csv").mkdir()
    (landing / "old").mkdir()
    (landing / "old" / "netcare_rfcs_20261101.csv").write_bytes(_bytes([RFC, "R0,实施,浙江,2026-11-01 10:00"]))


def make_world(engine, tmp_path_factory, gx: str):
    tmp = tmp_path_factory.mktemp("poison")
    build_landing(tmp / "landing", tmp / "outside.txt")
    mp = pytest.MonkeyPatch()
    mp.setenv("FIELDRECON_DB", engine.url.database)
    mp.setenv("FIELDRECON_ARCHIVE", str(tmp / "archive"))
    mp.setenv("FIELDRECON_GX", gx)
    mp.setenv("FIELDRECON_OUTPUT", str(tmp / "out"))
    connection.engine.cache_clear()
    with engine.begin() as c:  # a run killed earlier for the same date, never closed
        c.execute(sa.text("insert into ops.runs (business_date, as_of, started_at, summary) "
                          "values (:d, :d, now(), '{}'::jsonb)"), {"d": DAY})
    ctx = pipeline.prepare(pipeline.make_context(DAY, str(tmp / "landing"), str(tmp / "out")))
    pipeline.pull_extracts(ctx)
    loads = {r["file_name"]: r for s in loader.SOURCES for r in pipeline.load_source(ctx, s)}
    pipeline.quality_summary(ctx)
    summary = pipeline.finish(ctx)
    return mp, {"engine": engine, "summary": summary, "loads": loads, "tmp": tmp, "ctx": ctx}


@pytest.fixture(scope="module")
def world(engine, tmp_path_factory):
    mp, w = make_world(engine, tmp_path_factory, gx="off")  # GX has its own (system) test
    yield w
    mp.undo()
    connection.engine.cache_clear()


def q(engine, sql, **params):
    with engine.connect() as c:
        return c.execute(sa.text(sql), params).all()


def quarantine(engine, file_name):
    return {(r.row_no, r.reason_code): r.reason for r in q(
        engine, "select q.row_no, q.reason_code, q.reason from ops.quarantine q join ops.files using (file_id) where file_name = :n",
        n=file_name)}


def test_every_row_accounted_and_run_finished(world):
    s = world["summary"]
    assert s["business_date"] == DAY.isoformat()
    for f in s["per_file"]:
        if f["status"] == "loaded":
            assert f["rows_read"] == f["rows_loaded"] + f["rows_quarantined"] + f["rows_duplicate"], f
    loads = world["loads"]
    assert {k: v["status"] for k, v in loads.items()} == {
        "netcare_punches_20261102.csv": "loaded", "netcare_punches_20261103.csv": "loaded",
        "timesheet_engineers_20261101.csv": "rejected", "timesheet_engineers_20261102.csv": "loaded",
        "timesheet_engineers_20261103.csv": "loaded", "isc_po_lines_20261103.csv": "loaded",
        "timesheet_entries_20261103.csv": "loaded", "netcare_rfcs_20261102.csv": "loaded",
        "netcare_rfcs_20261103.csv": "loaded", "isc_acceptances_20261103.xlsx": "rejected",
        "isc_acceptances_20261103_2.xlsx": "loaded"}


def test_malformed_row_nul_blank_line_and_dates_after_the_extract(world):
    eng = world["engine"]
    r = world["loads"]["netcare_punches_20261103.csv"]
    assert (r["rows_read"], r["rows_loaded"], r["rows_quarantined"], r["rows_duplicate"]) == (7, 4, 3, 0)
    qr = quarantine(eng, "netcare_punches_20261103.csv")
    assert set(qr) == {(3, "malformed_row"), (6, "after_extract_date:punched_at"), (9, "after_extract_date:punched_at")}
    assert "10 个字段" in qr[(3, "malformed_row")] and "9 列" in qr[(3, "malformed_row")]
    assert "「打卡时间」晚于本提取文件的日期 2026-11-03" in qr[(6, "after_extract_date:punched_at")]
    raw = {x.row_no: x for x in q(eng, "select r.row_no, r.disposition, r.punch_id, r.engineer_name, r.extra_columns "
                                       "from raw.netcare_punches r join ops.files f using (file_id) where f.file_name = :n",
                                  n="netcare_punches_20261103.csv")}
    assert raw[3].disposition == "quarantined" and raw[3].punch_id == "P2"
    assert raw[3].extra_columns[loader.MALFORMED_KEY].endswith("杭州,多出的字段")  # kept whole
    assert raw[5].engineer_name == "张\ufffd三"
    assert sorted(raw) == [2, 3, 5, 6, 7, 8, 9]
    notes = [w for w in world["summary"]["warnings"] if w["file_name"] == "netcare_punches_20261103.csv"]
    assert [(w["code"], w["rows"]) for w in notes] == [("nul_replaced", [5])]
    assert "第 5 行" in notes[0]["message"] and "NUL" in notes[0]["message"]


def test_unit_separator_in_a_cell_does_not_make_a_duplicate(world):
    rows = q(world["engine"], "select engineer_name, punch_address from staging.netcare_punches_rows where punch_id = 'P5' "
                              "order by row_no")
    assert [tuple(r) for r in rows] == [("张\x1f三", "x"), ("张", "三\x1fx")]


def test_unreadable_file_rejected_naming_offset_and_later_files_load(world):
    eng = world["engine"]
    rejected = world["loads"]["timesheet_engineers_20261101.csv"]["reason"]
    assert "timesheet_engineers_20261101.csv" in rejected and "UTF-16" in rejected and "字节偏移 0" in rejected
    # one latin-1 byte: the file loads, the row is named
    r = world["loads"]["timesheet_engineers_20261103.csv"]
    assert (r["rows_read"], r["rows_loaded"]) == (370, 370)
    [note] = [w for w in world["summary"]["warnings"] if w["file_name"] == "timesheet_engineers_20261103.csv"]
    assert note["code"] == "bad_bytes_replaced" and note["rows"] == [102] and "第 102 行" in note["message"]
    regions = dict(q(eng, "select engineer_id, region from staging.timesheet_engineers(:a)", a=dt.datetime(2026, 11, 4)))
    assert len(regions) == 372 and regions["E999"] == "浙江"


def test_too_large_and_negative_values_quarantined_implausible_warned(world):
    eng = world["engine"]
    qr = quarantine(eng, "isc_po_lines_20261103.csv")
    assert set(qr) == {(3, "too_large:po_line_no"), (4, "too_large:line_amount"), (5, "negative:quantity")}
    assert "「PO行号」超出整数范围" in qr[(3, "too_large:po_line_no")]
    assert "「行金额」数值过大" in qr[(4, "too_large:line_amount")]
    assert "「数量」为负数" in qr[(5, "negative:quantity")]
    loaded = q(eng, "select po_line_no, unit_price, line_amount from staging.isc_po_lines_rows order by po_line_no")
    assert [(r.po_line_no, float(r.unit_price)) for r in loaded] == [(1, 12500.0), (5, 1.0)]
    [w] = [w for w in world["summary"]["warnings"] if w["file_name"] == "isc_po_lines_20261103.csv"]
    assert w["code"] == "implausible_number" and w["rows"] == [6] and "「行金额」" in w["message"]
    acc = quarantine(eng, "isc_acceptances_20261103_2.xlsx")
    assert set(acc) == {(3, "negative:amount")}


def test_work_date_after_extract_duplicate_and_unnamed_headers(world):
    eng = world["engine"]
    assert set(quarantine(eng, "timesheet_entries_20261103.csv")) == {(3, "after_extract_date:work_date")}
    notes = {w["code"]: w for w in world["summary"]["warnings"] if w["file_name"] == "timesheet_entries_20261103.csv"}
    assert "「工号」出现多次" in notes["duplicate_header"]["message"]
    assert notes["unnamed_column"]["rows"] == [2] and "第 8 列没有表头" in notes["unnamed_column"]["message"]
    extra = q(eng, "select extra_columns from raw.timesheet_entries order by row_no")
    assert extra[0].extra_columns == {"工号（第7列，重复表头）": "E9", "（第8列，无表头）": "备注甲"}


def test_bad_xlsx_rejected_and_clean_redelivery_replaces_it(world):
    r = world["loads"]["isc_acceptances_20261103.xlsx"]
    assert "isc_acceptances_20261103.xlsx" in r["reason"] and "无法读取" in r["reason"]
    rows = q(world["engine"], "select acceptance_no from staging.isc_acceptances(:a)", a=dt.datetime(2026, 11, 4))
    assert [x.acceptance_no for x in rows] == ["A1"]


def test_symlinks_and_folders_refused_and_reported(world):
    refused = {r["file_name"]: r["reason"] for r in world["summary"]["refused_entries"]}
    assert set(refused) == {"netcare_workorders_20261103.csv", "netcare_workorders_20261102.csv",
                            "netcare_attachments_20261103.csv", "old"}
    assert "符号链接" in refused["netcare_workorders_20261103.csv"] and "文件夹" in refused["old"]
    archived = [p.read_bytes() for p in (world["tmp"] / "archive").rglob("*") if p.is_file()]
    assert b"secret\n" not in archived  # never followed outside the landing
    assert not q(world["engine"], "select 1 from raw.netcare_rfcs where rfc_no = 'R0'")


def test_empty_newest_extract_is_stale_and_says_so(world):
    src = world["summary"]["sources"]["netcare_rfcs"]
    assert src["stale"] and src["newest_extract_empty"] and "netcare_rfcs_20261103.csv" in src["stale_reason"]
    assert "changes" in world["summary"]["stale_outputs"]
    assert not world["summary"]["sources"]["netcare_punches"]["stale"]


def test_killed_run_marked_failed_by_the_next(world):
    rows = q(world["engine"], "select status from ops.runs where business_date = :d order by run_id", d=DAY)
    assert [r.status for r in rows] == ["failed", "success"]


def test_failure_alert_says_which_files_a_load_task_committed(world):
    from fieldrecon.orchestration import alerts

    with world["engine"].begin() as c:
        c.execute(sa.text("update ops.runs set airflow_run_id = 'manual__poison' where run_id = :r"), {"r": world["ctx"].run_id})
    text = alerts.committed_by("load.netcare_punches", "manual__poison")
    assert "netcare_punches_20261102.csv (loaded), netcare_punches_20261103.csv (loaded)" in text
    assert alerts.committed_by("rules.checkin", "manual__poison").startswith("Nothing of this task was committed")


def test_warehouse_refusal_rejects_the_file_naming_row_and_column(engine, tmp_path, monkeypatch):
    """(Runs last: it empties the world.) The safety net: a value the checks let through but PostgreSQL refuses costs the file, named by
    row and column, not the night; the next file of the source still loads."""
    factories.clear(engine)
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "isc_po_lines_20261101.csv").write_bytes(_bytes([PO, "PO1,1,维保,浙江,1,1,1,2026-10-01,已下发",
                                                               "PO1,99999999999,维保,浙江,1,1,1,2026-10-01,已下发"]))
    (landing / "isc_po_lines_20261102.csv").write_bytes(_bytes([PO, "PO2,1,维保,浙江,1,1,1,2026-10-01,已下发"]))
    monkeypatch.setattr(typing_sql, "_fits", lambda x, pg_type: "true")  # the typing statement's casts unguarded
    pull.pull(engine, landing, tmp_path / "archive")
    first, second = loader.load_source(engine, "isc_po_lines")
    assert first["status"] == "rejected" and second["status"] == "loaded"
    assert "isc_po_lines_20261101.csv 第 3 行「PO行号」列无法写入数据仓库" in first["reason"]
    assert not q(engine, "select 1 from raw.isc_po_lines r join ops.files f using (file_id) where f.status = 'rejected'")
