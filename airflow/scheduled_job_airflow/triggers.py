"""The deferrable wait: polls a run chain from the triggerer until it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from . import runs
from ._compat import BaseTrigger, TriggerEvent
from .hooks import TemporalHook, connect


class ScheduledJobTrigger(BaseTrigger):
    """Fires one event when the run chain ``(workflow_id, run_id)`` ends, or when ``deadline`` (epoch seconds) passes.

    It holds only identifiers and an absolute deadline, and only reads from Temporal, so a triggerer that restarts
    it just attaches again to the same workflow and run. The event payload is ``runs.RunState.to_dict()``; its
    status is a run status (succeeded, failed, cancelled, timed_out), ``wait_timeout`` or ``error``.
    """

    def __init__(
        self,
        workflow_id: str,
        run_id: str | None,
        temporal_conn_id: str = TemporalHook.default_conn_name,
        poll_interval: float = 5.0,
        deadline: float | None = None,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__()
        self.workflow_id = workflow_id
        self.run_id = run_id or None
        self.temporal_conn_id = temporal_conn_id
        self.poll_interval = float(poll_interval)
        self.deadline = None if deadline is None else float(deadline)
        self.cancel_on_kill = bool(cancel_on_kill)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "workflow_id": self.workflow_id,
                "run_id": self.run_id,
                "temporal_conn_id": self.temporal_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    async def _connect(self):
        return await connect(await TemporalHook(self.temporal_conn_id).aget_conn_params())

    async def run(self) -> AsyncIterator[TriggerEvent]:
        state = await runs.wait(
            self._connect,
            self.workflow_id,
            self.run_id,
            poll_interval=self.poll_interval,
            deadline=self.deadline,
        )
        yield TriggerEvent(state.to_dict())

    async def on_kill(self) -> None:
        """The user killed the deferred task (mark failed/success, clear): cancel the run. Not on triggerer restarts."""
        if self.cancel_on_kill:
            await runs.cancel(await self._connect(), self.workflow_id, self.run_id)
