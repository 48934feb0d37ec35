#!/usr/bin/env bash
# Every entry script's set-up: Node >= 22 (scripts/use-node.sh), the pinned npm dependencies from the lock file, and
# the build in dist/ that bin/scheduled-job runs. The dependencies are reinstalled when the lock file changed or
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
# The node the dependencies were installed for: bin/scheduled-job runs on it, so a shell whose PATH has an older
# node first (this machine's system Node 20) runs the CLI without starting that node first.
command -v node >node_modules/.scheduled-job-node
npm run build --silent
# A newcomer types `scheduled-job` next: say how it gets on PATH, once, until it does.
if [ "$(readlink -f "$(command -v scheduled-job 2>/dev/null)" 2>/dev/null)" != "$PWD/bin/scheduled-job" ] && [ ! -e node_modules/.scheduled-job-path-hint ]; then
  echo "set-up: to type \`scheduled-job\` in your shell, run \`npm link\` in $PWD (it links scheduled-job into the bin folder of \`npm prefix -g\`) or \`ln -s $PWD/bin/scheduled-job ~/.local/bin/\` (any folder on PATH), or call $PWD/bin/scheduled-job" >&2
  touch node_modules/.scheduled-job-path-hint
fi
