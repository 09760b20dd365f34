"""The page, rendered from `include/templates/portal/*.html.j2` through the package's autoescaped
Jinja environment (outputs.render.environment). Its font: Noto Sans SC cut to the page's characters
(tens of KB, inline), so the page reads right on a machine without a Chinese font."""

from __future__ import annotations

import base64
import html

from fieldrecon.outputs.render import environment, font_subset
from fieldrecon.portal.queries import FINDING_STATUS_ZH, PACK_STATUS_ZH, REPORT_FORMATS, REPORT_STATUS_ZH
from fieldrecon.portal.triage import FILING_REF_MAX, REASON_MAX


def font_face(text: str) -> str:
    chars = "".join(sorted({c for c in html.unescape(text) if ord(c) > 0x7F}))
    try:
        data = base64.b64encode(font_subset(chars, 400)).decode()
    except Exception:  # noqa: BLE001 - the font package missing only costs the fallback fonts
        return ""
    return ('@font-face{font-family:"FR Noto Sans SC";font-weight:400;'
            f'src:url(data:font/ttf;base64,{data}) format("truetype")}}')


def _render(template: str, context: dict) -> str:
    tpl = environment().get_template(f"portal/{template}")
    draft = tpl.render(**context, font_css="")
    return tpl.render(**context, font_css=font_face(draft))


def render_page(*, user: str, regions, can_mark: bool, csrf_token: str, filters, packs, files, reports_date,
                reports, findings_date, findings, rule_codes, timeliness=None) -> str:
    region_choices = sorted({p["region"] or "" for p in packs} | set(regions or ()) | ({filters.region} - {""}))
    scope = "全部区域" if regions is None else ("、".join(sorted(regions)) or "（未分配区域）")
    return _render("page.html.j2", {
        "user": user, "scope": scope, "can_mark": can_mark, "csrf_token": csrf_token, "f": filters,
        "region_choices": region_choices, "rule_codes": rule_codes,
        "pack_statuses": PACK_STATUS_ZH, "report_statuses": REPORT_STATUS_ZH, "finding_statuses": FINDING_STATUS_ZH,
        "packs": packs, "files": files, "reports_date": reports_date, "reports": reports,
        "report_formats": REPORT_FORMATS, "findings_date": findings_date, "findings": findings,
        "reason_max": REASON_MAX, "filing_ref_max": FILING_REF_MAX,
        "timeliness": timeliness or {"business_date": None, "reminders": [], "charts": []},
    })


def render_message(title: str, message: str, back: str = "./") -> str:
    """A short Chinese page for a refused form (why, and the way back)."""
    return _render("message.html.j2", {"title": title, "message": message, "back": back})
