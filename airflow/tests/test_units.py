"""Trigger serialization, the hook's connection/environment resolution, the operator's argument handling."""

import json
from types import SimpleNamespace

import pytest

from scheduled_job_airflow import get_provider_info
from scheduled_job_airflow.catalog import CatalogError, JobDescription, PreparedStart, prepare_start
from scheduled_job_airflow.hooks import TemporalConnParams, params_from
from scheduled_job_airflow.operators import ScheduledJobOperator
from scheduled_job_airflow.triggers import ScheduledJobTrigger


def test_trigger_serialization_round_trip():
    trigger = ScheduledJobTrigger(
        workflow_id="ingest_notification_views/2024-05-01",
        run_id="0190c0de-run",
        temporal_conn_id="temporal_prod",
        poll_interval=7,
        deadline=1_900_000_000.5,
        cancel_on_kill=False,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "scheduled_job_airflow.triggers.ScheduledJobTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs  # plain JSON: storable in the triggers table as is

    from airflow.sdk._shared.module_loading import import_string

    again = import_string(classpath)(**kwargs)
    assert again.serialize() == (classpath, kwargs)
    assert kwargs == {
        "workflow_id": "ingest_notification_views/2024-05-01",
        "run_id": "0190c0de-run",
        "temporal_conn_id": "temporal_prod",
        "poll_interval": 7.0,
        "deadline": 1_900_000_000.5,
        "cancel_on_kill": False,
    }


def test_trigger_with_airflow_serde():
    from airflow.sdk.serde import deserialize, serialize

    _, kwargs = ScheduledJobTrigger("example_steps", None).serialize()
    assert deserialize(serialize(kwargs)) == kwargs
    assert kwargs["run_id"] is None and kwargs["deadline"] is None


def conn(host=None, port=None, password=None, extra=None):
    return SimpleNamespace(host=host, port=port, password=password, extra_dejson=extra or {})


def test_params_from_connection():
    p = params_from(
        conn("temporal.internal", 7233, extra={"namespace": "data", "task_queue": "jobs", "tls": "true"}), env={}
    )
    assert p == TemporalConnParams(address="temporal.internal:7233", namespace="data", task_queue="jobs", tls=True)


def test_params_fall_back_to_environment_then_defaults():
    env = {
        "TEMPORAL_ADDRESS": "10.0.0.5:7233",
        "TEMPORAL_NAMESPACE": "ns",
        "TEMPORAL_TASK_QUEUE": "q",
        "TEMPORAL_API_KEY": "secret-key",
    }
    p = params_from(None, env=env)
    assert (p.address, p.namespace, p.task_queue, p.api_key, p.tls) == ("10.0.0.5:7233", "ns", "q", "secret-key", True)
    assert p.redacted()["api_key"] == "***"
    assert params_from(None, env={}) == TemporalConnParams()  # 127.0.0.1:7233, default, scheduled-job
    # A connection without a task queue takes the environment's.
    assert params_from(conn("h", 1), env={"TEMPORAL_TASK_QUEUE": "q2"}).task_queue == "q2"
    # The password doubles as the API key.
    assert params_from(conn("h", 1, password="k"), env={}).api_key == "k"


def test_operator_arguments():
    op = ScheduledJobOperator(task_id="t", job="j", args='{"day": "2024-05-01"}', lock_key="day")
    assert op._resolved_args() == {"day": "2024-05-01"}
    assert op._resolved_lock_key() == ["day"]
    op = ScheduledJobOperator(task_id="t2", job="j", lock_key='["a", "b"]')
    assert op._resolved_lock_key() == ["a", "b"] and op._resolved_args() == {}
    with pytest.raises(ValueError, match="on_conflict"):
        ScheduledJobOperator(task_id="t3", job="j", on_conflict="wait")


def test_operator_lock_key_is_optional():
    assert ScheduledJobOperator(task_id="t", job="j")._resolved_lock_key() is None
    # a template of an absent param renders as the text None
    assert ScheduledJobOperator(task_id="t2", job="j", lock_key="None")._resolved_lock_key() is None
    assert ScheduledJobOperator(task_id="t3", job="j", lock_key=[])._resolved_lock_key() == []


INGEST = JobDescription(
    name="ingest_notification_views",
    lock_key=["day"],
    default_args={},
    # as the workers publish it (zod's JSON Schema of the job's arguments)
    args_schema={
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "day": {"type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
            "parallelism": {"type": "integer", "minimum": 1, "maximum": 32},
        },
        "required": ["day"],
        "additionalProperties": False,
    },
)
FLAKY = JobDescription(name="example_flaky", lock_key=["tag"], default_args={"failAttempts": 2, "tag": "default"})


def test_prepare_start_takes_the_lock_key_and_defaults_from_the_catalog():
    assert prepare_start(INGEST, {"day": "2024-05-01"}, None) == PreparedStart(
        "ingest_notification_views/2024-05-01", {"day": "2024-05-01"}
    )
    # the default of a lock-key argument makes the lock, as on the workers
    assert prepare_start(FLAKY, {}, None).workflow_id == "example_flaky/default"
    assert prepare_start(FLAKY, {"tag": "x"}, ["tag"]) == PreparedStart(
        "example_flaky/x", {"failAttempts": 2, "tag": "x"}
    )


def test_prepare_start_refuses_a_wrong_lock_key_and_bad_arguments_naming_the_field():
    with pytest.raises(CatalogError, match=r"lock_key \['tag'\] does not match .* \['day'\]"):
        prepare_start(INGEST, {"day": "2024-05-01"}, ["tag"])
    with pytest.raises(CatalogError, match=r"lock_key \[\] does not match"):
        prepare_start(INGEST, {"day": "2024-05-01"}, [])
    with pytest.raises(CatalogError, match=r"args\.day: '2024-5-1' does not match"):
        prepare_start(INGEST, {"day": "2024-5-1"}, None)
    with pytest.raises(CatalogError, match=r"args\.\(root\): 'day' is a required property"):
        prepare_start(INGEST, {}, None)
    with pytest.raises(CatalogError, match=r"args\.parallelism: 99 is greater than the maximum of 32"):
        prepare_start(INGEST, {"day": "2024-05-01", "parallelism": 99}, None)
    with pytest.raises(CatalogError, match=r"'dya' was unexpected"):
        prepare_start(INGEST, {"day": "2024-05-01", "dya": "x"}, None)


def test_provider_is_registered():
    from importlib.metadata import entry_points

    eps = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("scheduled_job_airflow")]
    assert len(eps) == 1 and eps[0].load() is get_provider_info
    info = get_provider_info()
    assert info["package-name"] == "scheduled-job-airflow"
    assert info["connection-types"][0]["connection-type"] == "temporal"

    try:
        from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime as Manager
    except ImportError:  # Airflow < 3.2
        from airflow.providers_manager import ProvidersManager as Manager

    pm = Manager()
    assert "scheduled-job-airflow" in pm.providers
    hook = pm.hooks["temporal"]
    assert hook is not None and hook.hook_class_name == "scheduled_job_airflow.hooks.TemporalHook"
