#!/usr/bin/env bash
# The Airflow integration's tests (airflow/tests) against the local stack, in the cached Airflow virtualenv.
# The tests start their own worker and API on a task queue and port of their own. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh # Node >= 22 first on PATH, for this script and every process it starts

bash scripts/ensure-deps.sh >&2 # the worker and API the tests start run the build
venv=$(bash airflow/setup-venv.sh)
bash stack/stack.sh up >&2
cd airflow
exec "$venv/bin/python" -m pytest -p no:cacheprovider -o console_output_style=classic -q -rs "$@"
