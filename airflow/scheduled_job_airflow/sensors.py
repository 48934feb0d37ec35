"""ScheduledJobSensor: waits for a job's run chain to end; fails the task when the run does not succeed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import runs
from ._compat import AirflowFailException, BaseSensorOperator, PokeReturnValue
from ._sync import run_sync
from .hooks import TemporalHook, connect


class ScheduledJobSensor(BaseSensorOperator):
    """Pokes the run chain ``(workflow_id, run_id)`` until it ends.

    ``run_id`` is the chain's first run ID (the operator's ``run_id`` XCom, or the HTTP API's ``runId``); None (or
    an empty string) means the latest chain of the workflow ID. Success pushes the run's metrics as the return
    value; failed, cancelled or timed out fails the task without retries. Works in ``poke`` and ``reschedule`` mode.
    """

    template_fields: Sequence[str] = ("workflow_id", "run_id")
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        workflow_id: str,
        run_id: str | None = None,
        temporal_conn_id: str = TemporalHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.workflow_id = workflow_id
        self.run_id = run_id
        self.temporal_conn_id = temporal_conn_id

    def poke(self, context: Any) -> bool | PokeReturnValue:
        run_id = self.run_id if self.run_id not in ("", "None") else None
        params = TemporalHook(self.temporal_conn_id).get_conn_params()

        async def look() -> runs.RunState:
            return await runs.poll(await connect(params), self.workflow_id, run_id)

        try:
            state = run_sync(look)
        except Exception as err:
            if runs.is_transient(err):
                self.log.warning("could not ask Temporal about %s, will poke again: %s", self.workflow_id, err)
                return False
            raise
        self.log.info("%s (run %s): %s", state.workflow_id, state.run_id, state.status)
        if state.status == runs.RUNNING:
            return False
        if state.status == runs.SUCCEEDED:
            return PokeReturnValue(is_done=True, xcom_value=state.metrics)
        raise AirflowFailException(f"{state.workflow_id} (run {state.run_id}) {state.status}: {state.error}")
