#!/usr/bin/env bash
# `npm test`: type-check, bring the local stack up if it is not (a no-op when it is), then every unit and
# integration test against it. Test files run one at a time: integration tests share one Temporal task queue.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-deps.sh
npx tsc --noEmit -p .
bash stack/stack.sh up
eval "$(bash stack/stack.sh env)"
export LOG_LEVEL="${LOG_LEVEL:-warn}"

files=(test/unit/*.test.ts test/integration/*.test.ts)
if [ "$#" -gt 0 ]; then files=("$@"); fi
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
