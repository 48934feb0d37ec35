"""The workflow-ID convention, and with it the lock. The TypeScript twin is client/workflowId.ts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def workflow_id(job: str, lock_key: Iterable[str] | None, args: Mapping[str, Any] | None) -> str:
    """``<job>``, or ``<job>/<value>/...`` with the values of the lock-key arguments in declared order.

    Example: ``workflow_id("ingest_notification_views", ["day"], {"day": "2024-05-01"})`` is
    ``"ingest_notification_views/2024-05-01"``. A lock-key argument without a value (missing, None or "") is an
    error. The lock key and the defaults come from the workers' job catalog (catalog.py), and the workers refuse a
    run whose workflow ID is not this one.
    """
    args = args or {}
    parts = [job]
    for key in lock_key or ():
        value = args.get(key)
        if value is None or value == "":
            raise ValueError(f"lock key {key} of {job} has no value")
        parts.append(_js_string(value))
    return "/".join(parts)


def _js_string(value: Any) -> str:
    """``String(value)`` as JavaScript writes it, for the JSON values a lock key can hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)
