"""The operator against the real stack: lock conflicts, polling mode, timeouts, on_kill, and the trigger's
re-attachment after a triggerer restart."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from conftest import QUEUE, unique
from helpers import client, run, run_dag, temporal_params, wait_closed

from scheduled_job_airflow import runs
from scheduled_job_airflow._compat import AirflowException
from scheduled_job_airflow.operators import ScheduledJobOperator
from scheduled_job_airflow.triggers import ScheduledJobTrigger

pytestmark = pytest.mark.usefixtures("services")


def steps(steps: int, step_ms: int, prefix: str) -> tuple[dict, str]:
    """test_steps arguments with a lock value (tag) of this test's own, and the workflow ID that lock gives."""
    tag = unique(prefix)
    return {"steps": steps, "stepMs": step_ms, "tag": tag}, f"test_steps/{tag}"


def test_conflict_fail_versus_attach(dagbag):
    result = run_dag(dagbag, "sj_test_conflict", {"tag": unique("conflict")})
    assert result.tasks == {"start": "success", "refused": "failed", "attach": "success"}, result
    first = result.xcom("start", "run_id")
    assert result.xcom("start", "attached") is False
    assert result.xcom("attach", "run_id") == first  # the run that held the lock, not a new one
    assert result.xcom("attach", "attached") is True
    assert result.xcom("attach")["steps"] == 8  # the metrics of the attached (8-step) run


def test_polling_mode(dagbag):
    ok = run_dag(dagbag, "sj_test_polling", {"args": {"failAttempts": 1, "tag": unique("poll-ok")}})
    assert ok.state == "success" and ok.xcom("run_job") == {"attempt": 2}
    failed = run_dag(dagbag, "sj_test_polling", {"args": {"failAttempts": 5, "tag": unique("poll-fail")}})
    assert failed.tasks == {"run_job": "failed"}


def test_invalid_arguments_fail_the_task(dagbag):
    # Started straight through Temporal, arguments are checked by the attempt itself: InvalidArguments, no retry.
    result = run_dag(dagbag, "sj_test_polling", {"args": {"failAttempts": "many", "tag": unique("bad")}})
    assert result.tasks == {"run_job": "failed"}


def test_wait_timeout_fails_the_task_and_cancels_the_run(dagbag):
    tag = unique("timeout")
    result = run_dag(dagbag, "sj_test_timeout", {"tag": tag})
    assert result.tasks == {"run_job": "failed"}
    assert run(wait_closed(f"test_steps/{tag}")) == "CANCELED"


class FakeTI:
    def __init__(self):
        self.xcom = {}

    def xcom_push(self, key, value):
        self.xcom[key] = value


def test_on_kill_cancels_the_run():
    args, workflow_id = steps(30, 1000, "on-kill")
    op = ScheduledJobOperator(task_id="kill_me", job="test_steps", args=args, poll_interval=0.5)
    ti = FakeTI()
    outcome = {}

    def execute():
        try:
            outcome["value"] = op.execute({"ti": ti})
        except BaseException as err:  # noqa: BLE001
            outcome["error"] = err

    thread = threading.Thread(target=execute)
    thread.start()
    deadline = time.time() + 30
    while "run_id" not in ti.xcom and time.time() < deadline:
        time.sleep(0.1)
    assert ti.xcom.get("workflow_id") == workflow_id
    time.sleep(1)
    op.on_kill()
    thread.join(60)
    assert not thread.is_alive()
    assert isinstance(outcome.get("error"), AirflowException)
    assert "cancelled" in str(outcome["error"])


KILLED_TASK = textwrap.dedent(
    """
    import json, os, signal
    from scheduled_job_airflow.operators import ScheduledJobOperator

    class TI:
        def xcom_push(self, key, value):
            print(json.dumps({key: value}), flush=True)

    op = ScheduledJobOperator(task_id="t", job="test_steps", args=json.loads(os.environ["STEPS_ARGS"]), poll_interval=0.5)
    # As Airflow's task runner does: SIGTERM calls on_kill, here while execute() is inside asyncio.run.
    signal.signal(signal.SIGTERM, lambda signum, frame: op.on_kill())
    try:
        op.execute({"ti": TI()})
    except Exception as err:
        print("FAILED", err, flush=True)
        # os._exit, not sys.exit: the Temporal client's Rust threads can abort interpreter teardown
        # ("PyGILState_Release ... finalizing", temporalio/sdk-python#300), which would hide the exit code.
        os._exit(3)
    """
)


def test_sigterm_during_the_wait_cancels_the_run():
    args, workflow_id = steps(30, 1000, "sigterm")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_TASK],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "STEPS_ARGS": json.dumps(args)},
    )
    try:
        pushed = {}
        for line in proc.stdout:
            if line.startswith("{"):
                pushed.update(json.loads(line))
            if "run_id" in pushed:
                break
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, rest
    assert "cancelled" in rest
    assert run(wait_closed(workflow_id)) == "CANCELED"


def test_trigger_reattaches_after_a_triggerer_restart():
    args, workflow_id = steps(3, 1000, "reattach")

    async def scenario():
        c = await client()
        started = await runs.start_job(c, task_queue=QUEUE, job="test_steps", args=args, workflow_id=workflow_id)
        trigger = ScheduledJobTrigger(started.workflow_id, started.run_id, poll_interval=0.5)
        first = asyncio.ensure_future(trigger.run().__anext__())
        await asyncio.sleep(1.5)
        assert not first.done()
        first.cancel()  # the triggerer goes away mid-wait
        classpath, kwargs = trigger.serialize()
        again = ScheduledJobTrigger(**kwargs)  # ... and a new one is built from the stored kwargs
        event = await again.run().__anext__()
        # A second, late instance sees the same ended run.
        late = await ScheduledJobTrigger(**kwargs).run().__anext__()
        return started, event.payload, late.payload

    started, event, late = run(scenario())
    assert event["status"] == "succeeded" and event["run_id"] == started.run_id
    assert event["metrics"]["steps"] == 3
    assert late == event


def test_trigger_reports_a_failed_chain():
    async def scenario():
        c = await client()
        tag = unique("trig-fail")
        started = await runs.start_job(
            c,
            task_queue=QUEUE,
            job="example_flaky",
            args={"failAttempts": 5, "tag": tag},
            workflow_id=f"example_flaky/{tag}",
        )
        return (
            await ScheduledJobTrigger(started.workflow_id, started.run_id, poll_interval=0.5).run().__anext__()
        ).payload

    event = run(scenario())
    assert event["status"] == "failed"
    assert "SimulatedFailure" in event["error"]


def test_trigger_on_kill_cancels_the_run():
    """Airflow 3 calls a trigger's on_kill when the user kills the deferred task (not on triggerer restarts)."""
    args, workflow_id = steps(30, 1000, "trigger-kill")

    async def scenario():
        c = await client()
        started = await runs.start_job(c, task_queue=QUEUE, job="test_steps", args=args, workflow_id=workflow_id)
        await asyncio.sleep(1)
        await ScheduledJobTrigger(started.workflow_id, started.run_id).on_kill()
        return (
            await ScheduledJobTrigger(started.workflow_id, started.run_id, poll_interval=0.5).run().__anext__()
        ).payload

    event = run(scenario())
    assert event["status"] == "cancelled"


def test_hook_reads_the_connection():
    p = temporal_params()
    assert p.task_queue == QUEUE and p.namespace == "default"


def test_http_route_attaches_to_the_run_holding_the_lock(dagbag):
    """POST while a run holds the lock: 409 with that run's IDs, and the sensor follows that run."""
    args, workflow_id = steps(4, 1000, "http-hold")

    async def hold():
        return await runs.start_job(await client(), task_queue=QUEUE, job="test_steps", args=args, workflow_id=workflow_id)

    holder = run(hold())
    result = run_dag(dagbag, "scheduled_job_http", {"job": "test_steps", "args": {**args, "steps": 1, "stepMs": 0}})
    assert result.tasks == {"trigger": "success", "wait": "success"}, result
    started = result.xcom("trigger")
    assert started == {"runId": holder.run_id, "workflowId": workflow_id, "attached": True}
