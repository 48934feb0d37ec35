"""DAGs only the tests run: the lock conflict (fail vs attach), polling mode, and the wait timeout."""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from scheduled_job_airflow import ScheduledJobOperator

START = pendulum.datetime(2024, 5, 1, tz="UTC")

# test_steps locks on its tag (the test passes one of its own): `start` holds that lock for ~8 s.
with DAG(
    dag_id="sj_test_conflict",
    schedule=None,
    start_date=START,
    catchup=False,
    render_template_as_native_obj=True,
    params={"tag": Param("conflict", type="string")},
):
    start = ScheduledJobOperator(
        task_id="start",
        job="test_steps",
        args={"steps": 8, "stepMs": 1000, "tag": "{{ params.tag }}"},
        on_conflict="fail",
        wait=False,
    )
    refused = ScheduledJobOperator(
        task_id="refused",
        job="test_steps",
        args={"steps": 1, "stepMs": 0, "tag": "{{ params.tag }}"},
        on_conflict="fail",
        poll_interval=1,
    )
    attach = ScheduledJobOperator(
        task_id="attach",
        job="test_steps",
        args={"steps": 1, "stepMs": 0, "tag": "{{ params.tag }}"},
        on_conflict="attach",
        poll_interval=1,
        trigger_rule="all_done",
    )
    start >> refused >> attach

with DAG(
    dag_id="sj_test_polling",
    schedule=None,
    start_date=START,
    catchup=False,
    render_template_as_native_obj=True,
    params={
        "job": Param("example_flaky", type="string"),
        "args": Param({"failAttempts": 0, "tag": "polling"}, type="object"),
        "lock_key": Param(["tag"], type="array"),
    },
):
    ScheduledJobOperator(
        task_id="run_job",
        job="{{ params.job }}",
        args="{{ params.args }}",
        lock_key="{{ params.lock_key }}",
        deferrable=False,
        poll_interval=1,
    )

with DAG(
    dag_id="sj_test_timeout",
    schedule=None,
    start_date=START,
    catchup=False,
    render_template_as_native_obj=True,
    params={"tag": Param("timeout", type="string")},
):
    ScheduledJobOperator(
        task_id="run_job",
        job="test_steps",
        args={"steps": 30, "stepMs": 1000, "tag": "{{ params.tag }}"},
        deferrable=True,
        poll_interval=1,
        timeout=3,
        cancel_on_kill=True,
    )

# No lock_key anywhere: the operator reads the ingest job's lock key (["day"]) from the workers' catalog, so these
# meet the lock that an HTTP start of the same day holds.
with DAG(
    dag_id="sj_test_catalog_lock",
    schedule=None,
    start_date=START,
    catchup=False,
    render_template_as_native_obj=True,
    params={"day": Param("2024-05-01", type="string")},
):
    catalog_refused = ScheduledJobOperator(
        task_id="refused",
        job="ingest_notification_views",
        args={"day": "{{ params.day }}"},
        on_conflict="fail",
        wait=False,
    )
    catalog_attach = ScheduledJobOperator(
        task_id="attach",
        job="ingest_notification_views",
        args={"day": "{{ params.day }}"},
        on_conflict="attach",
        wait=False,
        trigger_rule="all_done",
    )
    catalog_refused >> catalog_attach

# What a DAG written before the catalog may say: a lock key that is not the job's, or arguments that do not fit.
with DAG(
    dag_id="sj_test_catalog_mismatch",
    schedule=None,
    start_date=START,
    catchup=False,
    render_template_as_native_obj=True,
    params={"args": Param({}, type="object"), "lock_key": Param(None, type=["null", "array"])},
):
    ScheduledJobOperator(
        task_id="start",
        job="ingest_notification_views",
        args="{{ params.args }}",
        lock_key="{{ params.lock_key }}",
        wait=False,
    )
