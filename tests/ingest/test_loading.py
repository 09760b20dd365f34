"""Loading on real PostgreSQL: rejection, quarantine, duplicates, row accounting, newest extract
wins, visibility as of a business date, idempotency compared by content hash."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from fieldrecon.ingest import loader, pull
from tests import factories

pytestmark = pytest.mark.db

ENG_HEADER = "工号,姓名,区域,手机号,在职状态"


def write(folder, name, lines, encoding="utf-8"):
    p = folder / name
    p.write_text("\n".join(lines) + "\n", encoding=encoding)
    return p


def ingest(engine, landing, archive):
    result = pull.pull(engine, landing, archive)
    loads = [r for s in ("timesheet_engineers", "netcare_punches", "isc_po_lines") for r in loader.load_source(engine, s)]
    return result, loads


def staging_hash(engine, source, as_of, key):
    with engine.connect() as c:
        rows = c.execute(sa.text(f"select * from staging.{source}(:a) order by {key}"), {"a": as_of}).all()
    return hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest(), rows


@pytest.fixture(autouse=True)
def _clean(engine):
    factories.clear(engine)


def test_quarantine_duplicates_and_accounting(engine, tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    landing.mkdir()
    write(landing, "netcare_punches_20261103.csv", [
        "打卡记录ID,工单号,工号,姓名,打卡类型,打卡时间,经度,纬度,备用列",
        "P1,ＷＯ１, E1 ,张三,到达,2026-11-03 09:12:00,120.1,30.2,a",
        "P2,WO1,E1,张三,离场,2026/11/3 17:12,120.1,30.2,b",
        "P2,WO1,E1,张三,离场,2026/11/3 17:12,120.1,30.2,b",
        "P3,WO1,E1,张三,飞行,2026/11/3 17:12,120.1,30.2,c",
        "P4,WO1,,张三,到达,2026/11/3 17:12,120.1,30.2,d",
        "P5,WO1,E1,张三,到达,2026/11/3 17:72,180.0,90.0,e",
        "P6,WO1,E1,张三,到达,2026/11/3 17:12,180.01,30,f",
    ], encoding="gb18030")
    _, loads = ingest(engine, landing, archive)
    assert loads == [{"file_id": loads[0]["file_id"], "file_name": "netcare_punches_20261103.csv", "status": "loaded",
                      "rows_read": 7, "rows_loaded": 2, "rows_quarantined": 4, "rows_duplicate": 1}]
    with engine.connect() as c:
        q = c.execute(sa.text("select row_no, reason_code, value from ops.quarantine order by row_no")).all()
        raw = c.execute(sa.text("select row_no, disposition, ticket_no, extra_columns from raw.netcare_punches order by row_no")).all()
    assert [tuple(r) for r in q] == [(5, "unknown_enum:punch_type", "飞行"), (6, "empty:engineer_id", None),
                                      (7, "unparseable:punched_at", "2026/11/3 17:72"), (8, "out_of_range:lng", "180.01")]
    assert [r.disposition for r in raw] == ["loaded", "loaded", "duplicate", "quarantined", "quarantined", "quarantined", "quarantined"]
    assert raw[0].ticket_no == "ＷＯ１" and raw[0].extra_columns == {"备用列": "a"}  # raw keeps what was received
    _, rows = staging_hash(engine, "netcare_punches", dt.datetime(2026, 11, 4), "punch_id")
    assert [(r.punch_id, r.ticket_no, r.engineer_id) for r in rows] == [("P1", "WO1", "E1"), ("P2", "WO1", "E1")]


def test_rejected_file_is_recorded_with_missing_headers_and_run_goes_on(engine, tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    landing.mkdir()
    write(landing, "timesheet_engineers_20261103.csv", ["工号,姓名,手机号", "E1,张三,1"])
    write(landing, "timesheet_engineers_20261102.csv", [ENG_HEADER, "E1,张三,浙江,13800000000,在职"])
    write(landing, "punches.xls", ["x"])
    pulled, loads = ingest(engine, landing, archive)
    assert [u["file_name"] for u in pulled["unrecognised"]] == ["punches.xls"]
    by_name = {r["file_name"]: r for r in loads}
    assert by_name["timesheet_engineers_20261102.csv"]["status"] == "loaded"
    assert by_name["timesheet_engineers_20261103.csv"]["status"] == "rejected"
    assert "缺少必填列：区域" in by_name["timesheet_engineers_20261103.csv"]["reason"]
    assert "timesheet_engineers_20261103.csv" in by_name["timesheet_engineers_20261103.csv"]["reason"]
    # the archive keeps the rejected file too
    assert len(list(archive.rglob("*"))) >= 3


def test_newest_extract_wins_redelivery_and_quarantine_keeps_previous(engine, tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    landing.mkdir()
    write(landing, "timesheet_engineers_20261101.csv", [ENG_HEADER, "E1,张三,浙江,1,在职", "E2,李四,上海,2,在职", "E3,王五,江西,3,在职"])
    # 11-02: E1 moves region; E2's row is bad (unknown status) so E2 keeps its 11-01 row; E3 absent, keeps it
    write(landing, "timesheet_engineers_20261102.csv", [ENG_HEADER, "E1,张三,上海,1,在职", "E2,李四,广西,2,退休"])
    # 11-03 first delivery, then a re-delivery that replaces it wholesale
    write(landing, "timesheet_engineers_20261103.csv", [ENG_HEADER, "E1,张三,海南,1,在职", "E3,王五,甘肃,3,在职"])
    write(landing, "timesheet_engineers_20261103_2.csv", [ENG_HEADER, "E1,张三,宁夏,1,在职", "E1,张三,天津,1,在职"])
    ingest(engine, landing, archive)

    def regions(as_of):
        return {r.engineer_id: r.region for r in staging_hash(engine, "timesheet_engineers", as_of, "engineer_id")[1]}

    assert regions(dt.datetime(2026, 11, 2)) == {"E1": "浙江", "E2": "上海", "E3": "江西"}
    assert regions(dt.datetime(2026, 11, 3)) == {"E1": "上海", "E2": "上海", "E3": "江西"}
    # the 11-03 re-delivery: later row of one key wins; E3's row of the replaced delivery no longer counts
    assert regions(dt.datetime(2026, 11, 4)) == {"E1": "天津", "E2": "上海", "E3": "江西"}
    # an extract dated after the business date is invisible (as_of 11-03 00:00 does not see 20261103)
    assert regions(dt.datetime(2026, 11, 3, 23, 59)) == regions(dt.datetime(2026, 11, 3))


def test_same_file_twice_and_repeat_under_other_name_change_nothing(engine, tmp_path):
    landing, archive = tmp_path / "landing", tmp_path / "archive"
    landing.mkdir()
    p = write(landing, "timesheet_engineers_20261101.csv", [ENG_HEADER, "E1,张三,浙江,1,在职"])
    ingest(engine, landing, archive)
    before = staging_hash(engine, "timesheet_engineers", dt.datetime(2026, 11, 5), "engineer_id")[0]
    with engine.connect() as c:
        n_files = c.execute(sa.text("select count(*) from ops.files")).scalar()
    pulled, loads = ingest(engine, landing, archive)  # the same landing again
    assert pulled["new"] == [] and loads == [] and len(pulled["known"]) == 1
    (landing / "timesheet_engineers_20261102_3.csv").write_bytes(p.read_bytes())  # same bytes, other name
    pulled, loads = ingest(engine, landing, archive)
    assert [r["file_name"] for r in pulled["repeat"]] == ["timesheet_engineers_20261102_3.csv"] and loads == []
    after = staging_hash(engine, "timesheet_engineers", dt.datetime(2026, 11, 5), "engineer_id")[0]
    with engine.connect() as c:
        statuses = c.execute(sa.text("select status, count(*) from ops.files group by 1")).all()
    assert before == after
    assert dict(statuses) == {"loaded": n_files, "repeat": 1}


PO_HEADER = "PO号,PO行号,服务类型,区域,数量,单价,行金额,PO下发日期,PO状态"


def test_a_redelivery_that_fixes_a_quarantined_cell_drops_it_from_the_packs(engine, tmp_path):
    """The packs list the quarantined cells of the files a run sees (ops.visible_files): a re-delivery
    `_2` replaces its date's first delivery wholesale, so a bad cell it corrects no longer shows."""
    from fieldrecon.settings import SQL_DIR

    landing, archive = tmp_path / "landing", tmp_path / "archive"
    landing.mkdir()
    write(landing, "isc_po_lines_20261103.csv", [PO_HEADER, "PO1,1,维保,浙江,-1,1,1,2026-10-01,已下发"])  # negative quantity
    ingest(engine, landing, archive)
    cells_sql = (SQL_DIR / "mart" / "packs" / "20_excluded_cells.sql").read_text(encoding="utf-8")

    def cells():
        with engine.connect() as c:
            return [(r.match_po, r.file_name) for r in c.execute(sa.text(cells_sql), {"business_date": dt.date(2026, 11, 3)})]

    assert cells() == [("PO1", "isc_po_lines_20261103.csv")]
    write(landing, "isc_po_lines_20261103_2.csv", [PO_HEADER, "PO1,1,维保,浙江,1,1,1,2026-10-01,已下发"])
    ingest(engine, landing, archive)
    assert cells() == []
