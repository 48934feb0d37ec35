"""Starting, watching and cancelling job runs through the Temporal client; no Airflow here.

A run is a chain of Temporal runs under one workflow ID: whole-job retries continue as new, so the chain keeps its
first run ID, which is the run ID a trigger returns (the HTTP API's ``runId`` is the same ID).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowFailureError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import (
    ApplicationError,
    CancelledError,
    TerminatedError,
    WorkflowAlreadyStartedError,
)
from temporalio.exceptions import TimeoutError as TemporalTimeoutError
from temporalio.service import RPCError, RPCStatusCode

log = logging.getLogger(__name__)

WORKFLOW_TYPE = "scheduledJob"
# The failure type of an attempt that ran past the job's `timeouts.attempt` (workflows/types.ts ATTEMPT_TIMED_OUT).
ATTEMPT_TIMED_OUT = "AttemptTimedOut"

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELLED = "cancelled"
TIMED_OUT = "timed_out"
TERMINAL_STATUSES = (SUCCEEDED, FAILED, CANCELLED, TIMED_OUT)
# What a waiter reports when it stops before the run ends; not statuses of the run itself.
WAIT_TIMEOUT = "wait_timeout"  # the caller's own deadline passed
ERROR = "error"  # Temporal could not be asked

# RPC failures worth another poll: the server restarting or briefly overloaded.
TRANSIENT_RPC = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED,
}


# How many polls in a row may fail to reach Temporal before a waiter gives up.
MAX_POLL_ERRORS = 30


class JobAlreadyRunning(Exception):
    """A run holds the job's lock (its workflow ID)."""

    def __init__(self, workflow_id: str, run_id: str | None) -> None:
        super().__init__(f"{workflow_id} is already running (run {run_id})")
        self.workflow_id = workflow_id
        self.run_id = run_id


@dataclass
class RunState:
    """Where a run stands; ``status`` is one of the HTTP API's statuses."""

    status: str
    workflow_id: str
    run_id: str | None
    attempt: int | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Started:
    workflow_id: str
    run_id: str
    attached: bool


def first_run_id(desc: WorkflowExecutionDescription) -> str:
    return desc.raw_info.first_run_id or desc.run_id


def is_running(desc: WorkflowExecutionDescription) -> bool:
    return desc.status is not None and (desc.status == WorkflowExecutionStatus.RUNNING or desc.status.name == "PAUSED")


async def start_job(
    client: Client,
    *,
    task_queue: str,
    job: str,
    args: dict[str, Any],
    workflow_id: str,
    on_conflict: str = "attach",
) -> Started:
    """Starts ``scheduledJob`` under the lock; on a conflict attaches to the running chain, or raises
    JobAlreadyRunning when ``on_conflict`` is ``"fail"``."""
    tries = 3  # the run we collided with may close between our start and our describe
    for _ in range(tries):
        try:
            handle = await client.start_workflow(
                WORKFLOW_TYPE,
                {"job": job, "args": args},
                id=workflow_id,
                task_queue=task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
            run_id = handle.first_execution_run_id or handle.result_run_id
            assert run_id
            return Started(workflow_id, run_id, attached=False)
        except WorkflowAlreadyStartedError as err:
            try:
                desc = await client.get_workflow_handle(workflow_id).describe()
            except RPCError as rpc:
                if rpc.status != RPCStatusCode.NOT_FOUND:
                    raise
                continue  # gone already (retention): start again
            if not is_running(desc):
                continue  # closed between our start and our describe: start again
            holder = first_run_id(desc) or err.first_run_id or err.run_id
            if on_conflict == "fail":
                raise JobAlreadyRunning(workflow_id, holder) from None
            log.info("%s is already running (run %s): attaching", workflow_id, holder)
            return Started(workflow_id, holder, attached=True)
    raise RuntimeError(f"could not start or attach to {workflow_id}: the lock changed hands {tries} times")


async def poll(client: Client, workflow_id: str, run_id: str | None, result_timeout: float = 10.0) -> RunState:
    """One look at a run chain: ``running`` while its latest run is open, else its final outcome.

    ``run_id`` is the chain's first run ID; None means the latest chain of the workflow ID. Idempotent: it only
    reads, so any number of pollers (the operator, a trigger restarted by its triggerer, a sensor) agree.
    """
    try:
        desc = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return RunState(FAILED, workflow_id, run_id, error="the run is not known to Temporal")
        raise
    chain = first_run_id(desc)
    run_id = run_id or chain
    if is_running(desc) and chain == run_id:
        return RunState(RUNNING, workflow_id, run_id)
    return await outcome(client, workflow_id, run_id, result_timeout)


async def outcome(client: Client, workflow_id: str, run_id: str, timeout: float = 10.0) -> RunState:
    """The end of a chain, following continue-as-new from its first run; ``running`` if it has not ended yet."""
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    try:
        result = await asyncio.wait_for(handle.result(follow_runs=True), timeout)
    except asyncio.TimeoutError:
        return RunState(RUNNING, workflow_id, run_id)
    except WorkflowFailureError as err:
        return _failed(workflow_id, run_id, err.cause)
    result = result if isinstance(result, dict) else {}
    return RunState(
        SUCCEEDED,
        workflow_id,
        run_id,
        attempt=result.get("attempt"),
        metrics=dict(result.get("metrics") or {}),
    )


def _failed(workflow_id: str, run_id: str, cause: BaseException) -> RunState:
    if isinstance(cause, CancelledError):
        return RunState(CANCELLED, workflow_id, run_id, error="cancelled")
    if isinstance(cause, TemporalTimeoutError):
        return RunState(TIMED_OUT, workflow_id, run_id, error=f"timed out in Temporal: {cause.message}")
    if isinstance(cause, TerminatedError):
        return RunState(FAILED, workflow_id, run_id, error=f"terminated in Temporal: {cause.message}")
    if isinstance(cause, ApplicationError):
        status = TIMED_OUT if cause.type == ATTEMPT_TIMED_OUT else FAILED
        return RunState(status, workflow_id, run_id, error=f"{cause.type or 'Error'}: {cause.message}")
    return RunState(FAILED, workflow_id, run_id, error=f"{type(cause).__name__}: {cause}")


async def cancel(client: Client, workflow_id: str, run_id: str | None) -> bool:
    """Requests cancellation of the chain's latest run; only of this chain when ``run_id`` is given.

    Returns False when there was nothing open to cancel.
    """
    handle = client.get_workflow_handle(workflow_id, first_execution_run_id=run_id)
    try:
        await handle.cancel()
        return True
    except RPCError as err:
        if err.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.INVALID_ARGUMENT):
            log.info("nothing to cancel for %s (run %s): %s", workflow_id, run_id, err.message)
            return False
        raise


def is_transient(err: BaseException) -> bool:
    return isinstance(err, RPCError) and err.status in TRANSIENT_RPC


async def wait(
    connect: Callable[[], Awaitable[Client]],
    workflow_id: str,
    run_id: str | None,
    *,
    poll_interval: float = 5.0,
    deadline: float | None = None,
    on_poll: Callable[[RunState], None] | None = None,
) -> RunState:
    """Polls until the chain ends (a terminal RunState), ``deadline`` (epoch seconds) passes (``wait_timeout``) or
    Temporal cannot be asked (``error``: a non-transient failure, or MAX_POLL_ERRORS transient ones in a row)."""
    state = RunState(RUNNING, workflow_id, run_id)
    client: Client | None = None
    errors = 0
    while True:
        try:
            client = client or await connect()
            state = await poll(client, workflow_id, run_id)
            errors = 0
            if on_poll:
                on_poll(state)
        except Exception as err:  # noqa: BLE001 - reported as a state, never swallowed
            # Not reaching the server (restarting, or briefly unreachable) is worth more polls; the rest is not.
            errors += 1
            if (client is not None and not is_transient(err)) or errors > MAX_POLL_ERRORS:
                return RunState(ERROR, workflow_id, run_id, error=f"{type(err).__name__}: {err}")
            log.warning("polling %s failed (%d in a row), will retry: %s", workflow_id, errors, err)
        if state.done:
            return state
        run_id = state.run_id or run_id  # "the latest chain" stays the chain first seen
        pause = poll_interval
        if deadline is not None:
            left = deadline - time.time()
            if left <= 0:
                return RunState(WAIT_TIMEOUT, workflow_id, run_id, error="gave up waiting for the run to end")
            pause = min(pause, left)
        await asyncio.sleep(pause)
