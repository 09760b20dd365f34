"""The clerks' download page as an Airflow plugin: it only registers the app (fieldrecon.portal.app)
at `/fieldrecon`, the root middleware that sends `/fieldrecon` to `/fieldrecon/`, and the menu entry
验收包下载 (shown inside the UI at `/plugin/fieldrecon-downloads`; relative link, so it works behind
a URL prefix)."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from fieldrecon.portal.app import URL_PREFIX, TrailingSlash, app

ROUTE = "fieldrecon-downloads"


class FieldreconDownloadsPlugin(AirflowPlugin):
    name = "fieldrecon_downloads"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "fieldrecon 验收包下载"}]
    fastapi_root_middlewares = [{"middleware": TrailingSlash, "args": [], "kwargs": {"prefix": URL_PREFIX},
                                 "name": "fieldrecon trailing slash"}]
    external_views = [{
        "name": "验收包下载",
        "href": URL_PREFIX.lstrip("/") + "/",
        "destination": "nav",
        "category": "browse",
        "url_route": ROUTE,
    }]
