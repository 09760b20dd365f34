"""Writes the world as extract files with the quirks of real exports (see extracts.md)."""

from __future__ import annotations

import csv
import io
import random
import zipfile
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from . import contract as C
from .model import DAY, is_workday, midnight

EXCEL_EPOCH = datetime(1899, 12, 30)
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
EXTRA_COLUMNS = {
    "导出批次": lambda d, i: f"B{d:%Y%m%d}01",
    "序号": lambda d, i: str(i + 1),
    "数据来源": lambda d, i: "NIGHTLY_JOB",
    "备注(系统)": lambda d, i: "",
}
SHEET_NAMES = ["Sheet1", "导出数据", "数据", "明细"]
HEAVY = ("netcare_punches", "timesheet_entries", "netcare_attachments", "netcare_workorders")
STALE_SOURCE = "timesheet_engineers"  # its newest extract stops a week short of the end date


class Raw(str):
    """A cell value written as-is (used for deliberately broken cells)."""


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def _dec_text(d: Decimal) -> str:
    return format(d.normalize(), "f")


def _dec_num(d: Decimal):
    return int(d) if d == d.to_integral_value() else float(d)


def xlsx_bytes(sheets: list[tuple[str, list[list]]], when: datetime, creator: str) -> bytes:
    """An xlsx workbook whose bytes depend only on its content (fixed times everywhere)."""
    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.properties.creator = creator
    wb.properties.lastModifiedBy = creator
    wb.properties.created = when
    wb.properties.modified = when
    raw = io.BytesIO()
    archive = zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()  # closes the archive
    src = zipfile.ZipFile(io.BytesIO(raw.getvalue()))
    out = io.BytesIO()
    stamp = (when.year, when.month, when.day, when.hour, when.minute, 0)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            zi = zipfile.ZipInfo(info.filename, date_time=stamp)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, src.read(info.filename))
    return out.getvalue()


def csv_bytes(header: list[str], rows: list[list], encoding: str) -> bytes:
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\r\n")
    wr.writerow(header)
    wr.writerows(rows)
    return buf.getvalue().encode(encoding)


class Writer:
    def __init__(self, world, landing: Path, formats: str = "mixed"):
        if formats not in ("mixed", "csv"):
            raise ValueError("formats must be 'mixed' or 'csv'")
        self.w = world
        self.landing = Path(landing)
        self.formats = formats
        self.seed = world.seed
        self.T = world.T
        self.dates: list[date] = world.extract_dates
        self.files: list[dict] = []
        self.stale_sources: list[str] = []
        self._index: dict[str, dict[date, list]] = {}
        self._plan()

    # ------------------------------------------------------------------ plan

    def _plan(self) -> None:
        prng = random.Random(f"{self.seed}|plan")
        self.ext: dict[tuple[str, date], str] = {}
        self.enc: dict[tuple[str, date], str] = {}
        csv_keys = []
        for source in C.SOURCES:
            if source in HEAVY:
                # openpyxl is slow: the high-volume sources get one xlsx file each, the smallest
                # extract after the initial load (chosen in write_all)
                choice = ["csv"] * len(self.dates)
            else:
                choice = ["xlsx" if (self.formats == "mixed" and prng.random() < 0.35 and i > 0) else "csv"
                          for i, _ in enumerate(self.dates)]
                if self.formats == "mixed" and len(self.dates) >= 2 and len(set(choice)) == 1:
                    choice[prng.randrange(len(choice))] = "csv" if choice[0] == "xlsx" else "xlsx"
            for d, c in zip(self.dates, choice, strict=True):
                self.ext[(source, d)] = c
                if c == "csv":
                    csv_keys.append((source, d))
        prng.shuffle(csv_keys)
        for i, k in enumerate(csv_keys):
            self.enc[k] = ENCODINGS[i % 3]
        n = len(self.dates)

        def pick(i):
            return self.dates[i % n]

        # bad rows: (source, date) -> corruption kinds
        self.bad: dict[tuple[str, date], list[str]] = defaultdict(list)
        self.bad[("netcare_punches", pick(-2))] += ["enum", "datetime"]
        self.bad[("netcare_punches", pick(1))] += ["coord", "empty"]
        self.bad[("timesheet_entries", pick(-3))] += ["hours0", "hours25"]
        self.bad[("timesheet_entries", pick(-1))] += ["date"]
        self.bad[("netcare_workorders", pick(-2))] += ["enum", "empty"]
        self.bad[("netcare_workorders", pick(2))] += ["coordtext"]
        self.bad[("netcare_resident_attendance", pick(-1))] += ["enum", "datetime"]
        self.bad[("isc_acceptances", pick(-2))] += ["enum"]
        self.bad[("netcare_rfc_tasks", pick(-3))] += ["enum"]
        # exact duplicate rows
        self.dups: dict[tuple[str, date], int] = {
            ("netcare_punches", pick(-3)): 2,
            ("timesheet_entries", pick(-2)): 1,
            ("netcare_attachments", pick(-1)): 1,
            ("netcare_workorders", pick(3)): 1,
        }
        self.second_sheet = next(((s, d) for s in ("netcare_workorders", "netcare_rfcs", "isc_po_lines")
                                  for d in self.dates if self.ext[(s, d)] == "xlsx"), None)

    # ------------------------------------------------------------------ rows of one extract

    def _entities(self, source: str):
        w = self.w
        return {
            "netcare_workorders": w.tickets, "netcare_punches": w.visits, "timesheet_entries": w.entries,
            "timesheet_engineers": w.engineers, "isc_po_lines": w.lines, "isc_acceptances": w.acceptances,
            "netcare_rfcs": w.rfcs, "netcare_rfc_tasks": [t for r in w.rfcs for t in r.tasks],
            "netcare_resident_attendance": w.attendance, "netcare_attachments": w.attachments,
        }[source]

    def _changes(self, source: str, e):
        if source == "netcare_punches":
            return [p[1] for p in e.punches]
        return e.changes()

    def _by_day(self, source: str) -> dict[date, list]:
        if source not in self._index:
            idx: dict[date, list] = defaultdict(list)
            for e in self._entities(source):
                for d in sorted({c.date() for c in self._changes(source, e) if c < self.T}):
                    idx[d].append(e)
            self._index[source] = idx
        return self._index[source]

    def window(self, d: date) -> tuple[date, date]:
        lo = date.min if d == self.dates[0] else d - timedelta(days=self.w.window_days - 1)
        return lo, d

    def count(self, source: str, d: date) -> int:
        """About how many rows the extract of source dated d has (no rows built)."""
        lo, hi = self.window(d)
        idx = self._by_day(source)
        if source == "netcare_punches":
            return sum(1 for x, vs in idx.items() if lo <= x <= hi for v in vs for p in v.punches
                       if p[1].date() == x)
        return len({id(e) for x, es in idx.items() if lo <= x <= hi for e in es})

    def rows(self, source: str, d: date) -> list[dict]:
        lo, hi = self.window(d)
        t = midnight(d + DAY)
        idx = self._by_day(source)
        days = sorted(x for x in idx if lo <= x <= hi)
        seen = set()
        ents = []
        for x in days:
            for e in idx[x]:
                if id(e) not in seen:
                    seen.add(id(e))
                    ents.append(e)
        if source == "netcare_punches":
            out = [v.punch_row(p) for v in ents for p in v.punches if lo <= p[1].date() <= hi and p[1] < t]
            out.sort(key=lambda r: (r["打卡时间"], r["打卡记录ID"]))
            return out
        out = [r for r in (e.row_at(t) for e in ents) if r is not None]
        key = {
            "netcare_workorders": lambda r: (r["创建时间"], r["工单号"]),
            "timesheet_entries": lambda r: (r["填报时间"], r["填报ID"]),
            "timesheet_engineers": lambda r: r["工号"],
            "isc_po_lines": lambda r: (r["PO下发日期"], r["PO号"], r["PO行号"]),
            "isc_acceptances": lambda r: r["验收单号"],
            "netcare_rfcs": lambda r: (r["提交时间"], r["RFC单号"]),
            "netcare_rfc_tasks": lambda r: r["任务单号"],
            "netcare_resident_attendance": lambda r: (r["考勤日期"], r["工单号"], r["工号"]),
            "netcare_attachments": lambda r: (r["上传时间"], r["工单号"], r["文件名"]),
        }[source]
        out.sort(key=key)
        if source == "timesheet_engineers" and not out:
            out = [e.row_at(t) for e in self.w.engineers[:3]]
        return out

    # ------------------------------------------------------------------ cells

    def formatter(self, kind: str, frng: random.Random, xlsx: bool):
        """A function turning one canonical value of a column of this kind into a cell."""
        rnd = frng.random
        empty = None if xlsx else ""

        def f_id(v):
            if v is None:
                return empty
            s = str(v)
            r = rnd()
            if r < 0.012:
                return _fullwidth(s)
            if r < 0.03:
                return frng.choice([f" {s}", f"{s} ", f"  {s} "])
            return s

        def f_dt(v):
            if v is None:
                return empty
            r = rnd()
            if xlsx and r < 0.25:
                return v
            if xlsx and r < 0.4:
                return (v - EXCEL_EPOCH).total_seconds() / 86400
            if r < (0.75 if xlsx else 0.7):
                return v.isoformat(" ")
            return f"{v.year}/{v.month}/{v.day} {v.hour}:{v.minute:02d}"

        def f_date(v):
            if v is None:
                return empty
            r = rnd()
            if xlsx and r < 0.4:
                return v
            if r < 0.8:
                return v.isoformat()
            return f"{v.year}/{v.month}/{v.day}"

        def f_dec(v):
            if v is None:
                return empty
            return _dec_num(v) if xlsx else _dec_text(v)

        def f_amt(v):
            if v is None:
                return empty
            if rnd() < 0.25:
                return f"{v:,.2f}"
            return float(v) if xlsx else f"{v:.2f}"

        def f_int(v):
            if v is None:
                return empty
            return int(v) if xlsx else str(int(v))

        def f_coord(v):
            if v is None:
                return empty
            return float(v) if xlsx else f"{v:.6f}"

        def f_text(v):
            return empty if v is None else v

        f = {"id": f_id, "dt": f_dt, "date": f_date, "dec": f_dec, "amt": f_amt, "int": f_int,
             "coord": f_coord}.get(kind, f_text)

        def wrapped(v):
            return str(v) if isinstance(v, Raw) else f(v)

        return f, wrapped

    def cell(self, kind: str, v, frng: random.Random, xlsx: bool):
        return self.formatter(kind, frng, xlsx)[1](v)

    # ------------------------------------------------------------------ broken rows

    def _bad_row(self, source: str, kind: str, base: dict, d: date, k: int) -> dict:
        r = dict(base)
        tag = f"{d:%Y%m%d}{k:02d}"
        if source == "netcare_punches":
            r["打卡记录ID"] = f"PKX{tag}"
            if kind == "enum":
                r["打卡类型"] = "签到"
            elif kind == "datetime":
                r["打卡时间"] = Raw(f"{d.year}-{d.month:02d}-32 08:61")
            elif kind == "coord":
                r["纬度"] = 95.5
            else:
                r["工号"] = None
        elif source == "timesheet_entries":
            r["填报ID"] = f"TSX{tag}"
            if kind == "hours0":
                r["工时"] = Decimal(0)
            elif kind == "hours25":
                r["工时"] = Decimal(25)
            else:
                r["工作日期"] = Raw(f"{d.year}/13/{d.day}")
        elif source == "netcare_workorders":
            r["工单号"] = f"WO{d:%Y%m%d}98{k:03d}"
            r["FSE工号"] = r["FSE姓名"] = r["PO号"] = None
            if kind == "enum":
                r["工单状态"] = "处理中"
            elif kind == "empty":
                r["创建时间"] = None
            else:
                r["局点经度"] = Raw("东经120度")
        elif source == "netcare_resident_attendance":
            x = d - timedelta(days=7 * k)
            while is_workday(x):
                x -= DAY
            r["考勤日期"] = x
            r["上班打卡"] = r["下班打卡"] = None
            r["异常电子流状态"] = r["异常电子流审批时间"] = None
            if kind == "enum":
                r["请假类型"], r["请假审批状态"] = "探亲假", "已通过"  # not a contract leave type
            else:
                r["上班打卡"] = Raw("8点半")
        elif source == "isc_acceptances":
            r["验收单号"] = f"YSX{tag}"
            r["审批状态"] = "退回"
        elif source == "netcare_rfc_tasks":
            r["任务单号"] = f"TX{tag}"
            r["任务状态"] = "进行中"
        return r

    # ------------------------------------------------------------------ files

    def _name(self, source: str, d: date, ext: str, n: int | None = None) -> str:
        return f"{source}_{d:%Y%m%d}{'' if not n else f'_{n}'}.{ext}"

    def _render(self, name: str, source: str, d: date, rows: list[dict], ext: str, encoding: str | None,
                extra_ok: bool = True, drop: str | None = None, second_sheet: bool = False,
                bad: list[str] | None = None, dups: int = 0, conflict: bool = False) -> dict:
        frng = random.Random(f"{self.seed}|{name}")
        kinds = C.kinds(source)
        header = [h for h in C.headers(source) if h != drop]
        frng.shuffle(header)
        extra = None
        if extra_ok and frng.random() < 0.3:
            extra = frng.choice(sorted(EXTRA_COLUMNS))
            header.insert(frng.randrange(len(header) + 1), extra)
        xlsx = ext == "xlsx"
        cells: list[list] = []
        data_cols = [h for h in header if h != extra]
        fs = [self.formatter(kinds[h], frng, xlsx)[0] for h in data_cols]
        get = itemgetter(*data_cols)
        pos = header.index(extra) if extra else None
        for i, r in enumerate(rows):
            c = [f(v) for f, v in zip(fs, get(r), strict=True)]
            if pos is not None:
                c.insert(pos, EXTRA_COLUMNS[extra](d, i))
            cells.append(c)
        good = [c for c in cells]
        n_conflict = 0
        if conflict:
            n_conflict, protect = self._conflict(rows, cells, header, kinds, frng, xlsx)
            good = [c for c in good if c is not protect]
        n_bad = 0
        for k, kind in enumerate(bad or []):
            if not rows:
                break
            base = rows[frng.randrange(len(rows))]
            br = self._bad_row(source, kind, base, d, k)
            cell = [EXTRA_COLUMNS[h](d, 0) if h == extra else self.cell(kinds[h], br[h], frng, xlsx)
                    for h in header]
            cells.insert(frng.randrange(len(cells) + 1), cell)
            n_bad += 1
        n_dup = 0
        for _ in range(dups):
            if not good:
                break
            c = good.pop(frng.randrange(len(good)))
            j = next(i for i, x in enumerate(cells) if x is c)
            cells.insert(j + 1, list(c))
            n_dup += 1
        info = {"name": name, "source": source, "rows": len(cells), "quarantined": n_bad, "duplicates": n_dup,
                "extract_date": d.isoformat(), "format": ext, "encoding": encoding}
        if ext == "xlsx":
            title = frng.random() < 0.6
            sheet = [[f"{C.TITLES[source]} {d:%Y-%m-%d}"], []] if title else []
            sheet += [header] + cells
            sheets = [(frng.choice(SHEET_NAMES), sheet)]
            if second_sheet:
                sheets.append(("筛选条件", [["导出条件"], ["区域", "全部"], ["时间范围", f"近{self.w.window_days}天"]]))
            creator = "NetCare" if source.startswith("netcare") else "ISC" if source.startswith("isc") else "TS2.0"
            data = xlsx_bytes(sheets, datetime(d.year, d.month, d.day, 6, 0), creator)
            info.update(title_row=title, sheets=len(sheets))
        else:
            data = csv_bytes(header, cells, encoding)
        info["extra_column"] = extra
        if n_conflict:
            info["same_key_conflicts"] = n_conflict
            info["conflict_key"] = self.conflict_entry
        (self.landing / name).write_bytes(data)
        self.files.append(info)
        return info

    def _conflict(self, rows, cells, header, kinds, frng, xlsx):
        """Two rows with one key, different values: an earlier wrong version of a later row."""
        # an on-site entry that is the only filing of a punched day: if the earlier (wrong) row won,
        # PD-09 would report the day as punched, not filed
        filings: dict[tuple, int] = defaultdict(int)
        for e in self.w.entries:
            if e.ticket is not None and e.state_at(self.T) != "已驳回":
                filings[(e.eng.eid, e.ticket.no, e.day)] += 1
        field = {t.no for t in self.w.tickets if t.type not in ("POC", "驻场")}
        cand = [i for i, r in enumerate(rows) if r["工作类型"] == "现场" and r["审批状态"] in ("已提交", "已审批")
                and r["工单号"] in field and filings[(r["工号"], r["工单号"], r["工作日期"])] == 1]
        if not cand:
            return 0, None
        i = cand[len(cand) // 2]
        right = cells[i]
        wrong = dict(rows[i])
        wrong["审批状态"] = "已驳回"
        wrong["工时"] = wrong["工时"] + Decimal(4)
        cell = [self.cell(kinds[h], wrong[h], frng, xlsx) if h in kinds else right[k] for k, h in enumerate(header)]
        cells.insert(i, cell)  # before the right row, so the later (right) row wins
        self.conflict_entry = rows[i]["填报ID"]
        return 1, right

    def write_all(self) -> list[dict]:
        self.landing.mkdir(parents=True, exist_ok=True)
        end = self.dates[-1]
        for source in C.SOURCES:
            if source in HEAVY and self.formats == "mixed":
                later = self.dates[1:-1] or self.dates
                small = min(later, key=lambda d: self.count(source, d))
                self.ext[(source, small)] = "xlsx"
            for d in self.dates:
                if source == STALE_SOURCE and d == end and self._may_go_stale():
                    # the engineer master's last export did not arrive: no engineer joined since the one
                    # before (a changed 技能等级 decides no rule), so no finding changes, but the run shows
                    # the source as stale (过期)
                    self.stale_sources.append(source)
                    continue
                ext = self.ext[(source, d)]
                enc = self.enc.get((source, d), "utf-8") if ext == "csv" else None
                rows = self.rows(source, d)
                name = self._name(source, d, ext)
                kw = dict(bad=self.bad.get((source, d)), dups=self.dups.get((source, d), 0),
                          second_sheet=(source, d) == self.second_sheet,
                          conflict=(source == "timesheet_entries" and d == end))
                if source == "isc_acceptances" and d == end:
                    self._redelivery(source, d, rows, ext, enc)
                    continue
                info = self._render(name, source, d, rows, ext, enc, **kw)
                info["kind"] = "extract"
        self._specials()
        for f in self.files:
            f.setdefault("kind", "extract")
            for k in ("extra_column", "title_row", "sheets", "encoding"):
                f.setdefault(k, None)
        self.files.sort(key=lambda f: f["name"])
        return self.files

    def _may_go_stale(self) -> bool:
        if len(self.dates) < 2:
            return False
        prev, end = self.dates[-2], self.dates[-1]
        return not any(prev < e.created.date() <= end for e in self.w.engineers)

    # ------------------------------------------------------------------ special files

    def _redelivery(self, source, d, rows, ext, enc):
        """A first delivery with a wrong remark and a stray row, then `_2` correcting it wholesale."""
        first = [dict(r) for r in rows]
        w = self.w
        by_no = {a.no: a for a in w.acceptances}
        cand = [i for i, r in enumerate(first) if r["验收周期开始"] is not None and r["审批状态"] != "草稿"
                and by_no[r["验收单号"]].line.service_type == "维保"
                and f"{r['验收周期开始']:%Y-%m-%d}至{r['验收周期结束']:%Y-%m-%d}" in (r["备注"] or "")]
        fixed = None
        if cand:
            i = cand[0]
            fixed = first[i]["验收单号"]
            first[i]["备注"] = "验收周期待补充"
        stray = None
        full = [ln for ln in w.lines if ln.tag == "ticket" and ln.acceptances
                and all((h := a.state_at(self.T)) is not None and h[1] == "已通过" for a in ln.acceptances)]
        if full:
            ln = full[0]
            stray = f"YS{d:%Y%m%d}9001"
            first.append({"验收单号": stray, "PO号": ln.po_no, "PO行号": ln.line_no, "验收周期开始": None,
                          "验收周期结束": None, "验收数量": ln.qty, "验收金额": ln.amount, "提交日期": d,
                          "审批状态": "审批中", "审批日期": None, "驳回原因": None, "备注": "重复提交"})
        n1 = self._name(source, d, ext)
        info1 = self._render(n1, source, d, first, ext, enc)
        ext2 = "csv" if ext == "xlsx" else "xlsx"
        if self.formats == "csv":
            ext2 = "csv"
        n2 = self._name(source, d, ext2, 2)
        info2 = self._render(n2, source, d, rows, ext2, "utf-8-sig" if ext2 == "csv" else None)
        info1.update(kind="extract", superseded_by=n2)
        info2.update(kind="redelivery", corrects=n1, corrected_acceptance=fixed, dropped_row=stray)

    def _specials(self):
        w = self.w
        dates = self.dates
        # a byte-identical repeat of an earlier file under another valid name
        src_d = dates[-4] if len(dates) >= 4 else dates[0]
        orig = next(f for f in self.files if f["source"] == "netcare_rfcs" and f["extract_date"] == src_d.isoformat())
        rep_d = src_d + DAY
        rep_name = f"netcare_rfcs_{rep_d:%Y%m%d}.{orig['format']}"
        (self.landing / rep_name).write_bytes((self.landing / orig["name"]).read_bytes())
        rep = dict(orig, name=rep_name, extract_date=rep_d.isoformat(), kind="repeat", repeat_of=orig["name"])
        self.files.append(rep)
        # a file missing a required column (区域): rejected whole
        rej_d = (dates[-2] if len(dates) >= 2 else dates[0]) - timedelta(days=2)
        rows = [e.row_at(midnight(rej_d + DAY)) for e in w.engineers]
        rows = [r for r in rows if r is not None]
        name = self._name("timesheet_engineers", rej_d, "csv")
        info = self._render(name, "timesheet_engineers", rej_d, rows, "csv", "gb18030", extra_ok=False, drop="区域")
        info.update(kind="rejected", missing_column="区域")
        # unrecognised: an old-format .xls and an unknown source
        xd = dates[-1] - DAY
        rows = self.rows("netcare_workorders", dates[-1])[:5]
        frng = random.Random(f"{self.seed}|xls")
        hdr = C.headers("netcare_workorders")
        data = xlsx_bytes([("Sheet1", [hdr] + [[self.cell(k, r[h], frng, True) for h, k in
                                                  C.kinds("netcare_workorders").items()] for r in rows])],
                          datetime(xd.year, xd.month, xd.day, 6, 0), "NetCare")
        name = f"netcare_workorders_{xd:%Y%m%d}.xls"
        (self.landing / name).write_bytes(data)
        self.files.append({"name": name, "source": None, "kind": "unrecognised", "rows": len(rows),
                           "quarantined": 0, "duplicates": 0, "extract_date": xd.isoformat(), "format": "xls",
                           "encoding": None, "reason": "old Excel format (.xls)"})
        name = f"eisdp_deliveries_{dates[-1]:%Y%m%d}.csv"
        hdr = ["项目编码", "交付单号", "区域", "交付状态", "计划完成日期"]
        body = [[f"PJ-0{i % 8 + 1}-{20 + i}", f"JF{dates[-1]:%Y%m%d}{i:03d}", ["浙江", "上海", "江西"][i % 3],
                 ["实施中", "已完成"][i % 2], (dates[-1] + timedelta(days=10 * i)).isoformat()] for i in range(4)]
        (self.landing / name).write_bytes(csv_bytes(hdr, body, "utf-8"))
        self.files.append({"name": name, "source": None, "kind": "unrecognised", "rows": len(body),
                           "quarantined": 0, "duplicates": 0, "extract_date": dates[-1].isoformat(),
                           "format": "csv", "encoding": "utf-8", "reason": "unknown source eisdp_deliveries"})
