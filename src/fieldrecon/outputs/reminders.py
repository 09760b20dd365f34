"""What falls due, per region (issue 16): SL-04 close requests, CH-02 RFCs, acceptance cycles about
to become PO-02 and exception flows still open before their RA-06 deadline — from
include/sql/mart/reminders/10_reminders.sql, as reminders.csv, the 到期提醒 sheet and one digest
mail per region (sent by fieldrecon.orchestration.digest). Each row says what is due, what to do,
in which system, by whom and by when."""

from __future__ import annotations

import datetime as dt
import html
import json

import sqlalchemy as sa
from openpyxl.workbook import Workbook

from fieldrecon.labels import amount
from fieldrecon.outputs.files import bom_csv
from fieldrecon.outputs.sentences import CLERK, FSE, ISC, NETCARE, PM, region_label
from fieldrecon.outputs.xlsx import finish_sheet
from fieldrecon.settings import SQL_DIR

KIND_ZH = {"SL-04": "关单申请即将到期", "CH-02": "变更单即将超期关闭", "PO-02": "验收周期即将超过提交期限",
           "RA-06": "考勤异常电子流待审批"}
CSV_COLUMNS = ["region", "kind", "ticket_no", "engineer_id", "rfc_no", "po_no", "po_line_no", "cycle_start", "month",
               "deadline", "working_days_left", "matter", "action", "system", "owner", "due_by"]
SHEET_COLUMNS = [("区域", "region"), ("类型", "kind_zh"), ("工单号", "ticket_no"), ("工程师工号", "engineer_id"),
                 ("RFC单号", "rfc_no"), ("PO号", "po_no"), ("PO行号", "po_line_no"), ("周期开始", "cycle_start"),
                 ("月份", "month"), ("事项", "matter"), ("处理办法", "action"), ("处理系统", "system"),
                 ("责任人", "owner"), ("期限", "due_by"), ("剩余工作日", "working_days_left")]


def _ts(value) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else str(value or "-")


def _money(value) -> str:
    return amount(value, empty="-")


def _texts(r: dict) -> tuple[str, str, str, str, str]:
    """(matter, action, system, owner, due_by) of one reminder."""
    d = r["details"] or {}
    day, left = r["deadline_day"].isoformat(), r["working_days_left"]
    end_of_day = f"{day} 当天结束前（还剩 {left} 个工作日）"
    if r["kind"] == "SL-04":
        return (f"工单 {r['ticket_no']} 已于 {_ts(d.get('completed_at'))} 完工，尚未申请关单",
                "FSE 在 NetCare 提交关单申请（逾期计入关单及时率 KPI）", NETCARE, FSE, end_of_day)
    if r["kind"] == "CH-02":
        return (f"变更单 {r['rfc_no']} 尚无任务开始（{d.get('tasks') or '无任务'}），到期将超期关闭",
                "PM 在期限前开始实施或取消任务（可申请一次延期 34 天）", NETCARE, PM, f"{_ts(r['deadline'])} 前")
    if r["kind"] == "PO-02":
        return (f"PO {r['po_no']} 第 {r['po_line_no']} 行（{d.get('service_type')}，{d.get('customer_name') or '-'}）"
                f"验收周期 {r['cycle_start']} 至 {d.get('cycle_end')}（{_money(d.get('cycle_amount'))} 元）尚未提交验收",
                f"文员在 ISC 提交本周期验收，PO 行备注填“{d.get('remark')}”", ISC, CLERK, end_of_day)
    return (f"工程师 {d.get('engineer_name') or r['engineer_id']}（{r['engineer_id']}）在工单 {r['ticket_no']} 上 "
            f"{r['month']} 有 {d.get('pending_days')} 天考勤异常的电子流仍在审批中，超期未批将计入考勤异常",
            "PM 在 NetCare 审批异常电子流", NETCARE, PM, end_of_day)


def reminder_rows(conn: sa.Connection, params: dict) -> list[dict]:
    """The reminders of params' business date with their Chinese words (needs no temp tables)."""
    sql = (SQL_DIR / "mart" / "reminders" / "10_reminders.sql").read_text(encoding="utf-8")
    out = []
    for row in conn.execute(sa.text(sql), params).mappings():
        r = dict(row)
        if isinstance(r["details"], str):
            r["details"] = json.loads(r["details"])
        r["matter"], r["action"], r["system"], r["owner"], r["due_by"] = _texts(r)
        r["kind_zh"] = KIND_ZH[r["kind"]]
        r["region"] = region_label(r["region"])
        out.append(r)
    return out


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def reminders_csv(rows: list[dict]) -> bytes:
    return bom_csv(CSV_COLUMNS, ([_cell(r[c]) for c in CSV_COLUMNS] for r in rows))


def add_reminders_sheet(wb: Workbook, rows: list[dict]) -> None:
    ws = wb.create_sheet("到期提醒")
    ws.append([h for h, _ in SHEET_COLUMNS])
    for r in rows:
        ws.append([r[k] for _, k in SHEET_COLUMNS])
    finish_sheet(ws)


def digests(rows: list[dict], business_date: dt.date) -> dict[str, dict]:
    """One mail per region that has something falling due: {region: {subject, text, html, count}}."""
    by_region: dict[str, list[dict]] = {}
    for r in rows:
        by_region.setdefault(r["region"], []).append(r)
    out = {}
    for region, items in sorted(by_region.items()):
        subject = f"[fieldrecon] {region} 到期提醒 {business_date.isoformat()}：{len(items)} 项"
        lines = [f"{region}：截至 {business_date.isoformat()} 日终，以下 {len(items)} 项即将到期，请按期处理。", ""]
        for i, r in enumerate(items, start=1):
            lines.append(f"{i}. 【{r['kind_zh']}】{r['matter']}。处理：{r['action']}（{r['system']}，{r['owner']}），"
                         f"期限：{r['due_by']}")
        head = "".join(f"<th>{html.escape(h)}</th>" for h in ("类型", "事项", "处理办法", "处理系统", "责任人", "期限"))
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(r[k]))}</td>"
                             for k in ("kind_zh", "matter", "action", "system", "owner", "due_by")) + "</tr>"
            for r in items)
        out[region] = {
            "subject": subject,
            "text": "\n".join(lines) + "\n",
            "html": (f"<p>{html.escape(lines[0])}</p><table border=\"1\" cellpadding=\"4\" "
                     f"style=\"border-collapse:collapse\"><tr>{head}</tr>{body}</table>"),
            "count": len(items),
        }
    return out
