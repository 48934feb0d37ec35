#!/usr/bin/env bash
# The schemathesis virtualenv for the API's contract fuzzing (test/integration/schemathesis.test.ts): schemathesis and
# everything it pulls in at the versions of requirements.txt / constraints.txt, in the shared cache, rebuilt only
# when those change (about 30 s). Prints the venv's path on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec bash "$here/../../scripts/pinned-venv.sh" schemathesis-venv "$here"
