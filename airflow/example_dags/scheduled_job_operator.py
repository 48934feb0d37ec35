"""Route 1: the ScheduledJobOperator starts the job through the Temporal client and waits for it.

Needs an Airflow connection ``temporal_default`` (type ``temporal``: host 127.0.0.1, port 7233, extra
``{"namespace": "default", "task_queue": "scheduled-job"}``), or the ``TEMPORAL_*`` environment of a worker.
"""

from __future__ import annotations

import os
import pendulum
from airflow.sdk import DAG, Param

from scheduled_job_airflow import ScheduledJobOperator, ScheduledJobSensor

# Seconds between looks at a run (the tests use 1).
POLL_SECONDS = int(os.environ.get("SCHEDULED_JOB_EXAMPLE_POLL_SECONDS", "30"))
START = pendulum.datetime(2024, 5, 1, tz="UTC")

# Any job, chosen when triggering (e.g. `airflow dags trigger scheduled_job_operator --conf '{...}'`). The lock key
# comes from the workers' job catalog: example_flaky locks on ["tag"], ingest_notification_views on ["day"].
with DAG(
    dag_id="scheduled_job_operator",
    description="Run a scheduled-job job through the Temporal client, waiting in the triggerer",
    schedule=None,
    start_date=START,
    catchup=False,
    render_template_as_native_obj=True,
    params={
        "job": Param("example_flaky", type="string"),
        "args": Param({"failAttempts": 1, "tag": "airflow"}, type="object"),
    },
    tags=["scheduled-job"],
):
    ScheduledJobOperator(
        task_id="run_job",
        job="{{ params.job }}",
        args="{{ params.args }}",
        on_conflict="attach",  # a run of the same job and lock already going? wait for that one
        deferrable=True,
        poll_interval=POLL_SECONDS,
        timeout=3600,
    )

# Start now, wait elsewhere: the operator returns at once and a sensor in reschedule mode watches the run,
# holding no worker slot between pokes.
with DAG(
    dag_id="scheduled_job_start_and_sense",
    description="Start a job without waiting, then watch it with ScheduledJobSensor",
    schedule=None,
    start_date=START,
    catchup=False,
    render_template_as_native_obj=True,
    params={
        "job": Param("example_flaky", type="string"),
        "args": Param({"failAttempts": 1, "tag": "airflow-sensor"}, type="object"),
    },
    tags=["scheduled-job"],
):
    start = ScheduledJobOperator(
        task_id="start_job",
        job="{{ params.job }}",
        args="{{ params.args }}",
        wait=False,
    )
    sense = ScheduledJobSensor(
        task_id="wait_for_job",
        workflow_id="{{ ti.xcom_pull(task_ids='start_job', key='workflow_id') }}",
        run_id="{{ ti.xcom_pull(task_ids='start_job', key='run_id') }}",
        mode="reschedule",
        poke_interval=POLL_SECONDS,
        timeout=3600,
    )
    start >> sense

# The case study: ingest one day of notification-view logs per DAG run. The day is the lock, so a backfill and a
# scheduled run of the same day never run twice at once: the second attaches to the first.
with DAG(
    dag_id="ingest_notification_views_daily",
    description="Ingest the notification-view logs of the data interval's day",
    schedule="@daily",
    start_date=START,
    catchup=False,
    max_active_runs=3,
    tags=["scheduled-job"],
):
    ScheduledJobOperator(
        task_id="ingest",
        job="ingest_notification_views",
        args={"day": "{{ ds }}"},
        deferrable=True,
        poll_interval=30,
        timeout=6 * 3600,
    )
