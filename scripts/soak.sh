#!/usr/bin/env bash
# `npm run soak`: the nemesis soak (test/soak/) on a stack of its own, so the faults it injects never touch the stack
# the other tests and the demo use. Ports are the exported SCHEDULED_JOB_PORT_OFFSET + 200 (SOAK_PORT_OFFSET sets them
# outright): Postgres 55632, Temporal 7433, Kafka 9292, S3 7270, API 8280 on a default machine; state in .stack/soak.
# A stack this script brought up is taken down at the end (keep it with SOAK_KEEP_STACK=1).
#
#   scripts/soak.sh [--minutes 15] [--seed S] [--temporal dev|server] [soak options]
#
# --temporal picks the stack's Temporal (`stack.sh up --temporal`), remembered in the soak stack's state directory.
# Other options go to test/soak/soak.ts (--rate, --day-every, --objects, --lines, --converge, --plan-only).
set -uo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh # Node >= 22 first on PATH, for this script and every process it starts

up_args=()
args=()
while (($#)); do
  case $1 in
    --temporal) up_args=(--temporal "${2:-}"); shift 2 || shift ;;
    --temporal=*) up_args=(--temporal "${1#*=}"); shift ;;
    *) args+=("$1"); shift ;;
  esac
done

# shellcheck source=scripts/soak-env.sh
source scripts/soak-env.sh

if [ "${args[*]-}" != "${args[*]/--plan-only/}" ]; then
  exec node --import tsx test/soak/soak.ts "${args[@]}" # the schedule a seed gives, without a stack
fi

bash scripts/ensure-deps.sh || exit 1
was_up=1
bash stack/stack.sh status >/dev/null 2>&1 || was_up=0
if ! bash stack/stack.sh up "${up_args[@]}"; then
  echo "soak: the soak stack did not come up"
  exit 1
fi
# The soak stack's variables, over whatever the caller's shell had (npm test evaluates the main stack's first).
eval "$(bash stack/stack.sh env)"

t0=$(date +%s)
node --import tsx test/soak/soak.ts "${args[@]}"
rc=$?
echo "soak: $(( $(date +%s) - t0 )) s in all"
if [ "$was_up" = 0 ] && [ -z "${SOAK_KEEP_STACK:-}" ]; then bash stack/stack.sh down >/dev/null; fi
exit $rc
