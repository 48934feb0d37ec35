#!/usr/bin/env bash
# `npm run chaos`: the fault suite (test/chaos/) on a stack of its own, so the restarts and outages it causes never
# touch the stack the other tests and the demo use. Ports are the local stack's + 100 (Postgres 55532, Temporal 7333,
# Kafka 9192, S3 7170); state in .stack/chaos. A stack this script brought up is taken down at the end (keep it with
# CHAOS_KEEP_STACK=1).
#
#   scripts/chaos.sh [--full]   every scenario at full size (30 s S3 outage, several restarts and kills), and the
#                               schedule, backfill, concurrency-limit and missed-tick scenarios
#   scripts/chaos.sh --short    the form `npm test` runs: the dependency and kill scenarios (test/chaos/faults.test.ts),
#                               each once or a few times, smaller (README, Fault suite)
#
# CHAOS_SEED picks the kill -9 moments (default 8). Extra arguments go to node --test.
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh # Node >= 22 first on PATH, for this script and every process it starts

mode=full
case ${1:-} in
  --short) mode=short; shift ;;
  --full) shift ;;
esac

export SCHEDULED_JOB_PORT_OFFSET=${CHAOS_PORT_OFFSET:-100}
export SCHEDULED_JOB_STACK_DIR=${CHAOS_STACK_DIR:-$PWD/.stack/chaos}
if [ "$SCHEDULED_JOB_PORT_OFFSET" = 0 ]; then
  echo "chaos: refusing to restart the services of the main stack (CHAOS_PORT_OFFSET=0)" >&2
  exit 2
fi

bash scripts/ensure-deps.sh || exit 1
was_up=1
bash stack/stack.sh status >/dev/null 2>&1 || was_up=0
if ! bash stack/stack.sh up; then
  echo "chaos: the chaos stack did not come up"
  echo "ℹ fail 1" # counted by test/run.sh's closing line like a failed test
  exit 1
fi
# The chaos stack's variables, over whatever the caller's shell had (npm test evaluates the main stack's first).
eval "$(bash stack/stack.sh env)"
export LOG_LEVEL="${LOG_LEVEL:-warn}" CHAOS_MODE=$mode

t0=$(date +%s)
files=(test/chaos/*.test.ts)
# The short form leaves the scenarios of this round's features (schedules, limits, alerts: about 5 minutes) to the
# full one: npm test's soak injects every kind of fault under the shipped jobs and consumer instead.
[ "$mode" = short ] && files=(test/chaos/faults.test.ts)
node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@" "${files[@]}"
rc=$?
echo "chaos: $mode form in $(( $(date +%s) - t0 )) s"
if [ "$was_up" = 0 ] && [ -z "${CHAOS_KEEP_STACK:-}" ]; then bash stack/stack.sh down >/dev/null; fi
exit $rc
