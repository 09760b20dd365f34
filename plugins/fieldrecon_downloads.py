"""The clerks' download page (issue 6): an Airflow plugin with a FastAPI app and a menu entry.

Mounted at `/fieldrecon`; the menu entry "验收包下载" shows it inside the Airflow UI
(`/plugin/fieldrecon-downloads`). Every route requires an authenticated Airflow user (plugin apps
are not authenticated by Airflow by itself): without credentials 401. Users are mapped to regions
(branches) by `FIELDRECON_CLERK_REGIONS`, e.g. `clerk:浙江,上海;admin:*` (`*` = all regions; a user
not listed sees nothing). A clerk sees and downloads only their regions' packs and run files; any
other path — another region's file, `../`, absolute or encoded paths — is 404 and is never opened.

Routes: `GET /` (the page, Chinese), `GET /api/packs` (the same list as JSON), `GET /api/findings`,
`GET /api/reports` (the resident reports, issue 7), `GET /files/<path>` (a pack or a run file from the
pack store), `GET /reports/<path>` (a resident report file: HTML, PDF or Excel), `POST /triage` and
`POST /triage/unmark` (mark a finding as explained, or take the mark back).

Resident (驻场) weekly and monthly reports: the newest business date of `mart.resident_reports`, the
user's regions only. A report file is served only when its exact relative path is one a report row of
an allowed region names (`html_path`/`pdf_path`/`xlsx_path`), after the same syntactic checks as the
pack files, and the resolved file stays inside `fieldrecon.outputs.reports.reports_dir()`; anything else is 404
and never opened.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from pathlib import Path, PurePosixPath
from typing import Annotated

from airflow.api_fastapi.core_api.security import GetUserDep, requires_authenticated
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, Form, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

URL_PREFIX = "/fieldrecon"
ROUTE = "fieldrecon-downloads"
STATUS_ZH = {"ready": "可提交", "blocked": "阻塞"}
REPORT_STATUS_ZH = {"not due": "未到期", "generated": "已生成", "late": "逾期生成", "missing": "缺失"}
REPORT_KIND_ZH = {"weekly": "周报", "monthly": "月报"}
REPORT_FORMATS = (("pdf", "PDF"), ("html", "HTML"), ("xlsx", "Excel"))


# ---------------------------------------------------------------- configuration


def clerk_regions(env: str | None = None) -> dict[str, set[str] | None]:
    """`user:region,region;user2:*` → {user: {regions}} (None = every region)."""
    from fieldrecon import settings

    spec = env if env is not None else settings.clerk_regions()
    out: dict[str, set[str] | None] = {}
    for part in re.split(r"[;；]", spec):
        if ":" not in part:
            continue
        user, _, regions = part.partition(":")
        names = {r.strip() for r in re.split(r"[,，]", regions) if r.strip()}
        out[user.strip()] = None if "*" in names else names
    return out


def user_name(user) -> str:
    for attr in ("get_name", "get_id"):
        fn = getattr(user, attr, None)
        if callable(fn):
            value = fn()
            if value:
                return str(value)
    return str(getattr(user, "username", "") or "")


def regions_of(user) -> set[str] | None:
    """The regions a user may see (None = all); an unknown user gets the empty set."""
    return clerk_regions().get(user_name(user), set())


def allowed(regions: set[str] | None, region: str | None) -> bool:
    return regions is None or (region or "") in regions


def _engine():
    from fieldrecon.warehouse import connection

    global _ENGINE
    if _ENGINE is None:
        _ENGINE = connection.engine()
    return _ENGINE


_ENGINE = None


def get_engine():
    """The warehouse (tests override this dependency)."""
    return _engine()


def get_store() -> Path:
    from fieldrecon.outputs.packs import packs_dir

    return packs_dir()


def get_reports_dir() -> Path:
    from fieldrecon.outputs.reports import reports_dir

    return reports_dir()


EngineDep = Annotated[object, Depends(get_engine)]
StoreDep = Annotated[Path, Depends(get_store)]
ReportsDirDep = Annotated[Path, Depends(get_reports_dir)]


# ---------------------------------------------------------------- data


def _latest_business_date(conn) -> dt.date | None:
    import sqlalchemy as sa

    return conn.execute(sa.text("select max(business_date) from packs.pack_runs")).scalar()


def pack_list(engine, regions, region: str | None = None, po: str | None = None, period: str | None = None,
              status: str | None = None) -> list[dict]:
    from fieldrecon.outputs.packs import list_versions, region_dir

    with engine.connect() as conn:
        rows = list_versions(conn)
    out = []
    for r in rows:
        if not allowed(regions, r["region"]):
            continue
        if region and (r["region"] or "") != region:
            continue
        if po and po.strip().upper() not in f"{r['po_no']}-{r['po_line_no']}".upper():
            continue
        if status and r["status"] != status:
            continue
        if period and not _in_period(r, period.strip()):
            continue
        out.append({
            "pack_key": r["pack_key"], "version": r["version_no"], "latest": bool(r["is_latest"]),
            "file_name": r["file_name"], "region": r["region"], "po_no": r["po_no"], "po_line_no": r["po_line_no"],
            "service_type": r["service_type"], "customer_name": r["customer_name"],
            "cycle_start": r["cycle_start"].isoformat() if r["cycle_start"] else None,
            "cycle_end": r["cycle_end"].isoformat() if r["cycle_end"] else None,
            "amount": str(r["amount"]) if r["amount"] is not None else None,
            "status": r["status"], "reasons": list(r["reasons"] or []),
            "prepared_on": r["first_business_date"].isoformat(),
            "business_dates": [d.isoformat() for d in r["business_dates"] or []],
            "changes": r["changes"], "sha256": r["zip_sha256"],
            "url": "files/packs/" + urllib.parse.quote(r["zip_path"]),
            "region_dir": region_dir(r["region"]),
        })
    return out


def _in_period(r: dict, period: str) -> bool:
    """`YYYY-MM` or `YYYY-MM-DD`: the cycle overlaps it (per-ticket packs: their preparation month)."""
    try:
        if len(period) == 7:
            start = dt.date.fromisoformat(period + "-01")
            end = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
        else:
            start = end = dt.date.fromisoformat(period)
    except ValueError:
        return False
    if r["cycle_start"]:
        return r["cycle_start"] <= end and r["cycle_end"] >= start
    return start <= r["first_business_date"] <= end


def run_files(store: Path, regions) -> list[dict]:
    """The per-region run files of the newest business dates (up to 7)."""
    base = store / "runs"
    if not base.is_dir():
        return []
    out = []
    for day in sorted((p for p in base.iterdir() if p.is_dir()), reverse=True)[:7]:
        for region in sorted(p for p in day.iterdir() if p.is_dir()):
            name = region.name
            if regions is not None and name not in regions:
                continue
            for f in sorted(region.iterdir()):
                if f.is_file() and not f.name.startswith("."):
                    out.append({"business_date": day.name, "region": name, "name": f.name,
                                "url": "files/" + urllib.parse.quote(f"runs/{day.name}/{name}/{f.name}")})
    return out


def findings_list(engine, regions, business_date: dt.date | None = None) -> tuple[dt.date | None, list[dict]]:
    import sqlalchemy as sa

    with engine.connect() as conn:
        d = business_date or _latest_business_date(conn) or conn.execute(
            sa.text("select max(business_date) from recon.finding_snapshots")).scalar()
        if d is None:
            return None, []
        rows = conn.execute(sa.text(
            "select f.finding_id, f.rule_code, f.severity, f.region, f.ticket_no, f.po_no, f.po_line_no, "
            "f.acceptance_no, f.cycle_start, f.engineer_id, f.day, f.is_new, f.first_seen_as_of, k.reason, k.filing_ref, "
            "k.marked_by, k.marked_at from recon.findings_as_of(:d) f "
            "left join recon.triage_marks k on k.finding_id = f.finding_id "
            "where f.status = 'open' order by f.is_new desc, f.rule_code, f.region, f.finding_id"), {"d": d}).mappings()
        out = []
        for r in rows:
            if not allowed(regions, r["region"]):
                continue
            out.append({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in dict(r).items()})
    return d, out


def report_list(engine, regions) -> tuple[dt.date | None, list[dict]]:
    """The resident reports of the newest business date of `mart.resident_reports`, user's regions only."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        d = conn.execute(sa.text("select max(business_date) from mart.resident_reports")).scalar()
        if d is None:
            return None, []
        rows = conn.execute(sa.text(
            "select report_kind, ticket_no, engineer_id, engineer_name, region, customer_name, period_key, "
            "period_start, period_end, due_date, status, first_generated_on, version, version_generated_on, "
            "html_path, pdf_path, xlsx_path from mart.resident_reports where business_date = :d "
            "order by region nulls first, period_end desc, report_kind desc, engineer_name, engineer_id, ticket_no"),
            {"d": d}).mappings().all()
    out = []
    for r in rows:
        if not allowed(regions, r["region"]):
            continue
        files = {ext: "reports/" + urllib.parse.quote(r[f"{ext}_path"])
                 for ext, _ in REPORT_FORMATS if r[f"{ext}_path"]}
        out.append({
            "report_kind": r["report_kind"], "kind_zh": REPORT_KIND_ZH.get(r["report_kind"], r["report_kind"]),
            "ticket_no": r["ticket_no"], "engineer_id": r["engineer_id"], "engineer_name": r["engineer_name"],
            "region": r["region"], "customer_name": r["customer_name"],
            "period_start": r["period_start"].isoformat(), "period_end": r["period_end"].isoformat(),
            "due_date": r["due_date"].isoformat(), "status": r["status"],
            "status_zh": REPORT_STATUS_ZH.get(r["status"], r["status"]), "version": r["version"],
            "first_generated_on": r["first_generated_on"].isoformat() if r["first_generated_on"] else None,
            "files": files,
        })
    return d, out


# ---------------------------------------------------------------- paths


def resolve_download(store: Path, raw: str, regions) -> Path:
    """The file under the store that `raw` names, or 404. Checks before touching the file:
    no `..`, no absolute or drive path, no backslash, no percent (double encoding), no NUL; then the
    resolved path must stay inside the store, be `packs/<region>/…` or `runs/<date>/<region>/<file>`
    of one of the user's regions, and exist."""
    if not raw or "\x00" in raw or "\\" in raw or "%" in raw or raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise HTTPException(404)
    parts = PurePosixPath(raw).parts
    if any(p in ("..", ".", "") for p in parts) or len(parts) < 3:
        raise HTTPException(404)
    if parts[0] == "packs":
        region, rel = parts[1], parts[1:]
    elif parts[0] == "runs" and len(parts) == 4 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", parts[1]):
        region, rel = parts[2], parts
    else:
        raise HTTPException(404)
    if regions is not None and region not in regions:
        raise HTTPException(404)
    root = store.resolve()
    path = (root.joinpath(*rel)).resolve()
    if not path.is_relative_to(root) or path == root:
        raise HTTPException(404)
    if parts[0] == "packs" and (path.suffix != ".zip" or path.is_relative_to(root / "runs")):
        raise HTTPException(404)
    if not path.is_file():
        raise HTTPException(404)
    return path


def _safe_relative(raw: str) -> tuple[str, ...]:
    """The parts of a plain relative path, or 404 (no `..`, `.`, empty part, absolute or drive path,
    backslash, percent, NUL)."""
    if not raw or "\x00" in raw or "\\" in raw or "%" in raw or raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise HTTPException(404)
    parts = PurePosixPath(raw).parts
    if any(p in ("..", ".", "") for p in parts) or len(parts) < 2:
        raise HTTPException(404)
    return parts


def resolve_report(engine, root: Path, raw: str, regions) -> Path:
    """The resident report file `raw` names (relative to the reports folder), or 404. Checked before the
    file is touched: a plain relative path that a report row names exactly, whose region (newest
    snapshot naming it) the user may see; then the resolved path must stay inside the folder and exist."""
    import sqlalchemy as sa

    parts = _safe_relative(raw)
    if parts[0] not in ("weekly", "monthly") or PurePosixPath(raw).suffix not in (".pdf", ".html", ".xlsx"):
        raise HTTPException(404)
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "select region from mart.resident_reports where :p in (html_path, pdf_path, xlsx_path) "
            "order by business_date desc limit 1"), {"p": raw}).first()
    if row is None or not allowed(regions, row[0]):
        raise HTTPException(404)
    base = root.resolve()
    path = base.joinpath(*parts).resolve()
    if not path.is_relative_to(base) or path == base or not path.is_file():
        raise HTTPException(404)
    return path


# ---------------------------------------------------------------- page

_CSS = """
body{font-family:"Noto Sans SC","Noto Sans CJK SC","Microsoft YaHei","PingFang SC","FR Noto Sans SC",sans-serif;margin:1rem 1.5rem;color:#1b1f24;font-size:14px}
h1{font-size:1.35rem;margin:.2rem 0 .6rem} h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:.6rem}
form.filters label{display:flex;flex-direction:column;font-size:.8rem;color:#555}
input,select,button{font-size:.9rem;padding:.25rem .4rem;font-family:inherit}
table{border-collapse:collapse;width:100%;max-width:1400px} th,td{border:1px solid #d0d7de;padding:.25rem .45rem;
text-align:left;vertical-align:top} th{background:#f0f4f8;position:sticky;top:0}
td.num{text-align:right;white-space:nowrap} .ready{color:#116329;font-weight:600} .blocked{color:#a40e26;font-weight:600}
tr.new td{background:#fff8c5} .muted{color:#666;font-size:.85rem} .old td{color:#777}
.wrap{overflow-x:auto} .report-late,.report-missing{color:#a40e26;font-weight:600} .report-generated{color:#116329}
"""


def _esc(v) -> str:
    import html

    return html.escape("" if v is None else str(v))


def render_page(user: str, regions, packs_rows, files, findings_date, findings, filters,
                reports_date: dt.date | None = None, reports: list[dict] | None = None) -> str:
    region_choices = sorted({p["region"] or "" for p in packs_rows} | ({*regions} if regions else set()))
    opts = "".join(f'<option value="{_esc(r)}"{" selected" if filters.get("region") == r else ""}>{_esc(r)}</option>'
                   for r in region_choices)
    status_opts = "".join(f'<option value="{k}"{" selected" if filters.get("status") == k else ""}>{v}</option>'
                          for k, v in STATUS_ZH.items())
    rows = []
    for p in packs_rows:
        period = f"{p['cycle_start']} 至 {p['cycle_end']}" if p["cycle_start"] else "按单验收"
        reasons = "；".join(p["reasons"])
        changes = "；".join(p["changes"] or [])
        rows.append(
            f'<tr class="{"" if p["latest"] else "old"}"><td>{_esc(p["region"])}</td><td>{_esc(p["po_no"])}-{p["po_line_no"]}</td>'
            f'<td>{_esc(p["service_type"])}</td><td>{_esc(p["customer_name"])}</td><td>{_esc(period)}</td>'
            f'<td class="num">{_esc(p["amount"])}</td>'
            f'<td class="{p["status"]}">{STATUS_ZH[p["status"]]}</td><td>{_esc(reasons)}</td>'
            f'<td>v{p["version"]}{"（最新）" if p["latest"] else ""}<div class="muted">{_esc(changes)}</div></td>'
            f'<td>{_esc(p["prepared_on"])}</td>'
            f'<td><a href="{_esc(p["url"])}" download="{_esc(p["file_name"])}">{_esc(p["file_name"])}</a></td></tr>')
    file_rows = "".join(
        f'<tr><td>{_esc(f["business_date"])}</td><td>{_esc(f["region"])}</td>'
        f'<td><a href="{_esc(f["url"])}" download="{_esc(f["name"])}">{_esc(f["name"])}</a></td></tr>' for f in files)
    finding_rows = []
    for f in findings:
        subject = " ".join(str(x) for x in (f["ticket_no"], f["po_no"] and f"{f['po_no']}-{f['po_line_no']}",
                                             f["cycle_start"], f["acceptance_no"], f["engineer_id"], f["day"]) if x)
        if f["reason"]:
            mark = (f'已说明：{_esc(f["reason"])}{("（备案 " + _esc(f["filing_ref"]) + "）") if f["filing_ref"] else ""}'
                    f'<div class="muted">{_esc(f["marked_by"])} {_esc(f["marked_at"])}</div>'
                    f'<form method="post" action="triage/unmark"><input type="hidden" name="finding_id" '
                    f'value="{_esc(f["finding_id"])}"><button type="submit">取消说明</button></form>')
        else:
            mark = (f'<form method="post" action="triage" class="triage"><input type="hidden" name="finding_id" '
                    f'value="{_esc(f["finding_id"])}"><input name="reason" placeholder="说明原因" required size="18">'
                    f'<input name="filing_ref" placeholder="备案号（可选）" size="10"><button type="submit">标记已说明</button></form>')
        finding_rows.append(
            f'<tr class="{"new" if f["is_new"] else ""}"><td>{_esc(f["rule_code"])}</td><td>{_esc(f["region"])}</td>'
            f'<td>{_esc(subject)}</td><td>{"新增" if f["is_new"] else ""}</td><td>{mark}</td></tr>')
    body = _page_body(user, regions, filters, opts, status_opts, rows, file_rows, finding_rows, findings_date,
                      _report_rows(reports or []), reports_date)
    return (f'''<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>验收包下载</title>
<style>{_font_face(body)}{_CSS}</style></head>{body}</html>''')


def _report_rows(reports: list[dict]) -> str:
    rows = []
    for r in reports:
        links = "　".join(f'<a href="{_esc(r["files"][ext])}" download>{label}</a>'
                         for ext, label in REPORT_FORMATS if ext in r["files"])
        version = f'v{r["version"]}' if r["version"] else ""
        rows.append(
            f'<tr><td>{_esc(r["region"])}</td><td>{_esc(r["kind_zh"])}</td>'
            f'<td>{_esc(r["engineer_name"] or r["engineer_id"])}<div class="muted">{_esc(r["engineer_id"])}</div></td>'
            f'<td>{_esc(r["customer_name"])}</td><td>{_esc(r["ticket_no"])}</td>'
            f'<td>{_esc(r["period_start"])} 至 {_esc(r["period_end"])}</td><td>{_esc(r["due_date"])}</td>'
            f'<td class="report-{_esc(r["status"].replace(" ", "-"))}">{_esc(r["status_zh"])}</td>'
            f'<td>{_esc(version)}<div class="muted">{_esc(r["first_generated_on"])}</div></td>'
            f'<td>{links or "—"}</td></tr>')
    return "".join(rows)


def _font_face(body: str) -> str:
    """An inline @font-face with Noto Sans SC cut to the characters of this page (tens of KB), the
    same PyPI font the PDFs use: the page reads correctly on a machine without a Chinese font."""
    import base64
    import html as html_lib

    from fieldrecon.outputs.render import _ALWAYS, _font_bytes

    chars = "".join(sorted(set(_ALWAYS) | {c for c in html_lib.unescape(body) if ord(c) > 0x7F}))
    try:
        data = base64.b64encode(_font_bytes(chars, 400)).decode()
    except Exception:  # noqa: BLE001 - the font package missing only costs the fallback
        return ""
    return ('@font-face{font-family:"FR Noto Sans SC";font-weight:400;'
            f'src:url(data:font/ttf;base64,{data}) format("truetype")}}')


def _page_body(user, regions, filters, opts, status_opts, rows, file_rows, finding_rows, findings_date,
               report_rows="", reports_date=None) -> str:
    scope = "全部区域" if regions is None else ("、".join(sorted(regions)) or "（未分配区域）")
    return f"""<body><h1>验收包下载</h1>
<p class="muted">用户：{_esc(user)}　可见区域：{_esc(scope)}　·　可提交＝材料齐全、无未处理的阻塞问题；阻塞＝存在未处理的问题（见原因），处理或标记说明后次日重新生成。
<a href="api/packs">JSON</a></p>
<form class="filters" method="get" action="">
<label>区域<select name="region"><option value="">全部</option>{opts}</select></label>
<label>PO号<input name="po" value="{_esc(filters.get('po'))}" placeholder="如 PO123 或 PO123-1"></label>
<label>期间<input name="period" value="{_esc(filters.get('period'))}" placeholder="YYYY-MM"></label>
<label>状态<select name="status"><option value="">全部</option>{status_opts}</select></label>
<button type="submit">筛选</button><a href="./">清除</a></form>
<div class="wrap"><table id="packs"><thead><tr><th>区域</th><th>PO-行</th><th>服务类型</th><th>客户</th><th>验收周期</th>
<th>金额</th><th>状态</th><th>阻塞原因</th><th>版本 / 变化</th><th>编制日期</th><th>下载</th></tr></thead>
<tbody>{"".join(rows) or '<tr><td colspan="11">没有符合条件的验收包</td></tr>'}</tbody></table></div>
<h2>驻场报告（业务日期 {_esc(reports_date or "—")}）</h2>
<p class="muted">未到期＝报告期未结束或尚未到提交日；已生成＝按时生成；逾期生成＝首次生成晚于提交日；缺失＝已过提交日仍未生成。
<a href="api/reports">JSON</a></p>
<div class="wrap"><table id="reports"><thead><tr><th>区域</th><th>类型</th><th>工程师</th><th>客户</th><th>工单</th>
<th>报告期间</th><th>提交日</th><th>状态</th><th>版本 / 首次生成</th><th>下载</th></tr></thead>
<tbody>{report_rows or '<tr><td colspan="10">暂无驻场报告</td></tr>'}</tbody></table></div>
<h2>运行结果文件</h2>
<div class="wrap"><table id="run-files"><thead><tr><th>业务日期</th><th>区域</th><th>文件</th></tr></thead>
<tbody>{file_rows or '<tr><td colspan="3">暂无</td></tr>'}</tbody></table></div>
<h2>问题说明（业务日期 {_esc(findings_date)}，黄色为较前一业务日期新增）</h2>
<div class="wrap"><table id="findings"><thead><tr><th>规则</th><th>区域</th><th>对象</th><th>新增</th><th>说明</th></tr></thead>
<tbody>{"".join(finding_rows) or '<tr><td colspan="5">没有未关闭的问题</td></tr>'}</tbody></table></div>
</body>"""


# ---------------------------------------------------------------- app

app = FastAPI(title="fieldrecon 验收包下载", docs_url=None, redoc_url=None, openapi_url=None,
              dependencies=[Depends(requires_authenticated())])


@app.get("/", response_class=HTMLResponse)
def page(user: GetUserDep, engine: EngineDep, store: StoreDep, region: str | None = Query(None),
         po: str | None = Query(None), period: str | None = Query(None), status: str | None = Query(None)):
    regions = regions_of(user)
    rows = pack_list(engine, regions, region or None, po or None, period or None, status or None)
    d, findings = findings_list(engine, regions)
    rd, reports = report_list(engine, regions)
    html = render_page(user_name(user), regions, rows, run_files(store, regions), d, findings,
                       {"region": region, "po": po, "period": period, "status": status}, rd, reports)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


@app.get("/api/packs")
def api_packs(user: GetUserDep, engine: EngineDep, store: StoreDep, region: str | None = Query(None),
              po: str | None = Query(None), period: str | None = Query(None), status: str | None = Query(None)):
    regions = regions_of(user)
    return JSONResponse({"user": user_name(user), "regions": None if regions is None else sorted(regions),
                         "packs": pack_list(engine, regions, region or None, po or None, period or None, status or None),
                         "run_files": run_files(store, regions)})


@app.get("/api/findings")
def api_findings(user: GetUserDep, engine: EngineDep, business_date: str | None = Query(None)):
    try:
        d = dt.date.fromisoformat(business_date) if business_date else None
    except ValueError:
        raise HTTPException(422, "business_date: YYYY-MM-DD") from None
    d, rows = findings_list(engine, regions_of(user), d)
    return JSONResponse({"business_date": d.isoformat() if d else None, "findings": rows})


@app.get("/api/reports")
def api_reports(user: GetUserDep, engine: EngineDep):
    d, rows = report_list(engine, regions_of(user))
    return JSONResponse({"business_date": d.isoformat() if d else None, "reports": rows},
                        headers={"Cache-Control": "no-store"})


@app.get("/reports/{path:path}")
def download_report(path: str, user: GetUserDep, engine: EngineDep, root: ReportsDirDep):
    target = resolve_report(engine, root, path, regions_of(user))
    return FileResponse(target, filename=target.name, media_type={
        ".pdf": "application/pdf", ".html": "text/html; charset=utf-8",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[target.suffix])


@app.get("/files/{path:path}")
def download(path: str, user: GetUserDep, store: StoreDep):
    target = resolve_download(store, path, regions_of(user))
    return FileResponse(target, filename=target.name, media_type=(
        "application/zip" if target.suffix == ".zip" else None))


def _finding_region(engine, finding_id: str):
    import sqlalchemy as sa

    with engine.connect() as conn:
        row = conn.execute(sa.text("select region from recon.finding_snapshots where finding_id = :f "
                                   "order by business_date desc limit 1"), {"f": finding_id}).first()
    if row is None:
        raise HTTPException(404)
    return row[0]


@app.post("/triage")
def triage(user: GetUserDep, engine: EngineDep, finding_id: str = Form(...), reason: str = Form(...),
           filing_ref: str = Form("")):
    import sqlalchemy as sa

    if not allowed(regions_of(user), _finding_region(engine, finding_id)):
        raise HTTPException(404)
    if not reason.strip():
        raise HTTPException(422, "说明原因不能为空")
    who = user_name(user)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "insert into recon.triage_marks (finding_id, reason, filing_ref, marked_by, marked_at) "
            "values (:f, :r, :b, :u, now()) on conflict (finding_id) do update set reason = excluded.reason, "
            "filing_ref = excluded.filing_ref, marked_by = excluded.marked_by, marked_at = excluded.marked_at"),
            {"f": finding_id, "r": reason.strip(), "b": filing_ref.strip() or None, "u": who})
        conn.execute(sa.text("insert into recon.triage_log (finding_id, action, reason, filing_ref, actor, at) "
                             "values (:f, 'mark', :r, :b, :u, now())"),
                     {"f": finding_id, "r": reason.strip(), "b": filing_ref.strip() or None, "u": who})
    return RedirectResponse("./#findings", status_code=303)


@app.post("/triage/unmark")
def triage_unmark(user: GetUserDep, engine: EngineDep, finding_id: str = Form(...)):
    import sqlalchemy as sa

    if not allowed(regions_of(user), _finding_region(engine, finding_id)):
        raise HTTPException(404)
    with engine.begin() as conn:
        conn.execute(sa.text("delete from recon.triage_marks where finding_id = :f"), {"f": finding_id})
        conn.execute(sa.text("insert into recon.triage_log (finding_id, action, actor, at) "
                             "values (:f, 'unmark', :u, now())"), {"f": finding_id, "u": user_name(user)})
    return RedirectResponse("../#findings", status_code=303)


class FieldreconDownloadsPlugin(AirflowPlugin):
    name = "fieldrecon_downloads"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "fieldrecon 验收包下载"}]
    external_views = [{
        "name": "验收包下载",
        "href": URL_PREFIX + "/",
        "destination": "nav",
        "category": "browse",
        "url_route": ROUTE,
    }]
