#!/usr/bin/env bash
# `npm run bench [-- --quick | --lines N --objects N]`: benchmarks on the local stack (see BENCHMARKS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh # Node >= 22 first on PATH, for this script and every process it starts
bash scripts/ensure-deps.sh
bash stack/stack.sh up >&2
eval "$(bash stack/stack.sh env)"
LOG_LEVEL=warn exec node --import tsx bench/run.ts "$@"
