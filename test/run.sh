#!/usr/bin/env bash
# `npm test`: type-check, bring the local stack up if it is not (a no-op when it is), then every unit and
# integration test against it, the fault suite's short form (on a stack of its own, scripts/chaos.sh), then the
# Airflow provider's tests (pytest against the local stack).
# Test files run one at a time: integration tests share the stack's Temporal and Postgres.
# With arguments, runs only those node test files.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh # Node >= 22 first on PATH, for this script and every process it starts

bash scripts/ensure-deps.sh || exit 1
npx tsc --noEmit -p . || exit 1
bash stack/stack.sh up || exit 1
eval "$(bash stack/stack.sh env)"
export LOG_LEVEL="${LOG_LEVEL:-warn}"

files=(test/unit/*.test.ts test/workflows/*.test.ts test/integration/*.test.ts)
if [ "$#" -gt 0 ]; then
  exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@"
fi

log=$(mktemp)
node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}" 2>&1 | tee "$log"
node_rc=${PIPESTATUS[0]}
# The fault suite's short form, on a stack of its own (scripts/chaos.sh; `npm run chaos` is the full form).
bash scripts/chaos.sh --short 2>&1 | tee -a "$log"
chaos_rc=${PIPESTATUS[0]}
bash test/airflow.sh 2>&1 | tee -a "$log"
py_rc=${PIPESTATUS[0]}

# One closing line for all runners (both node runs and pytest), so CI reads the whole suite rather than a share of it.
count() { grep -oE "[0-9]+ $1" <<<"$2" | grep -oE '[0-9]+' || echo 0; }
pytest_summary=$(grep -E '[0-9]+ (passed|failed).* in [0-9.]+s' "$log" | tail -1)
node_sum() { awk -v k="$1" '$1 == "ℹ" && $2 == k && $3 ~ /^[0-9]+$/ && NF == 3 { s += $3 } END { print s + 0 }' "$log"; }
passed=$(( $(node_sum pass) + $(count passed "$pytest_summary") ))
failed=$(( $(node_sum fail) + $(count failed "$pytest_summary") + $(count error "$pytest_summary") ))
rm -f "$log"
echo "total: ${passed} passed, ${failed} failed"
[ "$node_rc" -eq 0 ] && [ "$chaos_rc" -eq 0 ] && [ "$py_rc" -eq 0 ]
