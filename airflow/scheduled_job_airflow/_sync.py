"""Running the async Temporal client from Airflow's synchronous task code."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def run_sync(make: Callable[[], Awaitable[T]], *, own_thread: bool = False, timeout: float | None = None) -> T:
    """Runs ``make()`` to completion on a fresh event loop.

    A thread of its own when asked, or when this thread already runs a loop: ``on_kill`` runs in a signal handler,
    possibly while ``execute`` is inside ``asyncio.run``.
    """
    if not own_thread:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(_call(make))
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(_call(make))
        except BaseException as err:  # noqa: BLE001 - handed to the caller below
            box["error"] = err

    thread = threading.Thread(target=target, name="scheduled-job-temporal", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"the Temporal call did not finish within {timeout} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


async def _call(make: Callable[[], Awaitable[T]]) -> T:
    return await make()
