#!/usr/bin/env bash
# Start-up of the CLI, whole process: median wall time, CPU time (steadier on a shared machine) and peak RSS of N runs
# of `scheduled-job --help` and `scheduled-job status <job> <run>`, measured with /usr/bin/time against the local
# stack, under both PATH orders a user may have: the system's older node first, and the project's Node 24 first
# (BENCHMARKS.md, "CLI start-up"). `scheduled-job` is bin/scheduled-job, the file `npm link` puts on PATH. For context,
# the same under `node bin/scheduled-job.js` started by the system node (the hand-over to Node 24).
#
#   bash bench/cli-startup.sh [runs] [-- <job> <runId>]   default 10 runs; the newest succeeded run in job_runs
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh
eval "$(bash stack/stack.sh env)"
runs=${1:-10}
if [ "${2:-}" = -- ]; then job=$3 run=$4; else
  IFS='|' read -r job run < <(psql "$DATABASE_URL" -tAc "SELECT job_name, first_run_id FROM job_runs WHERE status = 'succeeded' ORDER BY started_at DESC LIMIT 1")
fi
[ -n "${run:-}" ] || { echo "no succeeded run in job_runs: trigger one, or pass -- <job> <runId>" >&2; exit 1; }
node24=$(dirname "$(command -v node)")
# The first other node on PATH (this machine's system Node 20), if any.
system_node=$(type -aP node | grep -vxF "$node24/node" | head -1 || true)

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

measure() { # <label> <PATH> <command...>
  local label=$1 path=$2 out
  shift 2
  out=$(mktemp)
  for _ in $(seq "$runs"); do
    # `status` exits 1 for a failed run; anything else is a broken call, not a timing.
    PATH=$path /usr/bin/time -q -f '%e %U %S %M' -o "$out" -a "$@" >/dev/null 2>&1 || (($? == 1)) || { echo "failed: $*" >&2; exit 1; }
  done
  printf '%-62s median %5.0f ms wall, %5.0f ms CPU, %4.0f MiB  (%s runs, load %s)\n' "$label" \
    "$(awk '{ print $1 * 1000 }' "$out" | median)" "$(awk '{ print ($2 + $3) * 1000 }' "$out" | median)" \
    "$(awk '{ print $4 / 1024 }' "$out" | median)" "$runs" "$(cut -d' ' -f1 /proc/loadavg)"
  rm -f "$out"
}

orders=("Node 24 first|$node24:$PATH")
if [ -n "$system_node" ]; then
  orders=("$("$system_node" --version) ($system_node) first|$(dirname "$system_node"):$PATH" "${orders[@]}")
fi
for order in "${orders[@]}"; do
  name=${order%%|*} path=${order#*|}
  echo "PATH: $name"
  measure '  scheduled-job --help' "$path" bin/scheduled-job --help
  measure "  scheduled-job status $job <run>" "$path" bin/scheduled-job status "$job" "$run"
done
if [ -n "$system_node" ]; then
  echo "context: $system_node bin/scheduled-job.js (hands itself to Node 24)"
  measure '  --help' "$PATH" "$system_node" bin/scheduled-job.js --help
  measure "  status $job <run>" "$PATH" "$system_node" bin/scheduled-job.js status "$job" "$run"
fi
