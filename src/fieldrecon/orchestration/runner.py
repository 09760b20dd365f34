"""Running the nightly DAG in-process (`dag.test`) for one business date, on a local Airflow
home inside the data area (SQLite metadata; the warehouse stays on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from fieldrecon import settings

DAG_ID = "fieldrecon_nightly"


def airflow_env() -> dict[str, str]:
    home = settings.home() / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    for k, v in env.items():
        os.environ.setdefault(k, v)
    return {k: os.environ[k] for k in env}


WAREHOUSE_POOL = ("fieldrecon_warehouse", "4", "heavy SQL against the warehouse: loads and rule families")


def migrate_metadata() -> None:
    """Migrate the Airflow metadata DB and create the pool the DAG's heavy tasks use. The local SQLite
    file, once done by this Airflow release with this pool, is not done again (two CLI processes, ~5 s
    of every run otherwise); any other metadata DB is migrated every time."""
    from importlib.metadata import version

    env = dict(os.environ) | airflow_env()
    conn = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    db_file = Path(conn.removeprefix("sqlite:///")) if conn.startswith("sqlite:///") else None
    stamp = Path(env["AIRFLOW_HOME"]) / "fieldrecon-metadata.json"
    done = json.dumps({"airflow": version("apache-airflow"), "db": conn, "pool": WAREHOUSE_POOL})
    if db_file and db_file.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == done:
        return
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([airflow, "pools", "set", *WAREHOUSE_POOL], env=env, check=True, stdout=subprocess.DEVNULL)
    if db_file:
        stamp.write_text(done, encoding="utf-8")


def run_dag(business_date: dt.date, conf: dict | None = None) -> dict:
    """Run every task of the nightly DAG for `business_date`; returns the run summary."""
    airflow_env()
    migrate_metadata()
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.dags[DAG_ID]
    run_conf = {"business_date": business_date.isoformat(), **(conf or {})}
    # a logical date whose interval ends at 02:00 the day after the business date, like the nightly run
    logical = pendulum.datetime(business_date.year, business_date.month, business_date.day, 2, tz=settings.LOCAL_TZ)
    dag_run = dag.test(logical_date=logical, run_conf=run_conf)
    state = str(getattr(dag_run, "state", ""))
    if "success" not in state:
        raise RuntimeError(f"DAG run for {business_date} ended in state {state}")
    out_root = Path(run_conf.get("output_root") or settings.output_root())
    return json.loads((out_root / business_date.isoformat() / "run_summary.json").read_text(encoding="utf-8"))
