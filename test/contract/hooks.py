"""Schemathesis hooks for the contract fuzzing (test/integration/schemathesis.test.ts).

Every call schemathesis makes is logged, one JSON line each, to $CONTRACT_CALLS_LOG: its operation, how its data was
generated (positive: fits the document; negative: does not), the status it got and, for a 202, the run it started.
The test counts the cases per operation from it and matches every run the fuzzed API started to a 202 answer, so a
run started by a request that was refused (or never answered 202) is found.

One filter: the document lists `POST /jobs/{job}/runs` (any name: it answers 404 unknown_job) beside one operation
per job (`POST /jobs/example_steps/runs`, with that job's arguments). OpenAPI matches a concrete path before a
templated one, and so does the server, so a job's own name never reaches the templated operation; schemathesis does
not model that, and would fill `{job}` with a name it read from GET /jobs and judge the answer by the templated
operation's schema. Those cases are left to each job's own operation.
"""

import json
import os
import re

import schemathesis

LOG = os.environ["CONTRACT_CALLS_LOG"]
JOB_PATH = re.compile(r"^/jobs/([^/{}]+)/runs$")
concrete_jobs: set[str] = set()


@schemathesis.hook
def before_process_path(context, path, methods):
    match = JOB_PATH.match(path)
    if match:
        concrete_jobs.add(match.group(1))


@schemathesis.hook
def filter_path_parameters(context, path_parameters):
    operation = context.operation
    if operation is None or operation.path != "/jobs/{job}/runs":
        return True
    return path_parameters.get("job") not in concrete_jobs


@schemathesis.hook
def after_call(context, case, response):
    meta = case.meta
    run_id = None
    if response.status_code == 202:
        try:
            run_id = response.json().get("runId")
        except ValueError:
            pass
    line = {
        "operation": case.operation.label,
        "mode": meta.generation.mode.value if meta else "explicit",
        "phase": meta.phase.name.value if meta else "unknown",
        "status": response.status_code,
        "runId": run_id,
    }
    with open(LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")
