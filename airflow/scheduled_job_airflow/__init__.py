"""Airflow provider for scheduled-job: jobs that run as Temporal workflows, with their workflow ID as their lock."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = [
    "ScheduledJobOperator",
    "ScheduledJobSensor",
    "ScheduledJobTrigger",
    "TemporalHook",
    "get_provider_info",
    "workflow_id",
]


def __getattr__(name: str) -> Any:
    # Lazy, so that the providers manager can read get_provider_info without importing Airflow's task SDK.
    if name == "ScheduledJobOperator":
        from .operators import ScheduledJobOperator

        return ScheduledJobOperator
    if name == "ScheduledJobSensor":
        from .sensors import ScheduledJobSensor

        return ScheduledJobSensor
    if name == "ScheduledJobTrigger":
        from .triggers import ScheduledJobTrigger

        return ScheduledJobTrigger
    if name == "TemporalHook":
        from .hooks import TemporalHook

        return TemporalHook
    if name == "workflow_id":
        from .workflow_id import workflow_id

        return workflow_id
    raise AttributeError(name)


def get_provider_info() -> dict[str, Any]:
    """Read by Airflow's providers manager (entry point ``apache_airflow_provider``)."""
    integration = "Scheduled Job"
    return {
        "package-name": "scheduled-job-airflow",
        "name": "Scheduled Job",
        "description": "Start, watch and cancel scheduled-job runs (Temporal workflows; the workflow ID is the lock).",
        "versions": [__version__],
        "integrations": [{"integration-name": integration, "tags": ["service"]}],
        "operators": [{"integration-name": integration, "python-modules": ["scheduled_job_airflow.operators"]}],
        "sensors": [{"integration-name": integration, "python-modules": ["scheduled_job_airflow.sensors"]}],
        "hooks": [{"integration-name": integration, "python-modules": ["scheduled_job_airflow.hooks"]}],
        "triggers": [{"integration-name": integration, "python-modules": ["scheduled_job_airflow.triggers"]}],
        "connection-types": [
            {"hook-class-name": "scheduled_job_airflow.hooks.TemporalHook", "connection-type": "temporal"}
        ],
    }
