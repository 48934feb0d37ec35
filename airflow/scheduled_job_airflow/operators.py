"""ScheduledJobOperator: starts a job (a Temporal workflow) under its lock and waits for it to end."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from . import catalog, runs
from ._compat import AirflowException, AirflowFailException, BaseOperator
from ._sync import run_sync
from .hooks import TemporalConnParams, TemporalHook, connect
from .triggers import ScheduledJobTrigger

ON_CONFLICT = ("attach", "fail")


def _seconds(value: float | timedelta | None) -> float | None:
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ScheduledJobOperator(BaseOperator):
    """Starts the job ``job`` with ``args`` and, when ``wait``, waits until its run chain ends.

    The workflow ID (the lock) is ``<job>`` or ``<job>/<value>/...`` with the values of the job's lock-key
    arguments in order. The lock key, the default arguments and the argument schema are read from the job catalog
    that the workers publish (``catalog/<task queue>``), so nothing of the definition is copied into the DAG:
    arguments that do not fit the schema fail the task before anything starts, with the field named.

    :param lock_key: optional, for DAGs written before the catalog; when given it must equal the definition's lock
        key, or the task fails saying so.

    :param on_conflict: when a run already holds the lock, ``"attach"`` waits for that run, ``"fail"`` fails the task.
    :param wait: False returns right after the start (use ScheduledJobSensor to wait elsewhere).
    :param deferrable: wait in the triggerer (ScheduledJobTrigger) instead of polling in the worker slot.
    :param poll_interval: seconds between looks at the run.
    :param timeout: seconds (or a timedelta) to wait at most; then the task fails, and the run is cancelled if
        ``cancel_on_kill``.
    :param cancel_on_kill: cancel the run when the task is killed (``on_kill``, also on ``execution_timeout``).

    XCom: ``workflow_id``, ``run_id`` (the chain's first run ID, the HTTP API's ``runId``) and ``attached``;
    the return value is the run's metrics. A run that fails, is cancelled or times out fails the task.
    """

    template_fields: Sequence[str] = ("job", "args", "lock_key")
    template_fields_renderers = {"args": "json"}
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        job: str,
        args: dict[str, Any] | str | None = None,
        lock_key: Sequence[str] | str | None = None,
        on_conflict: str = "attach",
        wait: bool = True,
        deferrable: bool = False,
        poll_interval: float = 5.0,
        timeout: float | timedelta | None = None,
        cancel_on_kill: bool = True,
        temporal_conn_id: str = TemporalHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if on_conflict not in ON_CONFLICT:
            raise ValueError(f"on_conflict must be one of {ON_CONFLICT}, not {on_conflict!r}")
        if poll_interval <= 0:
            raise ValueError("poll_interval must be positive")
        self.job = job
        self.args = args
        self.lock_key = lock_key
        self.on_conflict = on_conflict
        self.wait = wait
        self.deferrable = deferrable
        self.poll_interval = float(poll_interval)
        self.timeout = _seconds(timeout)
        self.cancel_on_kill = cancel_on_kill
        self.temporal_conn_id = temporal_conn_id
        self._workflow_id: str | None = None
        self._run_id: str | None = None
        self._conn_params: TemporalConnParams | None = None

    # -- rendering ----------------------------------------------------------------------------------------------
    def _resolved_args(self) -> dict[str, Any]:
        args = self.args
        if isinstance(args, str):  # rendered from a template without native rendering: JSON text
            args = json.loads(args) if args.strip() else {}
        if args is None:
            return {}
        if not isinstance(args, dict):
            raise AirflowException(f"args of {self.job} must be a JSON object, not {type(args).__name__}")
        return dict(args)

    def _resolved_lock_key(self) -> list[str] | None:
        """None when not given (a template of an absent param renders as "None"): the catalog's lock key holds."""
        if self.lock_key is None:
            return None
        if isinstance(self.lock_key, str):
            text = self.lock_key.strip()
            if text == "None":
                return None
            if text.startswith("["):
                return list(json.loads(text))
            return [text] if text else []
        return list(self.lock_key or ())

    def _params(self) -> TemporalConnParams:
        if self._conn_params is None:
            self._conn_params = TemporalHook(self.temporal_conn_id).get_conn_params()
        return self._conn_params

    # -- execution ----------------------------------------------------------------------------------------------
    def execute(self, context: Any) -> dict[str, Any] | None:
        given = self._resolved_args()
        lock_key = self._resolved_lock_key()
        params = self._params()

        async def start() -> runs.Started:
            client = await connect(params)
            desc = await catalog.describe_job(client, params.task_queue, self.job)
            prepared = catalog.prepare_start(desc, given, lock_key)
            self.log.info(
                "starting %s as %s on task queue %s (%s)", self.job, prepared.workflow_id, params.task_queue, params.address
            )
            return await runs.start_job(
                client,
                task_queue=params.task_queue,
                job=self.job,
                args=prepared.args,
                workflow_id=prepared.workflow_id,
                on_conflict=self.on_conflict,
            )

        try:
            started = run_sync(start)
        except runs.JobAlreadyRunning as err:
            raise AirflowException(f"{err}; not attaching (on_conflict='fail')") from err
        except catalog.CatalogError as err:
            raise AirflowFailException(str(err)) from err  # bad input: an Airflow retry would fail the same way
        except catalog.CatalogUnavailable as err:
            raise AirflowException(str(err)) from err
        self._workflow_id, self._run_id = started.workflow_id, started.run_id
        ti = context["ti"]
        ti.xcom_push(key="workflow_id", value=started.workflow_id)
        ti.xcom_push(key="run_id", value=started.run_id)
        ti.xcom_push(key="attached", value=started.attached)
        verb = "attached to the running" if started.attached else "started"
        self.log.info("%s run %s of %s", verb, started.run_id, started.workflow_id)
        if not self.wait:
            return None

        deadline = time.time() + self.timeout if self.timeout is not None else None
        if self.deferrable:
            self.defer(
                trigger=ScheduledJobTrigger(
                    workflow_id=started.workflow_id,
                    run_id=started.run_id,
                    temporal_conn_id=self.temporal_conn_id,
                    poll_interval=self.poll_interval,
                    deadline=deadline,
                    cancel_on_kill=self.cancel_on_kill,
                ),
                method_name="execute_complete",
            )

        def logged(state: runs.RunState) -> None:
            self.log.debug("%s (run %s): %s", state.workflow_id, state.run_id, state.status)

        state = run_sync(
            lambda: runs.wait(
                lambda: connect(params),
                started.workflow_id,
                started.run_id,
                poll_interval=self.poll_interval,
                deadline=deadline,
                on_poll=logged,
            )
        )
        return self._finish(state.to_dict())

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Resumes after ScheduledJobTrigger fired."""
        if not event:
            raise AirflowException("the trigger fired without an event")
        self._workflow_id, self._run_id = event.get("workflow_id"), event.get("run_id")
        return self._finish(event)

    def _finish(self, state: dict[str, Any]) -> dict[str, Any]:
        status = state.get("status")
        wid, rid = state.get("workflow_id"), state.get("run_id")
        if status == runs.SUCCEEDED:
            self.log.info(
                "%s (run %s) succeeded at attempt %s: %s", wid, rid, state.get("attempt"), state.get("metrics")
            )
            return dict(state.get("metrics") or {})
        if status == runs.WAIT_TIMEOUT:
            cancelled = ""
            if self.cancel_on_kill:
                self._cancel(wid, rid)
                cancelled = "; cancelled it"
            raise AirflowException(f"{wid} (run {rid}) did not end within {self.timeout} s{cancelled}")
        if status == runs.ERROR:
            raise AirflowException(f"could not follow {wid} (run {rid}): {state.get('error')}")
        raise AirflowException(f"job {self.job} {wid} (run {rid}) {status}: {state.get('error')}")

    def _cancel(self, wid: str | None, rid: str | None) -> None:
        if not wid:
            return
        params = self._params()

        async def cancel() -> bool:
            return await runs.cancel(await connect(params), wid, rid)

        try:
            if run_sync(cancel, own_thread=True, timeout=60):
                self.log.info("requested cancellation of %s (run %s)", wid, rid)
        except Exception as err:  # noqa: BLE001 - killing the task must not fail on this; say so instead
            self.log.error("could not cancel %s (run %s): %s", wid, rid, err)

    def on_kill(self) -> None:
        if self.cancel_on_kill:
            self._cancel(self._workflow_id, self._run_id)
