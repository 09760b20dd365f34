"""Who sees which regions and who may mark findings.

Regions: the setting `clerk_regions` (`FIELDRECON_CLERK_REGIONS`), e.g. `clerk:浙江,上海;admin:*` (`*` = every region; a user not
listed sees nothing). Marking a finding explained stops it blocking a pack, so it is a write: it needs
the auth manager's permission to change task instances of the nightly DAG (SimpleAuthManager: role
`user`, `op` or `admin`, not `viewer`; FAB: can_edit on the DAG and on Task Instances), asked through
Airflow's auth manager API so SimpleAuthManager and FAB answer alike.
"""

from __future__ import annotations

import re

from fieldrecon import settings

# The DAG whose task-instance write permission stands for "may mark findings" (orchestration/runner.py
# names the same DAG; the portal sits below orchestration and cannot import it).
NIGHTLY_DAG = "fieldrecon_nightly"


def clerk_regions(spec: str | None = None) -> dict[str, set[str] | None]:
    """`user:region,region;user2:*` → {user: {regions}} (None = every region)."""
    if spec is None:
        spec = settings.clerk_regions()
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


def can_mark(user) -> bool:
    """May this user mark findings explained (or take a mark back)? A write on the nightly DAG's task
    instances, as Airflow's auth manager sees it."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    return bool(get_auth_manager().is_authorized_dag(
        method="PUT", access_entity=DagAccessEntity.TASK_INSTANCE, details=DagDetails(id=NIGHTLY_DAG), user=user))
