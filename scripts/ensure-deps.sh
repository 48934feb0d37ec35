#!/usr/bin/env bash
# First use on a fresh clone: install the pinned npm dependencies from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/@temporalio/worker ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
