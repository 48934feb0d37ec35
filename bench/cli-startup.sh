#!/usr/bin/env bash
# Start-up of the installed CLI, whole process: median wall time and peak RSS of N runs of each command, measured
# (and CPU time, steadier on a shared machine) with /usr/bin/time against the local stack (BENCHMARKS.md, "CLI start-up").
#
#   bash bench/cli-startup.sh [runs] [-- <job> <runId>]   default 5 runs; status of the newest run in job_runs
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh
eval "$(bash stack/stack.sh env)"
runs=${1:-5}
if [ "${2:-}" = -- ]; then job=$3 run=$4; else
  IFS='|' read -r job run < <(psql "$DATABASE_URL" -tAc "SELECT job_name, run_id FROM job_runs WHERE attempt = 1 ORDER BY started_at DESC LIMIT 1")
fi

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

measure() { # <label> <command...>
  local label=$1 out
  shift
  out=$(mktemp)
  for _ in $(seq "$runs"); do
    # `status` exits 1 for a failed run; anything else is a broken call, not a timing.
    /usr/bin/time -f '%e %U %S %M' -o "$out" -a "$@" >/dev/null 2>&1 || (($? == 1)) || { echo "failed: $*" >&2; exit 1; }
  done
  printf '%-40s median %5.0f ms wall, %5.0f ms CPU, %4.0f MiB  (node %s, %s runs, load %s)\n' "$label" \
    "$(awk '{ print $1 * 1000 }' "$out" | median)" "$(awk '{ print ($2 + $3) * 1000 }' "$out" | median)" \
    "$(awk '{ print $4 / 1024 }' "$out" | median)" "$(node --version)" "$runs" "$(cut -d' ' -f1 /proc/loadavg)"
  rm -f "$out"
}

measure 'scheduled-job --help' bin/scheduled-job.js --help
measure "scheduled-job status $job <run>" bin/scheduled-job.js status "$job" "$run"
