"""Forged requests refused: every state-changing route needs

1. an `Origin` (else a `Referer`) that is this server's own origin — the Host the browser asked, or
   `[api] base_url` — so a page on another port or another host name of the same machine is refused;
2. a per-session token in the form: HMAC(server key, session cookie ‖ user), where the session cookie
   `fieldrecon_csrf` is a random value set with the page (HttpOnly, SameSite=Strict, path = the app).
   A page elsewhere can neither read the token nor compute it, even if it plants its own cookie
   (cookies do not separate ports), because the key never leaves the server.

The key is derived from Airflow's `[api_auth] jwt_secret` (shared by every api-server worker), else
a random per-process key. Airflow's login sets the `_token` cookie from JavaScript without SameSite;
`harden_session_cookie` re-sets it HttpOnly and SameSite=Lax (what Airflow's own token refresh uses)
on the page's responses.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import urllib.parse

from fastapi import HTTPException, Request, Response

COOKIE = "fieldrecon_csrf"
FIELD = "csrf_token"


@functools.lru_cache(maxsize=1)
def _key() -> bytes:
    secret = ""
    try:
        from airflow.configuration import conf

        secret = conf.get("api_auth", "jwt_secret", fallback="") or ""
    except Exception:  # noqa: BLE001 - no Airflow config: a per-process key still protects
        secret = ""
    if not secret:
        return secrets.token_bytes(32)
    return hmac.new(secret.encode(), b"fieldrecon portal csrf", hashlib.sha256).digest()


def _cookie_path(request: Request) -> str:
    return (request.scope.get("root_path") or "").rstrip("/") + "/"


def session_value(request: Request) -> tuple[str, bool]:
    """(the browser session's random value, whether it is new and must be set with `remember`)."""
    value = request.cookies.get(COOKIE, "")
    if len(value) >= 32:
        return value, False
    return secrets.token_urlsafe(32), True


def remember(request: Request, response: Response, value: str) -> None:
    response.set_cookie(COOKIE, value, path=_cookie_path(request), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def token_for(session: str, user: str) -> str:
    return hmac.new(_key(), f"{session}\n{user}".encode(), hashlib.sha256).hexdigest()


def _origin(url: str) -> str | None:
    p = urllib.parse.urlsplit(url)
    if not p.scheme or not p.netloc:
        return None
    return f"{p.scheme}://{p.netloc}".lower()


def own_origins(request: Request) -> set[str]:
    own = {f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
    try:
        from airflow.configuration import conf

        base = _origin(conf.get("api", "base_url", fallback="") or "")
    except Exception:  # noqa: BLE001 - outside Airflow only the Host counts
        base = None
    if base:
        own.add(base)
    return own


def check(request: Request, user: str, token: str) -> None:
    """403 unless the request comes from this server's own page with this session's token."""
    sent = request.headers.get("origin") or ""
    origin = _origin(sent) if sent and sent != "null" else None
    if origin is None and not sent:
        origin = _origin(request.headers.get("referer") or "")
    if origin is None or origin not in own_origins(request):
        raise HTTPException(403, "请求来源不是本页面（跨站请求已拒绝）")
    session = request.cookies.get(COOKIE, "")
    if len(session) < 32 or not token or not hmac.compare_digest(token, token_for(session, user)):
        raise HTTPException(403, "页面已过期或请求无效：请刷新页面后重试")


def harden_session_cookie(request: Request, response: Response) -> None:
    """Re-set Airflow's `_token` cookie HttpOnly and SameSite=Lax (same value, same path)."""
    token = request.cookies.get("_token")
    if not token:
        return
    try:
        from airflow.api_fastapi.app import get_cookie_path

        path = get_cookie_path()
    except Exception:  # noqa: BLE001 - outside the api-server
        return
    response.set_cookie("_token", token, path=path, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https")
