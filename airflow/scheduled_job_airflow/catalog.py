"""The job catalog the workers publish: each job's lock key, defaults and argument schema, read at start time.

The workers of a task queue keep the long-running workflow ``catalog/<task queue>`` current with the definitions
they run; its query ``jobs`` returns them. Reading them here, instead of copying lock keys into DAGs, is what makes a
start from Airflow meet the same lock as a start from the HTTP API or the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from .workflow_id import workflow_id as workflow_id_for

CATALOG_QUERY = "jobs"


def catalog_workflow_id(task_queue: str) -> str:
    return f"catalog/{task_queue}"


class CatalogError(Exception):
    """The start cannot be prepared: the job or its arguments are wrong. The message says what to fix."""


class CatalogUnavailable(Exception):
    """No worker has published a catalog on the task queue: a deployment's state, which a retry may outlast."""


@dataclass(frozen=True)
class JobDescription:
    name: str
    lock_key: list[str]
    default_args: dict[str, Any] = field(default_factory=dict)
    args_schema: dict[str, Any] | None = None

    @classmethod
    def from_catalog(cls, raw: dict[str, Any]) -> JobDescription:
        return cls(
            name=raw["name"],
            lock_key=list(raw.get("lockKey") or []),
            default_args=dict(raw.get("defaultArgs") or {}),
            args_schema=raw.get("argsSchema"),
        )


@dataclass(frozen=True)
class PreparedStart:
    """What to start: the lock's workflow ID and the arguments with the job's defaults applied."""

    workflow_id: str
    args: dict[str, Any]


async def describe_job(client: Client, task_queue: str, job: str) -> JobDescription:
    """The job's definition as the workers on ``task_queue`` published it."""
    wid = catalog_workflow_id(task_queue)
    try:
        catalog = await client.get_workflow_handle(wid).query(CATALOG_QUERY)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise CatalogUnavailable(
                f"no job catalog {wid}: no scheduled-job worker has started on task queue {task_queue} "
                "(start one, or check the connection's task_queue)"
            ) from None
        raise
    jobs = {j["name"]: j for j in (catalog or {}).get("jobs", [])}
    if job not in jobs:
        known = ", ".join(sorted(jobs)) or "none"
        raise CatalogError(f"unknown job {job}: the workers on task queue {task_queue} run {known}")
    return JobDescription.from_catalog(jobs[job])


def prepare_start(desc: JobDescription, args: dict[str, Any], lock_key: Sequence[str] | None) -> PreparedStart:
    """Defaults applied, the arguments checked against the published schema, and the workflow ID of the lock.

    ``lock_key`` is for DAGs written before the catalog: when given it must equal the definition's.
    """
    if lock_key is not None and list(lock_key) != desc.lock_key:
        raise CatalogError(
            f"lock_key {list(lock_key)} does not match the lock key of {desc.name} on the workers, {desc.lock_key}: "
            "leave lock_key out (it is read from the workers) or correct it"
        )
    merged = {**desc.default_args, **args}
    problems = _schema_problems(desc.args_schema, merged)
    if problems:
        raise CatalogError(f"invalid args for {desc.name}: {'; '.join(problems)}")
    try:
        wid = workflow_id_for(desc.name, desc.lock_key, merged)
    except ValueError as err:
        raise CatalogError(str(err)) from None
    return PreparedStart(wid, merged)


def _schema_problems(schema: dict[str, Any] | None, args: dict[str, Any]) -> list[str]:
    """``args.<field>: <what is wrong>`` for each problem, in the shape the HTTP API's 400 answers use."""
    if not schema:
        return []
    from jsonschema import Draft202012Validator

    out = []
    for err in sorted(Draft202012Validator(schema).iter_errors(args), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(p) for p in err.absolute_path) or "(root)"
        out.append(f"args.{path}: {err.message}")
    return out
