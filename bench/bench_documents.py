"""Document rendering benchmark (not a test): documents/s for acceptance packs and resident reports,
rendered the way the nightly builders render them (the same job functions, in the same worker
pool), on synthetic content shaped like the builders' data; then the engine alone (`engine_only`):
the same documents' Typst markup typeset in the same workers with nothing else, the ceiling of what
any change outside the engine can reach on this machine.

    .venv/bin/python bench/bench_documents.py [--packs 400] [--reports 800]
Target (2-core machine, issue 15): >= 100 documents/s. A pack is one document (its zip: 验收单 PDF and
HTML, 核对单 PDF, annex workbook, manifest); a report is one document (PDF, HTML, workbook).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "demo" / "src")]

from fieldrecon.outputs import documents, packs, reports  # noqa: E402

D = dt.date
# every row of every document differs, as real data does (identical rows would let Typst reuse layouts)
NOTES = ("核心交换机巡检，日志分析", "防火墙策略变更评审", "机房巡检与温湿度记录", "无线控制器升级准备", "客户培训：园区网络运维",
         "故障复盘与整改跟踪", "备件更换与测试", "链路质量分析报告编写")


def pack_data(i: int) -> dict:
    kind = ("维保", "驻场", "巡检", "单次")[i % 4]
    cycle = kind in ("维保", "驻场")
    start, end = (D(2026, 9, 1), D(2026, 9, 30)) if cycle else (None, None)
    tickets = [{
        "ticket_no": f"WO2026{i:05d}{k}", "ticket_type": {"巡检": "巡检", "单次": "单次现场服务"}.get(kind, "现场问题处理"),
        "status": "已关闭", "engineer_id": f"E{i % 97:04d}", "engineer_name": "张三", "site_address": "杭州市西湖区文三路1号",
        "product_line": "数通", "created_at": dt.datetime(2026, 9, 2, 9), "closed_at": dt.datetime(2026, 9, 3, 17),
        "dispatched_person_days": Decimal("2") if kind == "单次" else None, "punched_person_days": 2,
        "attachments": ["健康检查报告", "现场技术服务报告"], "required": ["健康检查报告", "现场技术服务报告", "TD审批邮件"],
        "missing_kinds": ["TD审批邮件"] if k == 0 else [], "files": [{"kind": "现场技术服务报告", "file_name": f"r{i}{k}.docx"}],
    } for k in range(3 if kind != "驻场" else 1)]
    attendance = [{"ticket_no": f"ZC{i}", "engineer_id": "E1", "engineer_name": "李四", "work_date": D(2026, 9, d),
                   "shift_start": dt.time(8, 30), "shift_end": dt.time(17, 30),
                   "clock_in_at": dt.datetime(2026, 9, d, 8, (i * 7 + d * 13) % 60),
                   "clock_out_at": dt.datetime(2026, 9, d, 17, (i * 11 + d * 3) % 60), "leave_type": None, "leave_approval": None,
                   "exception_flow": None} for d in range(1, 31)] if kind == "驻场" else []
    summary, exceptions = packs._attendance_view(attendance)
    return {
        "item": {"item_kind": "cycle" if cycle else "tickets", "po_no": f"PO{i:06d}", "po_line_no": 1, "service_type": kind,
                 "region": "浙江", "customer_name": "中国移动通信集团浙江有限公司", "contract_no": "HT-ZJ-01",
                 "cycle_start": start, "cycle_end": end, "amount": Decimal("12345.67"),
                 "remark": "验收周期:2026-09-01至2026-09-30", "cycle_state": "due"},
        "line": {"contract_no": "HT-ZJ-01", "customer_name": "中国移动通信集团浙江有限公司", "item_desc": "企业网络维保服务",
                 "service_start": D(2026, 8, 1), "service_end": D(2027, 7, 31), "line_amount": Decimal("150000.00"),
                 "quantity": Decimal("6"), "unit": "人天", "unit_price": Decimal("2057.61"), "tax_rate": Decimal("0.06")},
        "cycle": {"cycle_no": 2, "days_in_cycle": 30, "days_in_period": 365, "line_amount": Decimal("150000.00"),
                  "cycle_amount": Decimal("12328.77")} if cycle else {},
        "formula": "150,000.00 × 30 ÷ 365 = 12,328.77" if kind == "维保" else None, "tickets": tickets,
        "person_days": {"dispatched": Decimal("6"), "punched": 6}, "attendance": attendance,
        "attendance_summary": summary, "attendance_exceptions": exceptions,
        "acceptances": [{"acceptance_no": f"YS{i}", "period_start": D(2026, 8, 1), "period_end": D(2026, 8, 31),
                         "quantity": 1, "amount": Decimal("12741.00"), "submitted_on": D(2026, 9, 5), "approval": "已驳回",
                         "decided_on": D(2026, 9, 8), "reject_reason": "备注缺少验收周期", "remark": ""}],
        "monthly_reports": [], "test_reports": [], "company": "",
        "findings": [{"finding_id": f"f{i}", "rule_code": "AT-01", "severity": "error", "subject": tickets[0]["ticket_no"],
                      "title": "关单附件缺失", "details": {"missing": ["TD审批邮件"]}, "fix": "补传附件后重新提交",
                      "triage_reason": None, "triage_filing_ref": None, "triage_by": None, "triage_at": None}],
        "excluded": [], "status": "blocked", "reasons": [f"AT-01 {tickets[0]['ticket_no']}"],
        "rows": [{"source": "isc_po_lines", "key": f"PO{i:06d}-1", "sha256": "0" * 64}],
    }


def report_data(i: int) -> dict:
    kind = "monthly" if i % 4 == 0 else "weekly"
    days = 30 if kind == "monthly" else 5
    attendance = [{"date": f"2026-09-{d:02d}", "weekday": "周一", "shift": "08:30-17:30", "clock_in": f"08:{(i * 7 + d * 13) % 60:02d}",
                   "clock_out": f"17:{(i * 11 + d * 3) % 60:02d}", "in_status": "正常", "out_status": "正常", "leave": "", "flow": "",
                   "handling": "", "note": "", "counted": 0} for d in range(1, days + 1)]
    data = {
        "kind": kind, "title": reports.KIND_ZH[kind], "ticket_no": f"ZC{i:06d}", "engineer_id": f"E{i:05d}",
        "engineer_name": "张三", "customer_name": "中国移动通信集团浙江有限公司", "site_address": "杭州市西湖区文三路1号",
        "region": "浙江", "period_key": "2026-09-01", "period_start": "2026-09-01", "period_end": f"2026-09-{days:02d}",
        "period_label": "2026年9月（2026年9月1日至2026年9月30日）", "attendance": attendance,
        "attendance_totals": {"days": days, "anomalies": 0, "excused_days": 0, "leave_days": 0, "open_gaps": 0},
        "hours_by_kind": [{"kind": "现场", "hours": "8", "entries": days}], "hours_total": str(8 * days),
        "timesheet": [{"date": a["date"], "kind": "现场", "hours": "8", "note": NOTES[(i + k) % len(NOTES)] + f"（{a['date'][5:]}，第{k + 1}项）"}
                      for k, a in enumerate(attendance)],
        # the customer's tickets of the period: the medians of a demo world of 80 engineers (11 a week, 32 a month)
        "tickets": [{"ticket_no": f"XC{i:05d}{k:03d}", "ticket_type": ("现场问题处理", "巡检", "整改", "事件值守")[k % 4],
                     "status": ("已关闭", "已派发", "待审核")[k % 3], "engineer_name": ("张三", "李四", "王五")[(i + k) % 3],
                     "created_at": f"2026-09-{k % 28 + 1:02d} {(9 + k) % 24:02d}:{(i * 7 + k) % 60:02d}",
                     "closed_at": f"2026-09-{k % 28 + 1:02d} {(15 + k) % 24:02d}:{(i + k * 3) % 60:02d}",
                     "change": "新开、关闭"} for k in range(32 if kind == "monthly" else 11)],
        "tickets_opened": 1, "tickets_closed": 1,
        "anomalies": {"month": "2026-09", "first_month_of_3": "2026-07", "month_to_date": 0, "month_limit": 4,
                      "month_state": "未超限", "three_months": 0, "three_month_limit": 12, "three_month_state": "未超限"},
    }
    if kind == "monthly":
        data["cycles"] = [{"cycle_no": 1, "cycle_start": "2026-09-01", "cycle_end": "2026-09-30",
                           "cycle": "2026年9月1日至2026年9月30日"}]
        data["trend"] = [{"month": m, "attendance_days": 21, "ticket_anomalies": 0, "engineer_anomalies": 0,
                          "engineer_3m_anomalies": 0, "hours": "168"} for m in ("2026-07", "2026-08", "2026-09")]
    return data


def _markup_only(job_fn, jobs) -> list[str]:
    """The Typst markup each job would typeset (the builders run with the engine replaced)."""
    from fieldrecon.outputs import render

    typeset, marks = render.typst_to_pdf, []
    render.typst_to_pdf = lambda m: marks.append(m) or b"%PDF-"
    try:
        for j in jobs:
            job_fn(j)
    finally:
        render.typst_to_pdf = typeset
    return marks


def _typeset(markups: list[str]) -> int:
    from fieldrecon.outputs import render

    return sum(len(render.typst_to_pdf(m)) for m in markups)


def engine_ceiling(job_fn, jobs, documents_n: int) -> dict:
    """The engine alone: the same documents' markup typeset in the same workers, and nothing else
    (no Jinja, HTML, workbook, zip or file): the most documents/s these documents can reach here."""
    marks = _markup_only(job_fn, jobs)
    per_doc = len(marks) // documents_n
    batches = [marks[i:i + per_doc * 4] for i in range(0, len(marks), per_doc * 4)]
    t0 = time.perf_counter()
    list(documents.pool().map(_typeset, batches))
    seconds = time.perf_counter() - t0
    return {"pdfs": len(marks), "seconds": round(seconds, 2), "documents_per_s": round(documents_n / seconds, 1)}


def timed(fn, jobs) -> tuple[float, list]:
    t0 = time.perf_counter()
    out = list(documents.map_parallel(fn, jobs))
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packs", type=int, default=400)
    ap.add_argument("--reports", type=int, default=800)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="fr-bench-docs-") as tmp:
        pack_jobs = [(pack_data(i), f"PO{i:06d}-1", f"{i:08x}") for i in range(args.packs)]
        report_jobs = []
        for i in range(args.reports):
            data = report_data(i)
            p = {"report_kind": data["kind"], "ticket_no": data["ticket_no"], "engineer_id": data["engineer_id"],
                 "period_key": D(2026, 9, 1), "period_start": D(2026, 9, 1), "period_end": D.fromisoformat(data["period_end"])}
            report_jobs.append((data, "00000001", reports.relative_paths(p, "00000001"), tmp))
        # the workers start once per process (a night's reports and packs share them): timed apart
        t0 = time.perf_counter()
        list(documents.pool().map(documents._warm_worker, range(documents.workers())))
        start_s = time.perf_counter() - t0
        pack_s, zips = timed(packs._render_job, pack_jobs)
        report_s, results = timed(reports._render_job, report_jobs)
        assert all(z.startswith(b"PK") for z in zips) and not [e for _, e in results if e]
        ceiling = {"packs": engine_ceiling(packs._render_job, pack_jobs, args.packs),
                   "reports": engine_ceiling(reports._render_job, report_jobs, args.reports)}
        total = args.packs + args.reports
        print(json.dumps({
            "workers": documents.workers(), "worker_start_seconds": round(start_s, 2),
            "load_average": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            "packs": {"documents": args.packs, "seconds": round(pack_s, 2), "documents_per_s": round(args.packs / pack_s, 1)},
            "reports": {"documents": args.reports, "seconds": round(report_s, 2),
                        "documents_per_s": round(args.reports / report_s, 1)},
            "all": {"documents": total, "seconds": round(pack_s + report_s, 2),
                    "documents_per_s": round(total / (pack_s + report_s), 1)},
            "target_documents_per_s": 100,
            # Typst alone on the same documents, in the same workers: the ceiling of the figures above
            "engine_only": ceiling,
            "engine_only_all_documents_per_s": round(total / (ceiling["packs"]["seconds"] + ceiling["reports"]["seconds"]), 1),
        }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
