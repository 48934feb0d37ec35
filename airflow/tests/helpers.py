"""Running a DAG with dag.test() and reading back what it did."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any


@dataclass
class DagResult:
    dag_id: str
    run_id: str
    state: str
    tasks: dict[str, str]

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = session.scalars(
                XComModel.get_many(run_id=self.run_id, key=key, task_ids=task_id, dag_ids=self.dag_id)
            ).first()
            return None if row is None else XComModel.deserialize_value(row)


def run_dag(dagbag, dag_id: str, conf: dict[str, Any] | None = None) -> DagResult:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dag = dagbag.get_dag(dag_id)
    assert dag is not None, f"no DAG {dag_id}"
    dr = dag.test(run_conf=conf)
    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == dr.run_id)
        )
        tasks = {ti.task_id: str(ti.state.value if hasattr(ti.state, "value") else ti.state) for ti in tis}
    state = dr.state.value if hasattr(dr.state, "value") else str(dr.state)
    return DagResult(dag_id, dr.run_id, state, tasks)


def temporal_params():
    from scheduled_job_airflow.hooks import TemporalHook

    return TemporalHook().get_conn_params()


def run(coro):
    return asyncio.run(coro)


async def client():
    from scheduled_job_airflow.hooks import connect

    return await connect(temporal_params())


async def wait_closed(workflow_id: str, timeout: float = 30) -> str:
    """Waits until the workflow ID's latest run is closed; returns its Temporal status name."""
    c = await client()
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        desc = await c.get_workflow_handle(workflow_id).describe()
        if desc.status.name != "RUNNING" or asyncio.get_running_loop().time() > deadline:
            return desc.status.name
        await asyncio.sleep(0.5)
