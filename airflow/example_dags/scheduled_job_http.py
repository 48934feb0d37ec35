"""Route 2: stock HttpOperator + HttpSensor against scheduled-job's HTTP API (`scheduled-job api`).

Needs an Airflow HTTP connection ``scheduled_job_api`` whose extra carries the bearer header, for example
``AIRFLOW_CONN_SCHEDULED_JOB_API='{"conn_type": "http", "host": "127.0.0.1", "port": 8080,
"extra": {"Authorization": "Bearer local-dev-token"}}'`` (extra fields of an HTTP connection are sent as headers).
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from airflow.providers.http.operators.http import HttpOperator
from airflow.providers.http.sensors.http import HttpSensor
from airflow.sdk import DAG, Param

try:
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # Airflow 3.0
    from airflow.exceptions import AirflowFailException

API_CONN_ID = "scheduled_job_api"
# Seconds between pokes (the tests use 1).
POLL_SECONDS = int(os.environ.get("SCHEDULED_JOB_EXAMPLE_POLL_SECONDS", "30"))


def started_or_running(response: Any) -> bool:
    """202: started. 409: a run holds the job's lock, and its IDs are in the body: attach to it."""
    if response.status_code in (202, 409):
        return True
    # 400 names the bad field, 404 is an unknown job, 401 a wrong token: retrying will not help.
    raise AirflowFailException(f"starting the job was refused: HTTP {response.status_code} {response.text}")


def run_ids(response: Any) -> dict[str, Any]:
    body = response.json()
    return {"runId": body["runId"], "workflowId": body["workflowId"], "attached": response.status_code == 409}


def job_finished(response: Any) -> bool:
    """False while running (also between a failed attempt and its retry); fails the task when the job did not
    succeed. Raising AirflowFailException here fails the task at once, without Airflow retries."""
    run = response.json()
    status = run.get("status")
    if status == "running":
        return False
    if status == "succeeded":
        return True
    raise AirflowFailException(
        f"job run {run.get('runId')} {status} at attempt {run.get('attempt')}: {run.get('error')}"
    )


with DAG(
    dag_id="scheduled_job_http",
    description="Run a scheduled-job job through its HTTP API with the stock HTTP operator and sensor",
    schedule=None,
    start_date=pendulum.datetime(2024, 5, 1, tz="UTC"),
    catchup=False,
    params={
        "job": Param("example_flaky", type="string"),
        "args": Param({"failAttempts": 1, "tag": "airflow-http"}, type="object"),
    },
    tags=["scheduled-job"],
):
    trigger = HttpOperator(
        task_id="trigger",
        http_conn_id=API_CONN_ID,
        method="POST",
        endpoint="jobs/{{ params.job }}/runs",
        data="{{ {'args': params.args} | tojson }}",
        headers={"Content-Type": "application/json"},
        extra_options={"check_response": False},  # a 409 is not an error here: response_check decides
        response_check=started_or_running,
        response_filter=run_ids,
        log_response=True,
    )
    # Reschedule mode: no worker slot held between pokes. Not deferrable: the deferrable HttpSensor's trigger
    # cannot run a response_check.
    wait = HttpSensor(
        task_id="wait",
        http_conn_id=API_CONN_ID,
        method="GET",
        endpoint="jobs/{{ params.job }}/runs/{{ ti.xcom_pull(task_ids='trigger')['runId'] }}",
        response_check=job_finished,
        response_error_codes_allowlist=["502", "503", "504"],  # the API restarting: poke again; a 404 fails
        mode="reschedule",
        deferrable=False,
        poke_interval=POLL_SECONDS,
        timeout=3600,
    )
    trigger >> wait
