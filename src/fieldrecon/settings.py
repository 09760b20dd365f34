"""Every setting of fieldrecon in one place: `Settings` names each with its default and meaning.

Values come from `FIELDRECON_*` environment variables and are read at call time (`get()` builds a
fresh object), so a test's `monkeypatch.setenv` or the CLI's `--landing` take effect at once.
Paths default into the project's git-ignored data area (`var/`). Airflow's own configuration
(`AIRFLOW__*`, `AIRFLOW_CONN_*`) is Airflow's: the connections named here (`warehouse`,
`smtp_default`, the landing's) are looked up through Airflow when running under it.

Each field says which deployed services read it (`used_by`: "worker" runs tasks, "apiserver" serves
the download page) and, for paths, whether they write it; tests/orchestration/test_deployment.py
checks docker-compose.yaml, .env.example, the README table and the runbook against this list.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQL_DIR = PROJECT_ROOT / "include" / "sql"
TEMPLATES_DIR = PROJECT_ROOT / "include" / "templates"
LOCAL_TZ = "Asia/Shanghai"

WORKER, API = "worker", "apiserver"


def _meta(used_by: tuple[str, ...], *, path: str | None = None, deploy: bool = False) -> dict:
    """used_by: services that read the setting; path: "read" / "write" for a folder or file the
    services share; deploy: compose must set it explicitly (its default is for a laptop only)."""
    return {"used_by": list(used_by), "path": path, "deploy": deploy or path is not None}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIELDRECON_", extra="ignore", frozen=True)

    home: Path = Field(PROJECT_ROOT / "var", description="Data area; the default parent of every path below "
                       "(a deployment sets each of them).", json_schema_extra=_meta((WORKER, API), deploy=True))
    production: bool = Field(False, description="Production mode: the warehouse must be configured (Airflow "
                             "connection or AIRFLOW_CONN_WAREHOUSE); never start an embedded PostgreSQL.",
                             json_schema_extra=_meta((WORKER, API), deploy=True))
    landing: str | None = Field(None, description="Where extracts arrive: a folder, or an sftp:// / s3:// URL "
                                "(read through the Airflow providers' filesystems). Default: HOME/landing.",
                                json_schema_extra=_meta((WORKER,), path="read"))
    landing_conn_id: str | None = Field(None, description="Airflow connection of a remote landing (sftp:// or "
                                        "s3://); unset: the provider's default (sftp_default, aws_default).",
                                        json_schema_extra=_meta((WORKER,)))
    archive: Path | None = Field(None, description="Content-addressed archive of every pulled file. "
                                 "Default: HOME/archive.", json_schema_extra=_meta((WORKER,), path="write"))
    output: Path | None = Field(None, description="Per-date outputs (findings, workbooks, run_summary.json). "
                                "Default: HOME/outputs.", json_schema_extra=_meta((WORKER, API), path="write"))
    packs: Path | None = Field(None, description="Acceptance packs (versioned zips) served to clerks. "
                               "Default: HOME/packs.", json_schema_extra=_meta((WORKER, API), path="write"))
    reports: Path | None = Field(None, description="Resident (驻场) reports served to clerks. Default: HOME/reports.",
                                 json_schema_extra=_meta((WORKER, API), path="write"))
    calendar_file: Path = Field(PROJECT_ROOT / "include" / "calendar" / "extra_days.csv",
                                description="Extra working days / holidays on top of chinesecalendar.",
                                json_schema_extra=_meta((WORKER,)))
    warehouse_conn_id: str = Field("warehouse", description="Airflow connection of the warehouse PostgreSQL "
                                   "(outside Airflow: the AIRFLOW_CONN_WAREHOUSE variable).",
                                   json_schema_extra=_meta((WORKER, API)))
    db: str = Field("fieldrecon", description="Database name on the embedded server (laptop, CI; not in production).",
                    json_schema_extra=_meta(()))
    alert_to: str | None = Field(None, description="Recipients (comma-separated) of failure alerts; unset: "
                                 "alerts are only logged.", json_schema_extra=_meta((WORKER,), deploy=True))
    alert_from: str | None = Field(None, description="Sender of failure alerts; unset: the SMTP connection's "
                                   "from_email extra.", json_schema_extra=_meta((WORKER,)))
    alert_smtp_conn_id: str = Field("smtp_default", description="Airflow SMTP connection alerts are sent "
                                    "through (SmtpNotifier).", json_schema_extra=_meta((WORKER,)))
    alert_webhook_conn_id: str | None = Field(None, description="Airflow HTTP connection a JSON alert is "
                                              "posted to as well (HttpNotifier); unset: no webhook.",
                                              json_schema_extra=_meta((WORKER,)))
    digest_to: str | None = Field(None, description="Recipients of the daily reminder digest per region: "
                                  "`浙江:a@x.cn,b@x.cn;上海:c@x.cn;*:lead@x.cn` (`*`: every region's digest); "
                                  "unset: no digest is mailed.", json_schema_extra=_meta((WORKER,)))
    digest_from: str | None = Field(None, description="Sender of the reminder digest; unset: the SMTP "
                                    "connection's from_email extra.", json_schema_extra=_meta((WORKER,)))
    digest_smtp_conn_id: str = Field("smtp_default", description="Airflow SMTP connection the reminder digest "
                                     "is sent through (SmtpNotifier).", json_schema_extra=_meta((WORKER,)))
    clerk_regions: str = Field("admin:*", description="Which user sees which regions on the download page: "
                               "`user:region,region;user2:*` (`*`: every region).", json_schema_extra=_meta((API,), deploy=True))
    gx: bool = Field(True, description="Run the Great Expectations checkpoint in the quality step (Data Docs in "
                     "each run's outputs, that date's validations only: one ephemeral GX context per run).", json_schema_extra=_meta((WORKER,)))
    go_live: dt.date | None = Field(None, description="The system's go-live: the first business date it ran for. "
                                    "A resident report due before it was rendered afterwards by the install and "
                                    "reads 补生成 (backfilled), never 逾期生成. Unset: the earliest extract date "
                                    "in the warehouse.", json_schema_extra=_meta((WORKER,)))
    run_lease_hours: float = Field(12.0, description="A run still marked running on another host, or under "
                                   "Airflow, counts as dead (failed) when no step reported for this many hours; "
                                   "an in-process run on this host counts as dead once its process is gone.",
                                   json_schema_extra=_meta((WORKER,)))
    log: str = Field("WARNING", description="Log level of the `python -m fieldrecon` command line.",
                     json_schema_extra=_meta(()))


def get() -> Settings:
    """The settings as the environment says now (cheap; never cached)."""
    return Settings()


def env_name(field: str) -> str:
    return f"FIELDRECON_{field.upper()}"


# thin accessors (the API the rest of the code uses)


def home() -> Path:
    return get().home.resolve()


def landing_url() -> str:
    """The extract source: a local folder by default, an sftp:// or s3:// URL otherwise."""
    return get().landing or str(home() / "landing")


def archive_dir() -> Path:
    return get().archive or home() / "archive"


def output_root() -> Path:
    return get().output or home() / "outputs"


def packs_dir() -> Path:
    return (get().packs or home() / "packs").resolve()


def reports_dir() -> Path:
    return (get().reports or home() / "reports").resolve()


def calendar_file() -> Path:
    return get().calendar_file


def clerk_regions() -> str:
    return get().clerk_regions
