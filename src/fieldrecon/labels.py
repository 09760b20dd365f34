"""How codes and amounts read for clerks: the one place their Chinese words are written.

Python reads the dicts below; SQL reads the same words from `ref.labels (kind, code, label_zh)`,
which `warehouse.reference` rewrites from `LABELS` every run (a sheet joins it instead of spelling
the words out in a case expression).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

SEVERITY = {"error": "错误", "warning": "警告", "info": "提示"}
# a finding on the download page: explained (marked) by a clerk lead or not
FINDING_STATUS = {"open": "未说明", "marked": "已说明"}
PACK_STATUS = {"ready": "可提交", "blocked": "阻塞"}
REPORT_STATUS = {"not due": "未到期", "generated": "已生成", "backfilled": "补生成", "late": "逾期生成",
                 "missing": "缺失"}
REPORT_KIND = {"weekly": "周报", "monthly": "月报"}
# an attendance anomaly of one punch slot (驻场考勤)
PUNCH_PROBLEM = {"missing": "缺卡", "late": "迟到", "early": "早退"}
# an acceptance to-do / money item: a monthly cycle, a per-ticket PO line, a line without ticket refs
ITEM_KIND = {"cycle": "月度周期", "per_ticket": "按单验收", "per_line": "按行验收"}
CYCLE_STATE = {"due": "待提交", "rejected": "已驳回待重提"}
# what the clerk does next with an amount (收入明细); `_rejected`: the item's last acceptance was rejected
MONEY_STATE = {"accepted": "已验收", "submitted": "审批中", "ready": PACK_STATUS["ready"],
               "ready_rejected": "已驳回，可重新提交", "blocked": PACK_STATUS["blocked"],
               "blocked_rejected": "已驳回，" + PACK_STATUS["blocked"], "open_tickets": "工单未全部关闭",
               "awaiting_completion": "等待完工（以 eISDP 完工报告为准）"}
FILE_STATUS = {"loaded": "已加载", "rejected": "整文件拒收", "repeat": "重复文件", "unrecognised": "无法识别",
               "pending": "待加载", "refused": "拒绝读取"}
FAMILY = {"checkin": "打卡核对", "attendance": "驻场考勤", "changes": "变更单", "po": "PO验收与附件",
          "timeliness": "服务时效"}

# kind (the name SQL filters ref.labels on) -> code -> label
LABELS: dict[str, dict[str, str]] = {
    "severity": SEVERITY, "finding_status": FINDING_STATUS, "pack_status": PACK_STATUS,
    "report_status": REPORT_STATUS, "report_kind": REPORT_KIND, "punch_problem": PUNCH_PROBLEM, "item_kind": ITEM_KIND,
    "cycle_state": CYCLE_STATE, "money_state": MONEY_STATE, "file_status": FILE_STATUS, "family": FAMILY,
}


def number(value, places: int = 2, empty: str = "") -> str:
    """Person-days, counts, hours: up to `places` decimals without trailing zeros (``3``, ``2.5``);
    None/empty → `empty`; a non-number is returned as text."""
    if value is None or value == "":
        return empty
    try:
        d = round(Decimal(str(value)), places)
    except (InvalidOperation, ValueError):
        return str(value)
    text = f"{d:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def amount(value, places: int = 2, empty: str = "", unit: str = "") -> str:
    """`1234` → ``1,234.00`` (+ unit); None/empty → `empty`; a non-number is returned as text."""
    if value is None or value == "":
        return empty
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{d:,.{places}f}{unit}"
