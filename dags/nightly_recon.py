"""
### fieldrecon nightly reconciliation

Every night at 02:00 Asia/Shanghai, for **business date** = the day before (as_of = the local
midnight ending it; a manual run may name `business_date` in its conf, `{"business_date": "2026-11-03"}`):

1. `prepare` — migrate the warehouse, refresh the working-day calendar, open the run log;
2. `pull` — copy new files from the landing location into the content-addressed archive and registry;
3. `load.*` — one task per source: header detection, typing, GX row contracts, quarantine, row accounting;
4. `quality_summary` — per-file counts, stale sources, `quarantine.xlsx`;
5. `rules.*` — the rule families (check-in, attendance, changes, PO) into the findings snapshot of the date;
6. `resident_reports` — weekly/monthly 驻场 reports due per RA-08 (HTML, PDF, xlsx; versioned);
7. `exports` — `findings.csv`, `exceptions.xlsx`, `acceptance_todo.csv` …;
8. `acceptance_packs` — one versioned zip per acceptance to-do item (验收单 PDF/HTML, annex, manifest);
   `digest` — beside it, the reminder digest mail per region (when recipients and SMTP are configured);
   `finish` — `run_summary.json`.

One backfilled date is one complete run of this DAG. Logic lives in the `fieldrecon` package; this
file only wires tasks and does no database or connection work at parse time.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task, task_group

from fieldrecon.contract import SOURCES
from fieldrecon.orchestration.alerts import notify_failure
from fieldrecon.recon.rules import FAMILIES

OUTPUTS = Asset("fieldrecon://outputs/nightly")
# Heavy SQL against the warehouse (bulk loads, rule families) shares one pool, created by
# `airflow-init` in docker-compose.yaml and by fieldrecon.orchestration.runner locally.
WAREHOUSE_POOL = "fieldrecon_warehouse"


def _ctx(d: dict):
    from fieldrecon.pipeline import RunContext

    return RunContext(**d)


@dag(
    dag_id="fieldrecon_nightly",
    schedule=CronDataIntervalTimetable("0 2 * * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=4,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "on_failure_callback": notify_failure,
    },
    tags=["fieldrecon", "nightly"],
    doc_md=__doc__,
    params={},
)
def fieldrecon_nightly():
    @task(multiple_outputs=False)
    def prepare() -> dict:
        from fieldrecon import dates, pipeline

        context = get_current_context()
        dag_run = context["dag_run"]
        reference = context.get("data_interval_end") or dag_run.run_after
        business_date = dates.business_date_from(dag_run.conf, reference)
        conf = dag_run.conf or {}
        ctx = pipeline.make_context(business_date, conf.get("landing"), conf.get("output_root"), conf.get("params"))
        return pipeline.prepare(ctx, airflow_run_id=dag_run.run_id).to_dict()

    @task(multiple_outputs=False)
    def pull(ctx: dict) -> dict:
        from fieldrecon import pipeline

        return pipeline.pull_extracts(_ctx(ctx))

    @task_group(group_id="load")
    def load(ctx: dict):
        for source in SOURCES:

            @task(task_id=source, pool=WAREHOUSE_POOL, multiple_outputs=False)
            def load_one(ctx: dict, source: str = source) -> list:
                from airflow.sdk.exceptions import AirflowFailException

                from fieldrecon import pipeline
                from fieldrecon.ingest.loader import CountsDoNotAddUp

                # a bad file is rejected inside (no exception); counts that do not add up are a
                # loader bug and fail the same way on every try: no retry
                try:
                    return pipeline.load_source(_ctx(ctx), source)
                except CountsDoNotAddUp as e:
                    raise AirflowFailException(str(e)) from e

            load_one(ctx)

    @task(multiple_outputs=False)
    def quality_summary(ctx: dict) -> dict:
        from fieldrecon import pipeline

        return pipeline.quality_summary(_ctx(ctx))

    @task_group(group_id="rules")
    def rule_families(ctx: dict):
        for family in FAMILIES:

            @task(task_id=family, pool=WAREHOUSE_POOL, multiple_outputs=False)
            def run_family(ctx: dict, family: str = family) -> dict:
                from fieldrecon import pipeline

                return pipeline.run_rules(_ctx(ctx), family)

            run_family(ctx)

    @task(multiple_outputs=False)
    def resident_reports(ctx: dict) -> dict:
        from fieldrecon import pipeline

        return pipeline.resident_reports(_ctx(ctx))

    @task(multiple_outputs=False)
    def exports(ctx: dict) -> dict:
        from fieldrecon import pipeline

        return pipeline.exports(_ctx(ctx))

    @task(multiple_outputs=False)
    def acceptance_packs(ctx: dict) -> dict:
        from fieldrecon import pipeline

        return pipeline.acceptance_packs(_ctx(ctx))

    @task(multiple_outputs=False)
    def digest(ctx: dict) -> dict:
        from fieldrecon.orchestration import digest as digest_

        return digest_.send_digests(_ctx(ctx), get_current_context())

    @task(outlets=[OUTPUTS], multiple_outputs=False)
    def finish(ctx: dict) -> dict:
        from fieldrecon import pipeline

        summary = pipeline.finish(_ctx(ctx))
        return {k: summary[k] for k in ("business_date", "files", "findings_total")}

    ctx = prepare()
    pulled = pull(ctx)
    loaded = load(ctx)
    quality = quality_summary(ctx)
    checked = rule_families(ctx)
    reported = resident_reports(ctx)
    exported = exports(ctx)
    packed = acceptance_packs(ctx)
    mailed = digest(ctx)
    finished = finish(ctx)
    pulled >> loaded >> quality >> checked >> reported >> exported >> [packed, mailed]
    [packed, mailed] >> finished


fieldrecon_nightly()
