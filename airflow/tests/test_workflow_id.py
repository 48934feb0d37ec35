import json
import subprocess
from pathlib import Path

import pytest

from scheduled_job_airflow.workflow_id import workflow_id

REPO = Path(__file__).resolve().parents[2]

CASES = [
    ("example_steps", [], {"steps": 3}),
    ("example_steps", None, {}),
    ("ingest_notification_views", ["day"], {"day": "2024-05-01", "parallelism": 4}),
    ("example_flaky", ["tag"], {"tag": "nightly", "failAttempts": 1}),
    ("multi", ["region", "day", "n", "on"], {"day": "2024-05-01", "region": "eu", "n": 7, "on": True}),
    ("floaty", ["x"], {"x": 2.0}),
    ("floaty", ["x"], {"x": 2.5}),
]


def test_examples():
    assert workflow_id("example_steps", (), {"steps": 3}) == "example_steps"
    assert (
        workflow_id("ingest_notification_views", ["day"], {"day": "2024-05-01"})
        == "ingest_notification_views/2024-05-01"
    )
    assert workflow_id("example_flaky", ["tag"], {"tag": "t1", "failAttempts": 5}) == "example_flaky/t1"
    assert workflow_id("j", ["b", "a"], {"a": 1, "b": 2}) == "j/2/1"  # declared order, not argument order


@pytest.mark.parametrize("args", [{}, {"day": None}, {"day": ""}])
def test_missing_lock_value_is_an_error(args):
    with pytest.raises(ValueError, match="lock key day of ingest_notification_views has no value"):
        workflow_id("ingest_notification_views", ["day"], args)


def test_same_as_the_typescript_twin():
    """client/workflowId.ts and this module give the same IDs (and refuse the same inputs)."""
    script = (
        "require('tsx/cjs');"
        "const { workflowIdFor } = require('./client/workflowId.ts');"
        "const cases = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(cases.map(([j, k, a]) => { try { return workflowIdFor(j, k, a); }"
        " catch (e) { return null; } })));"
    )
    cases = [*CASES, ("ingest_notification_views", ["day"], {})]
    out = subprocess.run(
        ["node", "-e", script, json.dumps(cases)], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    ts = json.loads(out.strip().splitlines()[-1])

    def py(job, key, args):
        try:
            return workflow_id(job, key, args)
        except ValueError:
            return None

    assert [py(*c) for c in cases] == ts
