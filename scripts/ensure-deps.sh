#!/usr/bin/env bash
# Every entry script's set-up: Node >= 22 (scripts/use-node.sh), the pinned npm dependencies from the lock file, and
# the build in dist/ that bin/scheduled-job.js runs. The dependencies are reinstalled when the lock file changed or
# node_modules was installed by a node of another ABI, so native modules always match the node that runs them. The
# build runs every time (incremental: a few seconds when nothing changed), so no process starts an older dist/.
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
npm run build --silent
