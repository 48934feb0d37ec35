#!/usr/bin/env bash
# `npm run demo`: the local stack, a worker and the API, then the example jobs end to end through the CLI and HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash stack/stack.sh up
eval "$(bash stack/stack.sh env)"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
cli() { node bin/scheduled-job.js "$@"; }

logs="$(mktemp -d)"
cli worker >"$logs/worker.log" 2>&1 &
worker=$!
API_PORT="${DEMO_API_PORT:-8089}" cli api >"$logs/api.log" 2>&1 &
api=$!
trap 'kill $worker $api 2>/dev/null; wait $worker $api 2>/dev/null || true' EXIT
api_url="http://127.0.0.1:${DEMO_API_PORT:-8089}"
for _ in $(seq 1 60); do curl -sf "$api_url/healthz" >/dev/null && break; sleep 1; done

echo "== 1. example_steps through the CLI, waiting with progress"
cli trigger example_steps --args '{"steps":3,"stepMs":500}' --wait

echo "== 2. example_flaky: fails twice, retries: 2 makes the third attempt succeed"
tag="demo-$(date +%s)"
cli trigger example_flaky --args "{\"failAttempts\":2,\"tag\":\"$tag\"}" --wait | tail -n 5
cli runs example_flaky --limit 3

echo "== 3. the HTTP route Airflow uses: POST, then a duplicate while it runs (409), then poll"
auth=(-H "Authorization: Bearer $API_TOKEN" -H 'Content-Type: application/json')
first=$(curl -s "${auth[@]}" -X POST "$api_url/jobs/example_steps/runs" -d '{"args":{"steps":2,"stepMs":1000}}')
echo "POST  -> $first"
echo "again -> $(curl -s "${auth[@]}" -X POST "$api_url/jobs/example_steps/runs" -d '{"args":{"steps":2,"stepMs":1000}}')"
run_id=$(node -e 'console.log(JSON.parse(process.argv[1]).runId)' "$first")
for _ in $(seq 1 60); do
  status=$(curl -s "${auth[@]}" "$api_url/jobs/example_steps/runs/$run_id")
  case "$status" in *'"status":"running"'*) sleep 1 ;; *) break ;; esac
done
echo "GET   -> $status"

echo
echo "Temporal Web UI: ${TEMPORAL_UI_URL:-http://127.0.0.1:8233} (filter: JobName=\"example_flaky\")"
echo "Worker and API logs: $logs"
