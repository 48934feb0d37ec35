"""Both routes end to end with dag.test(): a job that succeeds, and one that fails (example_flaky with more failing
attempts than its 2 retries). Each run gets a lock value (tag) of its own."""

import pytest
from conftest import unique
from helpers import run_dag

pytestmark = pytest.mark.usefixtures("services")


def test_operator_route_succeeds(dagbag):
    tag = unique("op-ok")
    result = run_dag(dagbag, "scheduled_job_operator", {"args": {"failAttempts": 1, "tag": tag}})
    assert result.state == "success", result
    assert result.xcom("run_job", "workflow_id") == f"example_flaky/{tag}"
    assert result.xcom("run_job", "run_id")
    assert result.xcom("run_job", "attached") is False
    assert result.xcom("run_job") == {"attempt": 2}  # the metrics: one failed attempt, retried in the same chain


def test_operator_route_fails_the_task_when_the_job_fails(dagbag):
    result = run_dag(dagbag, "scheduled_job_operator", {"args": {"failAttempts": 5, "tag": unique("op-fail")}})
    assert result.state == "failed"
    assert result.tasks == {"run_job": "failed"}


def test_operator_route_with_steps(dagbag):
    tag = unique("op-steps")
    result = run_dag(
        dagbag, "scheduled_job_operator", {"job": "test_steps", "args": {"steps": 2, "stepMs": 100, "tag": tag}}
    )
    assert result.state == "success", result
    assert result.xcom("run_job", "workflow_id") == f"test_steps/{tag}"
    assert result.xcom("run_job")["steps"] == 2


def test_start_and_sense_succeeds(dagbag):
    tag = unique("sense-ok")
    result = run_dag(dagbag, "scheduled_job_start_and_sense", {"args": {"failAttempts": 2, "tag": tag}})
    assert result.state == "success", result
    assert result.tasks == {"start_job": "success", "wait_for_job": "success"}
    assert result.xcom("wait_for_job") == {"attempt": 3}


def test_start_and_sense_fails(dagbag):
    result = run_dag(
        dagbag, "scheduled_job_start_and_sense", {"args": {"failAttempts": 5, "tag": unique("sense-fail")}}
    )
    assert result.state == "failed"
    assert result.tasks == {"start_job": "success", "wait_for_job": "failed"}


def test_http_route_succeeds(dagbag):
    tag = unique("http-ok")
    result = run_dag(dagbag, "scheduled_job_http", {"args": {"failAttempts": 1, "tag": tag}})
    assert result.state == "success", result
    assert result.tasks == {"trigger": "success", "wait": "success"}
    started = result.xcom("trigger")
    assert started["workflowId"] == f"example_flaky/{tag}" and started["runId"] and started["attached"] is False


def test_http_route_fails_the_task_when_the_job_fails(dagbag):
    result = run_dag(dagbag, "scheduled_job_http", {"args": {"failAttempts": 5, "tag": unique("http-fail")}})
    assert result.state == "failed"
    assert result.tasks == {"trigger": "success", "wait": "failed"}


def test_the_daily_ingest_dag_is_well_formed(dagbag):
    dag = dagbag.get_dag("ingest_notification_views_daily")
    task = dag.get_task("ingest")
    # no lock_key: the operator reads the job's lock key from the workers' catalog
    assert task.job == "ingest_notification_views" and task.lock_key is None and task.deferrable
