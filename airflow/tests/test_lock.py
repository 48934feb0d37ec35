"""The lock holds whoever starts the run: the operator without lock_key, the HTTP API, our CLI and the temporal CLI,
with right and wrong workflow IDs, all against the real stack and the session's worker."""

from __future__ import annotations

import glob
import json
import random
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from conftest import API_PORT, API_TOKEN, QUEUE, REPO, SERVICE_ENV, TEMPORAL_ADDRESS
from helpers import client, run, run_dag, wait_closed

from scheduled_job_airflow.operators import ScheduledJobOperator

pytestmark = pytest.mark.usefixtures("services")
JOB = "ingest_notification_views"


def fresh_day() -> str:
    """A day no other run uses (the long-lived local database keeps every day's rows)."""
    return f"{random.randint(2100, 9000)}-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}"


def sql(query: str) -> str:
    psql = sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    out = subprocess.run(
        [psql, SERVICE_ENV["DATABASE_URL"], "-XAtc", query], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def http_start(day: str) -> tuple[int, dict]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{API_PORT}/jobs/{JOB}/runs",
        data=json.dumps({"args": {"day": day}}).encode(),
        headers={"Authorization": f"Bearer {API_TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def temporal_start(workflow_id: str, day: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["temporal", "workflow", "start", "--type", "scheduledJob", "--task-queue", QUEUE, "--workflow-id", workflow_id,
         "--input", json.dumps({"job": JOB, "args": {"day": day}}), "--address", TEMPORAL_ADDRESS],
        env=SERVICE_ENV, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def cli_trigger(day: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", "bin/scheduled-job.js", "trigger", JOB, "--args", json.dumps({"day": day})],
        cwd=REPO, env=SERVICE_ENV, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


class FakeTI:
    """The task instance's XCom side, which is all of the context the operator's start reads."""

    def __init__(self) -> None:
        self.xcom: dict[str, object] = {}

    def xcom_push(self, key: str, value: object) -> None:
        self.xcom[key] = value


def operator_start(day: str) -> dict[str, object]:
    ti = FakeTI()
    op = ScheduledJobOperator(task_id=f"race-{random.getrandbits(32)}", job=JOB, args={"day": day}, wait=False)
    op.execute({"ti": ti})
    return ti.xcom


async def _cancel(workflow_id: str) -> None:
    try:
        await (await client()).get_workflow_handle(workflow_id).cancel()
    except Exception:  # noqa: BLE001 - closed already
        pass


def test_operator_without_lock_key_meets_the_http_apis_lock(dagbag):
    day = fresh_day()  # no _SUCCESS marker: the run waits for the upstream, holding the lock
    status, body = http_start(day)
    assert status == 202, body
    try:
        result = run_dag(dagbag, "sj_test_catalog_lock", {"day": day})
        assert result.tasks == {"refused": "failed", "attach": "success"}, result
        assert result.xcom("attach", "workflow_id") == f"{JOB}/{day}"
        assert result.xcom("attach", "run_id") == body["runId"]  # the HTTP API's run, not a second one
        assert result.xcom("attach", "attached") is True
    finally:
        run(_cancel(f"{JOB}/{day}"))


def test_a_wrong_lock_key_or_bad_arguments_fail_the_task_before_anything_starts(dagbag):
    day = fresh_day()
    wrong_key = run_dag(dagbag, "sj_test_catalog_mismatch", {"args": {"day": day}, "lock_key": ["tag"]})
    bad_args = run_dag(dagbag, "sj_test_catalog_mismatch", {"args": {"day": f"{day}x"}})
    unknown_arg = run_dag(dagbag, "sj_test_catalog_mismatch", {"args": {"day": day, "dya": day}})
    for r in (wrong_key, bad_args, unknown_arg):
        assert r.tasks == {"start": "failed"}, r
    started = sql(f"SELECT count(*) FROM job_runs WHERE args->>'day' IN ('{day}', '{day}x')")
    assert started == "0"

    async def exists(wid: str) -> bool:
        try:
            await (await client()).get_workflow_handle(wid).describe()
            return True
        except Exception:  # noqa: BLE001 - not found
            return False

    assert not run(exists(f"{JOB}/{day}")) and not run(exists(f"{JOB}/{day}x"))


def test_fifty_concurrent_starts_from_every_starter_make_exactly_one_ingest():
    day = fresh_day()
    out = Path(tempfile.mkdtemp(prefix="lock-race-"))
    try:
        gen = subprocess.run(
            ["node", "--import", "tsx", "scripts/generate-day.ts", "--day", day, "--objects", "2",
             "--lines-per-object", "3000", "--seed", "50", "--out", str(out)],
            cwd=REPO, env=SERVICE_ENV, capture_output=True, text=True, check=True,
        )  # fmt: skip
        expected = json.loads(next(out.rglob("expected-*.json")).read_text())
        marker = next(out.rglob("_SUCCESS"))
        held_back = Path(f"{out}-SUCCESS")
        shutil.move(marker, held_back)  # the day is not ready during the race, so the one run holds the lock throughout
        upload = ["node", "--import", "tsx", "scripts/upload-day.ts", "--dir", str(out), "--day", day]
        subprocess.run(upload, cwd=REPO, env=SERVICE_ENV, capture_output=True, check=True)

        right = f"{JOB}/{day}"
        wrong = [f"{JOB}", f"{JOB}/{day}/x", f"{JOB}-{day}", day, f"{JOB}/ {day}", f"{JOB}//{day}", f"ingest/{day}"]
        starters = (
            [("http", lambda: http_start(day))] * 15
            + [("operator", lambda: operator_start(day))] * 10
            + [("cli", lambda: cli_trigger(day))] * 10
            + [("temporal-right", lambda: temporal_start(right, day))] * 8
            + [(f"temporal-wrong:{w}", lambda w=w: temporal_start(w, day)) for w in wrong]
        )
        assert len(starters) == 50
        random.shuffle(starters)
        barrier = threading.Barrier(len(starters))
        results: list[tuple[str, object]] = []
        lock = threading.Lock()

        def go(name, fn):
            barrier.wait()
            try:
                r = fn()
            except Exception as err:  # noqa: BLE001 - recorded and asserted below
                r = err
            with lock:
                results.append((name, r))

        threads = [threading.Thread(target=go, args=s) for s in starters]
        for t in threads:
            t.start()
        for t in threads:
            t.join(240)
        assert len(results) == 50

        # Every right-ID start names the same run: the one that began it, and all that met the lock. The temporal CLI
        # answers a start of a running ID with that run (exit 0), our starters with a lock error or an attach.
        run_ids: Counter[str] = Counter()
        began: list[str] = []
        for name, r in results:
            if name == "http":
                status, body = r
                assert status in (202, 409), (status, body)
                run_ids[body["runId"]] += 1
                began += [name] if status == 202 else []
            elif name == "operator":
                assert isinstance(r, dict), r
                assert r["workflow_id"] == right
                run_ids[str(r["run_id"])] += 1
                began += [] if r["attached"] else [name]
            elif name == "cli":
                assert r.returncode in (0, 3), r.stderr  # 3: already_running
                run_ids[json.loads((r.stdout if r.returncode == 0 else r.stderr).strip().splitlines()[-1])["runId"]] += 1
                began += [name] if r.returncode == 0 else []
            elif name == "temporal-right":
                assert r.returncode == 0, r.stderr
                run_ids[re.search(r"RunId\s+(\S+)", r.stdout).group(1)] += 1
            else:
                assert r.returncode == 0, r.stderr  # a wrong ID is a different workflow: it starts, then refuses
        assert len(run_ids) == 1 and sum(run_ids.values()) == 43, run_ids
        assert len(began) <= 1, f"our starters that say they began a run: {began}"

        # Each wrong-ID run refused itself, naming the right ID.
        for w in wrong:
            assert run(wait_closed(w, timeout=60)) == "FAILED", w
        refusals = sql(
            f"SELECT count(*) FROM job_runs WHERE args->>'day' = '{day}' AND workflow_id <> '{right}' "
            f"AND status = 'failed' AND error LIKE 'WrongWorkflowId: % must be started under workflow ID \"{right}\"%'"
        )
        assert refusals == str(len(wrong))

        shutil.move(held_back, marker)
        subprocess.run(upload, cwd=REPO, env=SERVICE_ENV, capture_output=True, check=True)
        assert run(wait_closed(right, timeout=300)) == "COMPLETED"
        chains = sql(f"SELECT count(DISTINCT first_run_id) FROM job_runs WHERE workflow_id = '{right}'")
        assert chains == "1"
        assert sql(f"SELECT count(*) FROM notification_views WHERE day = '{day}'") == str(expected["views"])
        assert sql(f"SELECT count(*) FROM ingest_rejects WHERE day = '{day}'") == str(expected["rejected"])
        assert gen.returncode == 0
    finally:
        shutil.rmtree(out, ignore_errors=True)
        Path(f"{out}-SUCCESS").unlink(missing_ok=True)
