"""The clerks' download page as a FastAPI app (mounted by plugins/fieldrecon_downloads.py at
`/fieldrecon`, shown inside the Airflow UI from the menu entry 验收包下载).

Every route requires an authenticated Airflow user (plugin apps are not authenticated by Airflow by
itself): without credentials 401. A clerk sees and downloads only their regions' packs, run files and
reports (access.py); any other path — another region's file, `../`, absolute or encoded paths,
symlinks out of a folder — is 404 and never opened (paths.py). Writes (`POST /triage`,
`POST /triage/unmark`) need the write permission (access.can_mark) and pass the forged-request
checks (csrf.py). Links are relative, so the app works behind a URL prefix; `/fieldrecon` without the
trailing slash is redirected (TrailingSlash, a root middleware).

Routes: `GET /` (the page), `GET /api/packs`, `GET /api/findings`, `GET /api/reports`,
`GET /api/session` (user, regions, may mark, the form token), `GET /files/<path>` (a pack or a run
file), `GET /reports/<path>` (a resident report: HTML, PDF or Excel), `POST /triage`,
`POST /triage/unmark`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

from airflow.api_fastapi.core_api.security import GetUserDep, requires_authenticated
from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse

from fieldrecon.portal import csrf, paths, queries, timeliness, triage
from fieldrecon.portal.access import allowed, can_mark, regions_of, user_name
from fieldrecon.portal.page import render_message, render_page

URL_PREFIX = "/fieldrecon"
NO_STORE = {"Cache-Control": "no-store"}


_ENGINE = None


def get_engine():
    """The warehouse (tests override this dependency)."""
    from fieldrecon.warehouse import connection

    global _ENGINE
    if _ENGINE is None:
        _ENGINE = connection.engine()
    return _ENGINE


def get_store() -> Path:
    from fieldrecon.outputs.packs import packs_dir

    return packs_dir()


def get_reports_dir() -> Path:
    from fieldrecon.outputs.reports import reports_dir

    return reports_dir()


EngineDep = Annotated[object, Depends(get_engine)]
StoreDep = Annotated[Path, Depends(get_store)]
ReportsDirDep = Annotated[Path, Depends(get_reports_dir)]


def filters(region: str | None = Query(None), po: str | None = Query(None), period: str | None = Query(None),
            rule: str | None = Query(None), status: str | None = Query(None),
            report_status: str | None = Query(None), finding_status: str | None = Query(None)) -> queries.Filters:
    return queries.Filters.of(region=region, po=po, period=period, rule=rule, pack_status=status,
                              report_status=report_status, finding_status=finding_status)


FiltersDep = Annotated[queries.Filters, Depends(filters)]

app = FastAPI(title="fieldrecon 验收包下载", docs_url=None, redoc_url=None, openapi_url=None,
              dependencies=[Depends(requires_authenticated())])


class TrailingSlash:
    """A root middleware: `/fieldrecon` (no slash) → 307 to `fieldrecon/`, a relative location, so it
    also works behind a URL prefix. Everything else passes through."""

    def __init__(self, asgi_app, prefix: str = URL_PREFIX):
        self.app, self.prefix = asgi_app, prefix

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            path = scope.get("path", "")
            root = scope.get("root_path", "")
            rel = path[len(root):] if root and path.startswith(root) else path
            if rel == self.prefix:
                qs = scope.get("query_string", b"").decode("latin-1")
                target = self.prefix.rsplit("/", 1)[-1] + "/" + (f"?{qs}" if qs else "")
                await RedirectResponse(target, status_code=307)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _who(user) -> tuple[str, set[str] | None]:
    return user_name(user), regions_of(user)


@app.get("/", response_class=HTMLResponse)
def page(request: Request, user: GetUserDep, engine: EngineDep, store: StoreDep, f: FiltersDep):
    from fieldrecon.recon.rules import catalogue

    name, regions = _who(user)
    session, new = csrf.session_value(request)
    reports_date, reports = queries.report_list(engine, regions, f)
    findings_date, findings = queries.findings_list(engine, regions, f=f)
    body = render_page(
        user=name, regions=regions, can_mark=can_mark(user), csrf_token=csrf.token_for(session, name),
        filters=f, packs=queries.pack_list(engine, regions, f), files=queries.run_files(store, regions, f),
        reports_date=reports_date, reports=reports, findings_date=findings_date, findings=findings,
        rule_codes=sorted(catalogue()), timeliness=timeliness.timeliness_view(engine, regions))
    response = HTMLResponse(body, headers={**NO_STORE, "X-Frame-Options": "SAMEORIGIN"})
    if new:
        csrf.remember(request, response, session)
    csrf.harden_session_cookie(request, response)
    return response


@app.get("/api/session")
def api_session(request: Request, user: GetUserDep):
    """Who the page sees, and the form token of this browser session (for scripts that mark)."""
    name, regions = _who(user)
    session, new = csrf.session_value(request)
    response = JSONResponse({"user": name, "regions": None if regions is None else sorted(regions),
                             "can_mark": can_mark(user), "csrf_token": csrf.token_for(session, name)},
                            headers=NO_STORE)
    if new:
        csrf.remember(request, response, session)
    return response


@app.get("/api/packs")
def api_packs(user: GetUserDep, engine: EngineDep, store: StoreDep, f: FiltersDep):
    name, regions = _who(user)
    return JSONResponse({"user": name, "regions": None if regions is None else sorted(regions),
                         "packs": queries.pack_list(engine, regions, f),
                         "run_files": queries.run_files(store, regions, f)}, headers=NO_STORE)


@app.get("/api/findings")
def api_findings(user: GetUserDep, engine: EngineDep, f: FiltersDep, business_date: str | None = Query(None)):
    try:
        d = dt.date.fromisoformat(business_date) if business_date else None
    except ValueError:
        raise HTTPException(422, "business_date: YYYY-MM-DD") from None
    d, rows = queries.findings_list(engine, regions_of(user), d, f)
    return JSONResponse({"business_date": d.isoformat() if d else None, "findings": rows}, headers=NO_STORE)


@app.get("/api/reports")
def api_reports(user: GetUserDep, engine: EngineDep, f: FiltersDep):
    d, rows = queries.report_list(engine, regions_of(user), f)
    return JSONResponse({"business_date": d.isoformat() if d else None, "reports": rows}, headers=NO_STORE)


@app.get("/reports/{path:path}")
def download_report(path: str, user: GetUserDep, engine: EngineDep, root: ReportsDirDep):
    regions = regions_of(user)
    target = paths.resolve_report(root, path, lambda rel: queries.report_path_allowed(engine, regions, rel))
    return FileResponse(target, filename=target.name, media_type={
        ".pdf": "application/pdf", ".html": "text/html; charset=utf-8",
        ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}[target.suffix])


@app.get("/files/{path:path}")
def download(path: str, user: GetUserDep, store: StoreDep):
    target = paths.resolve_download(store, path, regions_of(user))
    return FileResponse(target, filename=target.name, media_type=(
        "application/zip" if target.suffix == ".zip" else None))


def _refused(status: int, message: str, back: str) -> HTMLResponse:
    return HTMLResponse(render_message("操作未完成", message, back), status_code=status, headers=NO_STORE)


def _authorise_write(request: Request, user, engine, finding_id: str, token: str, back: str) -> HTMLResponse | None:
    """None when the write may go ahead, else the refusal page: forged request 403, no write
    permission 403, unknown finding or another region's 404."""
    try:
        csrf.check(request, user_name(user), token)
    except HTTPException as e:
        return _refused(e.status_code, e.detail, back)
    if not can_mark(user):
        return _refused(403, "您的角色只能查看：标记“已说明”需要有写权限的角色（文员组长）。", back)
    known, region = queries.finding_region(engine, finding_id)
    if not known or not allowed(regions_of(user), region):
        return _refused(404, "没有这个问题，或它不属于您的区域。", back)
    return None


@app.post("/triage")
def mark(request: Request, user: GetUserDep, engine: EngineDep, finding_id: str = Form(...),
         reason: str = Form(...), filing_ref: str = Form(""), csrf_token: str = Form("")):
    refused = _authorise_write(request, user, engine, finding_id, csrf_token, "./")
    if refused is not None:
        return refused
    try:
        triage.mark(engine, finding_id, reason, filing_ref, user_name(user))
    except triage.TriageError as e:
        return _refused(422, str(e), "./")
    return RedirectResponse("./#findings", status_code=303)


@app.post("/triage/unmark")
def unmark(request: Request, user: GetUserDep, engine: EngineDep, finding_id: str = Form(...),
           csrf_token: str = Form("")):
    refused = _authorise_write(request, user, engine, finding_id, csrf_token, "../")
    if refused is not None:
        return refused
    triage.unmark(engine, finding_id, user_name(user))
    return RedirectResponse("../#findings", status_code=303)
