#!/usr/bin/env bash
# First use on a fresh clone: Node >= 22 (scripts/use-node.sh), then the pinned npm dependencies from the lock file.
# They are reinstalled when the lock file changed or node_modules was installed by a node of another ABI, so native
# modules always match the node that runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh
marker=node_modules/.scheduled-job-node-abi
abi="$(node -p 'process.platform + "-" + process.arch + "-" + process.versions.modules')"
if [ ! -d node_modules/@temporalio/worker ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
  [ "$(cat "$marker" 2>/dev/null)" != "$abi" ]; then
  npm ci --no-audit --no-fund
  echo "$abi" >"$marker"
fi
