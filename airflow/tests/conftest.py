"""Test session for the Airflow integration, against the real local stack.

Before Airflow is imported: a temporary AIRFLOW_HOME with a SQLite metadata DB, a DAGs folder holding the example DAGs
and tests/dags, and the connections as AIRFLOW_CONN_* variables. The session then migrates the DB and starts its own
`scheduled-job worker` and `scheduled-job api` on a task queue and port of its own, so that other test runs' workers
never pick up these runs (and this worker none of theirs).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

AIRFLOW_DIR = Path(__file__).resolve().parents[1]
REPO = AIRFLOW_DIR.parent
HOME = Path(tempfile.mkdtemp(prefix="scheduled-job-airflow-"))
QUEUE = f"airflow-test-{secrets.token_hex(4)}"
API_TOKEN = f"airflow-test-{secrets.token_hex(8)}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stack_env() -> dict[str, str]:
    """The local stack's environment (`stack.sh env`), over this process's own."""
    out = subprocess.run(
        ["bash", "-c", 'eval "$(bash stack/stack.sh env)" && env -0'],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


API_PORT = _free_port()
SERVICE_ENV = {
    **_stack_env(),
    "TEMPORAL_TASK_QUEUE": QUEUE,
    "API_PORT": str(API_PORT),
    "API_HOST": "127.0.0.1",
    "API_TOKEN": API_TOKEN,
    "LOG_LEVEL": os.environ.get("LOG_LEVEL", "warn"),
    # The shipped jobs and the tests' variants: test_steps locks on a tag, so each test holds a lock of its own.
    "JOBS_MODULE": str(REPO / "test" / "support" / "jobs.ts"),
    # Jobs only: a consumer workflow started on this session's queue would be orphaned when the session ends.
    "CONSUMERS_MODULE": str(AIRFLOW_DIR / "tests" / "no_consumers.js"),
}
TEMPORAL_ADDRESS = SERVICE_ENV.get("TEMPORAL_ADDRESS", "127.0.0.1:7233")
TEMPORAL_HOST, TEMPORAL_PORT = TEMPORAL_ADDRESS.rsplit(":", 1)

DAGS = HOME / "dags"
DAGS.mkdir()
for source in [
    *sorted((AIRFLOW_DIR / "example_dags").glob("*.py")),
    *sorted((AIRFLOW_DIR / "tests" / "dags").glob("*.py")),
]:
    (DAGS / source.name).symlink_to(source)

os.environ.update(
    {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME}/airflow.db",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(HOME / "logs"),
        "AIRFLOW__CORE__DAG_DISCOVERY_SAFE_MODE": "False",
        "AIRFLOW_CONN_TEMPORAL_DEFAULT": json.dumps(
            {
                "conn_type": "temporal",
                "host": TEMPORAL_HOST,
                "port": int(TEMPORAL_PORT),
                "extra": {"namespace": SERVICE_ENV.get("TEMPORAL_NAMESPACE", "default"), "task_queue": QUEUE},
            }
        ),
        "AIRFLOW_CONN_SCHEDULED_JOB_API": json.dumps(
            {
                "conn_type": "http",
                "host": "127.0.0.1",
                "port": API_PORT,
                "extra": {"Authorization": f"Bearer {API_TOKEN}"},
            }
        ),
        "SCHEDULED_JOB_EXAMPLE_POLL_SECONDS": "1",
        # for the hook's environment fallback
        "TEMPORAL_ADDRESS": TEMPORAL_ADDRESS,
        "TEMPORAL_TASK_QUEUE": QUEUE,
    }
)


def _wait_for(what: str, check, timeout: float, procs=()) -> None:
    deadline = time.time() + timeout
    last: BaseException | None = None
    while time.time() < deadline:
        for name, proc, log in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode} while waiting for {what}:\n{_tail(log)}")
        try:
            if check():
                return
        except Exception as err:  # noqa: BLE001 - retried until the deadline
            last = err
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}: {last}")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _api_healthy() -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{API_PORT}/healthz", timeout=2) as r:
        return r.status == 200


def _worker_polling() -> bool:
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
    from temporalio.client import Client

    async def pollers() -> int:
        client = await Client.connect(TEMPORAL_ADDRESS)
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace="default",
                task_queue=TaskQueue(name=QUEUE),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        return len(resp.pollers)

    return asyncio.run(pollers()) > 0


@pytest.fixture(scope="session")
def services():
    """Metadata DB migrated, and a worker and the API of this session running."""
    host, port = TEMPORAL_HOST, int(TEMPORAL_PORT)
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError:
        pytest.fail(f"Temporal is not reachable at {TEMPORAL_ADDRESS}: start the stack (bash stack/stack.sh up)")

    airflow = Path(sys.executable).with_name("airflow")
    migrate = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True)
    if migrate.returncode != 0:
        pytest.fail(f"airflow db migrate failed:\n{migrate.stdout[-3000:]}\n{migrate.stderr[-3000:]}")

    procs = []
    try:
        for name in ("worker", "api"):
            log = HOME / f"{name}.log"
            proc = subprocess.Popen(
                ["node", "bin/scheduled-job.js", name],
                cwd=REPO,
                env=SERVICE_ENV,
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so teardown stops tsx and its children too
            )
            procs.append((name, proc, log))
        _wait_for("the API", _api_healthy, 90, procs)
        _wait_for(f"a worker polling {QUEUE}", _worker_polling, 90, procs)
        yield {"queue": QUEUE, "api_port": API_PORT, "api_token": API_TOKEN, "home": HOME}
    finally:
        for _, proc, _ in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc, _ in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("KEEP_AIRFLOW_HOME") or exitstatus != 0:
        print(f"\nAirflow home, logs and service logs kept in {HOME}", file=sys.stderr)
    else:
        shutil.rmtree(HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def dagbag(services):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert not bag.import_errors, bag.import_errors
    return bag


def unique(prefix: str) -> str:
    """A lock value no other test (or test run) uses."""
    return f"{prefix}-{secrets.token_hex(4)}"
