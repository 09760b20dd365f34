"""Where things live. Every path and the warehouse address come from the environment,
with defaults inside the project's git-ignored data area (`var/`)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "include" / "sql"
TEMPLATES_DIR = PROJECT_ROOT / "include" / "templates"
LOCAL_TZ = "Asia/Shanghai"


def home() -> Path:
    return Path(os.environ.get("FIELDRECON_HOME", PROJECT_ROOT / "var")).resolve()


def landing_url() -> str:
    """The extract source: a local folder by default, any fsspec/ObjectStoragePath URL otherwise."""
    return os.environ.get("FIELDRECON_LANDING", str(home() / "landing"))


def archive_dir() -> Path:
    return Path(os.environ.get("FIELDRECON_ARCHIVE", home() / "archive"))


def output_root() -> Path:
    return Path(os.environ.get("FIELDRECON_OUTPUT", home() / "outputs"))


def calendar_file() -> Path:
    return Path(os.environ.get("FIELDRECON_CALENDAR_FILE", PROJECT_ROOT / "include" / "calendar" / "extra_days.csv"))
