"""Which file a download link may open. Resolve first, then authorise: a link's text is checked
syntactically (no `..`, `.`, empty part, absolute or drive path, backslash, percent, NUL), then the
path is resolved (symlinks followed) and the region is taken from where the file really is. A symlink
that leads out of the folder it sits in (another region, another date, outside the store) is refused
for everyone; nothing refused is ever opened. Every refusal is 404 (no hint what exists)."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from fastapi import HTTPException

from fieldrecon.outputs.packs import region_dir

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def safe_relative(raw: str, min_parts: int = 2) -> tuple[str, ...]:
    """The parts of a plain relative path, or 404."""
    if not raw or "\x00" in raw or "\\" in raw or "%" in raw or raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise HTTPException(404)
    parts = PurePosixPath(raw).parts
    if any(p in ("..", ".", "") for p in parts) or len(parts) < min_parts:
        raise HTTPException(404)
    return parts


def _resolved_inside(root: Path, parts: tuple[str, ...]) -> tuple[Path, tuple[str, ...]]:
    """The existing regular file `root/parts` resolves to and its parts relative to the resolved
    root, or 404 when it is missing or leaves the root."""
    base = root.resolve()
    try:
        path = base.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError):
        raise HTTPException(404) from None
    if not path.is_relative_to(base) or path == base or not path.is_file():
        raise HTTPException(404)
    return path, path.relative_to(base).parts


def _link_place(parts: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    """(parts inside the store, region folder) a link names: `packs/<region>/…/x.zip` is the zip
    `<store>/<region>/…/x.zip`, `runs/<date>/<region>/<file>` a run file; None for anything else."""
    if len(parts) >= 3 and parts[0] == "packs" and parts[1] != "runs" and parts[-1].endswith(".zip"):
        return parts[1:], parts[1]
    if len(parts) == 4 and parts[0] == "runs" and _DATE.fullmatch(parts[1]):
        return parts, parts[2]
    return None


def resolve_download(store: Path, raw: str, regions: set[str] | None) -> Path:
    """The pack or run file under the store that `raw` names, or 404. The file is resolved first and
    must sit exactly where the link says (same folders, same name: no symlink out of a region's
    folder, nor to another date or file); then its region folder must be one of the user's
    (`regions`, None = all)."""
    place = _link_place(safe_relative(raw, min_parts=3))
    if place is None:
        raise HTTPException(404)
    inside, region = place
    path, real = _resolved_inside(store, inside)
    if real != inside:
        raise HTTPException(404)
    if regions is not None and region not in {region_dir(r) for r in regions}:
        raise HTTPException(404)
    return path


def resolve_report(root: Path, raw: str, region_of_path) -> Path:
    """The resident report file `raw` names (relative to the reports folder), or 404. `raw` must be
    `weekly/…` or `monthly/…` with a report suffix; the resolved file must be the very path a
    report row names of a region the user may see (`region_of_path(rel)` → bool), so a symlink to another report —
    another region's — is refused, and it must stay inside the folder."""
    parts = safe_relative(raw)
    if parts[0] not in ("weekly", "monthly") or PurePosixPath(raw).suffix not in (".pdf", ".html", ".xlsx"):
        raise HTTPException(404)
    path, real_parts = _resolved_inside(root, parts)
    if real_parts != parts or not region_of_path(PurePosixPath(*real_parts).as_posix()):
        raise HTTPException(404)
    return path
