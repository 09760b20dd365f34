"""The settings object and where the warehouse comes from (no database needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldrecon import settings
from fieldrecon.warehouse import connection

pytestmark = pytest.mark.unit


def test_settings_are_read_at_call_time(monkeypatch, tmp_path):
    monkeypatch.setenv("FIELDRECON_HOME", str(tmp_path))
    for name in ("LANDING", "ARCHIVE", "OUTPUT", "PACKS", "REPORTS"):
        monkeypatch.delenv(f"FIELDRECON_{name}", raising=False)
    assert settings.home() == tmp_path.resolve()
    assert settings.landing_url() == str(tmp_path / "landing")
    assert settings.archive_dir() == tmp_path / "archive"
    assert settings.output_root() == tmp_path / "outputs"
    assert settings.packs_dir() == tmp_path / "packs"
    assert settings.reports_dir() == tmp_path / "reports"
    monkeypatch.setenv("FIELDRECON_LANDING", "sftp://drop.example.invalid/outbox")
    monkeypatch.setenv("FIELDRECON_OUTPUT", str(tmp_path / "o"))
    assert settings.landing_url() == "sftp://drop.example.invalid/outbox"
    assert settings.output_root() == tmp_path / "o"
    assert isinstance(settings.calendar_file(), Path) and settings.calendar_file().exists()


def test_every_setting_says_what_it_means_and_who_reads_it():
    for name, field in settings.Settings.model_fields.items():
        assert field.description and len(field.description) > 20, name
        extra = field.json_schema_extra
        assert set(extra) == {"used_by", "path", "deploy"}, name
        assert set(extra["used_by"]) <= {settings.WORKER, settings.API}, name


def test_no_module_reads_fieldrecon_variables_behind_the_settings_back():
    import re

    offenders = []
    for folder in ("src", "dags", "plugins"):
        for f in (settings.PROJECT_ROOT / folder).rglob("*.py"):
            if f.name == "settings.py":
                continue
            text = f.read_text(encoding="utf-8")
            for m in re.finditer(r"(?:environ\.get\s*\(|getenv\s*\(|environ\[)\s*[\"'](FIELDRECON_\w+)[\"'](?!\]\s*=[^=])", text):
                offenders.append(f"{f.relative_to(settings.PROJECT_ROOT)}: {m.group(1)}")
    assert not offenders, "read them through fieldrecon.settings:\n" + "\n".join(offenders)


def test_warehouse_from_a_json_connection_keeps_libpq_extras(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", '{"conn_type": "postgres", "login": "recon", "password": "p@ss", '
                       '"host": "db.example.invalid", "port": 5432, "schema": "wh", '
                       '"extra": {"sslmode": "verify-full", "sslrootcert": "/etc/ca.pem", "sqlalchemy_scheme": "x"}}')
    url = connection.warehouse_url()
    assert url.startswith("postgresql+psycopg2://recon:p%40ss@db.example.invalid:5432/wh?")
    assert "sslmode=verify-full" in url and "sslrootcert=%2Fetc%2Fca.pem" in url and "sqlalchemy_scheme" not in url


def test_warehouse_through_the_airflow_connection_when_under_airflow(monkeypatch):
    """Inside a task the lookup goes through BaseHook.get_connection (here: its environment backend)."""
    monkeypatch.setattr(connection, "_under_airflow", lambda: True)
    monkeypatch.setenv("FIELDRECON_WAREHOUSE_CONN_ID", "wh_prod")
    monkeypatch.setenv("AIRFLOW_CONN_WH_PROD", "postgres://u:pw@wh.example.invalid:6432/recon?sslmode=require")
    seen = []
    from airflow.sdk import BaseHook

    real = BaseHook.get_connection.__func__

    def spy(cls, conn_id):
        seen.append(conn_id)
        return real(cls, conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(spy))
    url = connection.warehouse_url()
    assert seen == ["wh_prod"]
    assert url == "postgresql+psycopg2://u:pw@wh.example.invalid:6432/recon?sslmode=require"


def test_production_without_a_warehouse_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_WAREHOUSE", raising=False)
    monkeypatch.setenv("FIELDRECON_PRODUCTION", "true")
    monkeypatch.setattr(connection, "embedded_url", lambda *a: pytest.fail("embedded server started in production"))
    with pytest.raises(connection.WarehouseNotConfigured, match="Airflow connection 'warehouse'"):
        connection.warehouse_url()
