#!/usr/bin/env bash
# `npm run demo`: the local stack, a worker and the API, then the example jobs end to end through the CLI and HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/use-node.sh
source scripts/use-node.sh # Node >= 22 first on PATH, for this script and every process it starts
bash scripts/ensure-deps.sh
bash stack/stack.sh up
eval "$(bash stack/stack.sh env)"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
cli() { bin/scheduled-job "$@"; }

logs="$(mktemp -d)"
# Started directly (not through the cli function) so that $! is the node process itself and the trap stops it.
bin/scheduled-job worker >"$logs/worker.log" 2>&1 &
worker=$!
API_PORT="${DEMO_API_PORT:-8089}" bin/scheduled-job api >"$logs/api.log" 2>&1 &
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

echo "== 4. the case study: one day of notification-view logs from S3 into Postgres"
day="${DEMO_DAY:-2024-05-01}"
data="$logs/data"
node --import tsx scripts/generate-day.ts --day "$day" --objects 5 --lines-per-object 20000 --gzip-fraction 0.4 --seed 42 --out "$data"
node --import tsx scripts/upload-day.ts --dir "$data" --day "$day"
# Running the demo again re-reads the day: writes are idempotent, so the tables below do not change.
cli trigger ingest_notification_views --args "{\"day\":\"$day\"}" --wait | tail -n 20
views=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM notification_views WHERE day = '$day'")
rejects=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM ingest_rejects WHERE day = '$day'")
node -e '
const e = require(process.argv[1]);
console.table([
  { what: "distinct views in notification_views", expected: e.views, inPostgres: Number(process.argv[2]) },
  { what: "quarantined lines in ingest_rejects", expected: e.rejected, inPostgres: Number(process.argv[3]) },
]);' "$data/expected-$day.json" "$views" "$rejects"
top=$(node -e 'const e=require(process.argv[1]); const [id]=Object.entries(e.perNotification).sort((a,b)=>b[1]-a[1])[0]; console.log(id)' "$data/expected-$day.json")
echo "GET /notifications/$top/views?day=$day -> $(curl -s "${auth[@]}" "$api_url/notifications/$top/views?day=$day")"
psql "$DATABASE_URL" -c "SELECT reason, count(*) FROM ingest_rejects WHERE day = '$day' GROUP BY 1 ORDER BY 2 DESC LIMIT 8" 2>/dev/null || true

echo "== 5. a schedule's tick: the ingest's declared schedule runs daily at 11:00 UTC for the day before"
yesterday=$(date -u -d yesterday +%F)
node --import tsx scripts/generate-day.ts --day "$yesterday" --objects 2 --lines-per-object 5000 --seed 43 --out "$logs/tick" >/dev/null
node --import tsx scripts/upload-day.ts --dir "$logs/tick" --day "$yesterday" >/dev/null
# The worker brings the schedule in step when it starts. If workers on another task queue of this stack had it (a
# test's), it takes the schedule over once they have been gone for a minute or two.
schedule_queue() { cli schedules --json | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8")).find((x)=>x.job==="ingest_notification_views"); console.log(s?.taskQueue ?? "")'; }
for i in $(seq 1 200); do
  queue=$(schedule_queue)
  [ "$queue" = "$TEMPORAL_TASK_QUEUE" ] && break
  [ "$i" = 5 ] && echo "(schedule/ingest_notification_views still sends its ticks to task queue '$queue'; waiting for the worker to take it over)"
  sleep 1
done
cli schedules
if [ "$queue" = "$TEMPORAL_TASK_QUEUE" ]; then
  # One tick now: it derives the day (yesterday) from its scheduled time and starts the ingest under that day's lock.
  cli schedule trigger ingest_notification_views
  for _ in $(seq 1 120); do
    st=$(cli days ingest_notification_views --from "$yesterday" --to "$yesterday" --json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0,"utf8"))[0].status)')
    [ "$st" = running ] || [ "$st" = missing ] || break
    sleep 1
  done
  cli schedule ticks ingest_notification_views --limit 3
else
  echo "schedule/ingest_notification_views sends its ticks to task queue '$queue', which still has workers (another stack user's); skipping the tick"
fi

echo "== 6. a durable backfill of three days (a workflow: Ctrl-C would detach, it goes on), then the days view"
for d in 2024-04-28 2024-04-29 2024-04-30; do
  node --import tsx scripts/generate-day.ts --day "$d" --objects 2 --lines-per-object 5000 --seed "${d//-/}" --out "$logs/bf-$d" >/dev/null
  node --import tsx scripts/upload-day.ts --dir "$logs/bf-$d" --day "$d" >/dev/null
done
cli backfill ingest_notification_views --from 2024-04-28 --to 2024-04-30 --concurrency 2 || true
cli days ingest_notification_views --from 2024-04-27 --to 2024-05-01
echo "GET /jobs/ingest_notification_views/days -> $(curl -s "${auth[@]}" "$api_url/jobs/ingest_notification_views/days?from=2024-04-29&to=2024-04-30" | head -c 300)..."

echo "== 7. the stream half: Avro events on Kafka, consumed by the long-running workflow consumer/curated_program"
echo "   (Confluent wire format: the producer registers its schema under curated-program-events-value in the schema"
echo "   registry at $SCHEMA_REGISTRY_URL and frames each message with the registry's id)"
produce() { node --import tsx scripts/produce-curated-events.ts --topic curated-program-events "$@"; }
field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$1" "$2"; }
dead_letters() { psql "$DATABASE_URL" -tAc "SELECT count(*) FROM kafka_dead_letters WHERE consumer = 'curated_program'"; }
wait_rows() { # <prefix> <expected rows>
  for _ in $(seq 1 120); do
    rows=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM curated_program_events WHERE event_id LIKE '$1-%'")
    [ "$rows" -ge "$2" ] && break
    sleep 1
  done
}
prefix="demo-$(date +%s)"
produced=$(produce --count 5000 --prefix "$prefix" --seed 7 --schemas v1)
valid=$(field "$produced" distinctValid)
garbage=$(field "$produced" garbage)
echo "produced 5000 messages with schema v1 (id $(node -e 'console.log(JSON.parse(process.argv[1]).schemaIds.v1)' "$produced")): $valid distinct valid events (the rest repeat them), $garbage undecodable"
wait_rows "$prefix" "$valid"
echo "curated_program_events rows for this run: $rows (expected $valid)"

echo "== 7b. the schema changes mid-stream: v2 adds an optional field (curator_id); the consumer keeps reading with its v1 schema"
before=$(dead_letters)
produced=$(produce --count 3000 --prefix "$prefix-v2" --seed 8 --schemas v2 --garbage 0)
valid=$(field "$produced" distinctValid)
echo "produced 3000 messages with schema v2 (id $(node -e 'console.log(JSON.parse(process.argv[1]).schemaIds.v2)' "$produced")): $valid distinct events"
wait_rows "$prefix-v2" "$valid"
echo "curated_program_events rows written with v2: $rows (expected $valid); new dead letters: $(( $(dead_letters) - before )) (expected 0)"

echo "== 7c. an incompatible schema (a required field without a default) is refused by the registry, before anything is produced"
if produce --count 10 --prefix "$prefix-bad" --schemas incompatible --garbage 0 2>"$logs/refused.txt" >/dev/null; then
  echo "unexpected: the registry accepted an incompatible schema"
else
  echo "producer exit $?: $(cat "$logs/refused.txt")"
fi
# Status is computed when asked (Kafka's end offsets, Postgres's applied offsets and totals): wait for lag 0.
for _ in $(seq 1 30); do
  lag=$(cli consumers status curated_program --json 2>/dev/null | node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { try { console.log(JSON.parse(s).lag); } catch { console.log(-1); } })')
  [ "$lag" = 0 ] && break
  sleep 1
done
cli consumers
echo
cli consumers status curated_program
echo
cli consumers dead-letters curated_program --limit 3
echo
echo "Temporal Web UI: ${TEMPORAL_UI_URL:-http://127.0.0.1:8233} (filter: JobName=\"example_flaky\"; schedules under Schedules)"
echo "Worker and API logs: $logs"
