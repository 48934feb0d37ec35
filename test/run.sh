#!/usr/bin/env bash
# `npm test`: type-check, bring the local stack up if it is not (a no-op when it is), then every unit and
# integration test against it, with the fault suite's short form beside them (on a stack of its own,
# scripts/chaos.sh), then the tests that need the Temporal server and the soak's short form (both on the soak stack,
# brought up with `--temporal server`), with the Airflow provider's tests (pytest against the local stack) beside
# them. The Temporal server is built in the background while the first tests run (a cold build takes 8-10 minutes on
# 2 cores). What runs beside other tests runs on a stack of its own, so only the CPU is shared: it keeps the suite
# within 25 minutes on 2 cores.
# Test files run one at a time: integration tests share the stack's Temporal and Postgres.
# With arguments, runs only those node test files.
#
# The closing line counts every runner's tests: passed, failed, cancelled (a test that timed out or whose parent
# ended first) and skipped, and names each skipped test. Any failed or cancelled test fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
# What runs in the background (the fault suite, the Airflow tests, the server's build) stops with the suite.
trap 'kill $(jobs -p) 2>/dev/null; exit 130' INT TERM
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh # Node >= 22 first on PATH, for this script and every process it starts

bash scripts/ensure-deps.sh || exit 1
npx tsc --noEmit -p . || exit 1
bash stack/stack.sh up || exit 1
eval "$(bash stack/stack.sh env)"
export LOG_LEVEL="${LOG_LEVEL:-warn}"

# Tests that need the Temporal server (PostgreSQL, several shards); they fail on the dev server.
server_files=(test/integration/severalWorkers.test.ts)
files=()
for f in test/unit/*.test.ts test/workflows/*.test.ts test/integration/*.test.ts; do
  [[ " ${server_files[*]} " == *" $f "* ]] || files+=("$f")
done
if [ "$#" -gt 0 ]; then
  exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@"
fi

log=$(mktemp)
build_log=$(mktemp)
# The soak stack's Temporal server, built into the install cache while the tests below run (nice: the tests come first).
(
  # shellcheck source=scripts/soak-env.sh
  source scripts/soak-env.sh
  SCHEDULED_JOB_TEMPORAL=server nice -n 19 bash stack/stack.sh install
) >"$build_log" 2>&1 &
build_pid=$!

# The fault suite's short form, on a stack of its own (scripts/chaos.sh; `npm run chaos` is the full form), beside
# the tests below (nice: they come first); its output follows theirs.
chaos_log=$(mktemp)
nice -n 10 bash scripts/chaos.sh --short >"$chaos_log" 2>&1 &
chaos_pid=$!

node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}" 2>&1 | tee "$log"
node_rc=${PIPESTATUS[0]}
wait "$chaos_pid"
chaos_rc=$?
tee -a "$log" <"$chaos_log"

# The Airflow provider's tests, against the local stack, beside the server profile's tests; their output follows.
py_log=$(mktemp)
bash test/airflow.sh >"$py_log" 2>&1 &
py_pid=$!

# The server profile, on the soak stack: the tests that need it, then the soak's short form on the same stack.
t0=$(date +%s)
wait "$build_pid"
build_rc=$?
echo "npm test: the Temporal server's build finished $(($(date +%s) - t0)) s after the other tests (exit $build_rc)"
tail -n 5 "$build_log"
soak_was_up=1
(source scripts/soak-env.sh && bash stack/stack.sh status >/dev/null 2>&1) || soak_was_up=0
(
  # shellcheck source=scripts/soak-env.sh
  source scripts/soak-env.sh
  if [ "$build_rc" -ne 0 ] || ! bash stack/stack.sh up --temporal server; then
    echo "npm test: the soak stack did not come up with the Temporal server"
    echo "ℹ fail 1" # counted by the closing line like a failed test
    exit 1
  fi
  eval "$(bash stack/stack.sh env)"
  node --import tsx --test --test-concurrency=1 --test-reporter=spec "${server_files[@]}"
) 2>&1 | tee -a "$log"
server_rc=${PIPESTATUS[0]}
SOAK_KEEP_STACK=1 bash scripts/soak.sh --temporal server --minutes "${SOAK_MINUTES:-3}" 2>&1 | tee -a "$log"
soak_rc=${PIPESTATUS[0]}
if [ "$soak_was_up" = 0 ] && [ -z "${SOAK_KEEP_STACK:-}" ]; then
  (source scripts/soak-env.sh && bash stack/stack.sh down >/dev/null)
fi

wait "$py_pid"
py_rc=$?
tee -a "$log" <"$py_log"

# One closing line for all runners (every node run, the soak, pytest), so CI reads the whole suite rather than a share.
count() { grep -oE "[0-9]+ $1" <<<"$2" | grep -oE '[0-9]+' || echo 0; }
pytest_summary=$(grep -E '[0-9]+ (passed|failed|skipped|error).* in [0-9.]+s' "$log" | tail -1)
node_sum() { awk -v k="$1" '$1 == "ℹ" && $2 == k && $3 ~ /^[0-9]+$/ && NF == 3 { s += $3 } END { print s + 0 }' "$log"; }
soak_pass=0
soak_fail=0
if [ "$soak_rc" -eq 0 ]; then soak_pass=1; else soak_fail=1; fi
passed=$(($(node_sum pass) + soak_pass + $(count passed "$pytest_summary")))
failed=$(($(node_sum fail) + soak_fail + $(count failed "$pytest_summary") + $(count error "$pytest_summary")))
cancelled=$(node_sum cancelled)
skipped=$(($(node_sum skipped) + $(node_sum todo) + $(count skipped "$pytest_summary")))
# Skipped node tests: the spec reporter's `﹣ <name> (<ms>) # <reason>` lines, named with the suite they are in.
skipped_names=$(awk '
  { line = $0; indent = match(line, /[^ ]/) - 1; text = substr(line, indent + 1) }
  text ~ /^▶ / { suite[indent] = substr(text, 5); for (i in suite) if (i + 0 > indent) delete suite[i]; next }
  text ~ /^﹣ / || text ~ / # TODO$/ {
    name = text; sub(/^(﹣|✔) /, "", name); sub(/ \([0-9.]+ms\)/, "", name)
    path = ""; for (i = 0; i < indent; i += 2) if (i in suite) path = path suite[i] " > "
    print "  skipped: " path name
  }' "$log")
pytest_skips=$(grep -E '^SKIPPED ' "$log" | sed 's/^/  skipped (pytest): /')
rm -f "$log" "$build_log" "$chaos_log" "$py_log"
echo "total: ${passed} passed, ${failed} failed, ${cancelled} cancelled, ${skipped} skipped"
[ -n "$skipped_names" ] && echo "$skipped_names"
[ -n "$pytest_skips" ] && echo "$pytest_skips"
[ "$node_rc" -eq 0 ] && [ "$chaos_rc" -eq 0 ] && [ "$server_rc" -eq 0 ] && [ "$soak_rc" -eq 0 ] && [ "$py_rc" -eq 0 ] &&
  [ "$failed" -eq 0 ] && [ "$cancelled" -eq 0 ]
