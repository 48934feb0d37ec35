#!/usr/bin/env bash
# Local service stack for scheduled-job without Docker: PostgreSQL, Temporal (+ Web UI), Kafka (KRaft),
# S3 (versitygw), a Schema Registry (Apicurio), all on 127.0.0.1 with the same ports as docker-compose.yml.
#
#   stack.sh install   install every piece that is missing (cache: $SCHEDULED_JOB_CACHE, /var/cache/scheduled-job)
#   stack.sh up        install what is missing, start what is stopped, wait until healthy
#   stack.sh up --temporal server|dev   the Temporal server on the stack's PostgreSQL, or the dev server (the
#                      default); the choice stays with the state dir, each one keeps its own state
#   stack.sh down      stop what this stack started (state is kept)
#   stack.sh status    one line per service; exit 0 only when all are healthy
#   stack.sh env       export lines for the local stack (eval "$(stack.sh env)")
#   stack.sh restart <service>   stop and start one service, keeping its state (e.g. fault tests)
#   stack.sh stop|start <service>  stop or start one service alone (fault tests: an outage of a set length)
#
# State (data, logs, pid files): $SCHEDULED_JOB_STACK_DIR, default <repo>/.stack.
# Timeouts: SCHEDULED_JOB_STACK_TIMEOUT (health, default 90 s), SCHEDULED_JOB_STOP_TIMEOUT (30 s).
set -euo pipefail
shopt -s inherit_errexit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=stack/lib.sh
source "$here/lib.sh"
# shellcheck source=stack/postgres.sh
source "$here/postgres.sh"
# shellcheck source=stack/temporal.sh
source "$here/temporal.sh"
# shellcheck source=stack/kafka.sh
source "$here/kafka.sh"
# shellcheck source=stack/s3.sh
source "$here/s3.sh"
# shellcheck source=stack/registry.sh
source "$here/registry.sh"

# One stack command at a time per state dir (fd 9; daemons never inherit it).
lock_state() {
  mkdir -p "$STATE" "$LOGS" "$RUN"
  exec 9>"$STATE/.lock"
  if ! flock -n 9; then
    echo "stack: another stack command is running on $STATE; waiting" >&2
    flock -w 600 9 || die "timed out waiting for $STATE/.lock"
  fi
}

ready_fn() { if declare -F "$1_ready" >/dev/null; then echo "$1_ready"; else echo "$1_healthy"; fi; }

# The per-service steps below run in their own bash process (see `parallel`), straight-line under
# set -e: the first failing step exits, and the EXIT trap prints the relevant log's tail.
FAIL_SERVICE=
FAIL_LOG=
on_exit() {
  local rc=$?
  if ((rc != 0)) && [[ -n $FAIL_SERVICE ]]; then show_log_tail "$FAIL_SERVICE" "$FAIL_LOG"; fi
  return $rc
}

# Install one piece when missing; its output goes to a log in the cache.
install_one() { # <service>
  local s=$1 t0=$SECONDS
  "${s}_installed" && return 0
  mkdir -p "$CACHE/logs"
  FAIL_SERVICE="$s install" FAIL_LOG=$CACHE/logs/install-$s.log
  : >"$FAIL_LOG"
  log "$s" "installing (log: $FAIL_LOG)"
  with_lock "$CACHE/locks/$s.lock" "${s}_install" >>"$FAIL_LOG" 2>&1
  log "$s" "installed in $((SECONDS - t0))s"
  FAIL_SERVICE=
}

# Bring one service up: install, start unless running, wait for health, post-start setup.
up_one() { # <service>
  local s=$1 pid p t0=$SECONDS
  install_one "$s"
  FAIL_SERVICE=$s FAIL_LOG=$("${s}_logfile")
  if pid=$("${s}_running"); then
    if "${s}_healthy" >/dev/null 2>&1; then
      log "$s" "already running (pid $pid), healthy at $("${s}_addr")"
      return 0
    fi
    log "$s" "running (pid $pid) but not healthy yet; waiting"
  else
    for p in $("${s}_ports"); do
      if port_open "$p"; then
        FAIL_SERVICE=
        log "$s" "port $p is already in use by a process this stack did not start (see: ss -ltnp 'sport = :$p')"
        return 1
      fi
    done
    "${s}_start"
    pid=$("${s}_running" || true)
    log "$s" "started (pid ${pid:-?}), waiting for health"
  fi
  wait_healthy "$s" "$(ready_fn "$s")" "${s}_running"
  "${s}_after_start"
  log "$s" "healthy at $("${s}_addr") ($((SECONDS - t0))s)"
}

down_one() { "${1}_stop"; }

# Run step <name> for every service in parallel, each in its own process; fail when any failed.
parallel() { # <install|up|down>
  local step=$1 s pids=() failed=() i
  for s in "${SERVICES[@]}"; do
    bash "$here/stack.sh" "__$step" "$s" &
    pids+=($!)
  done
  for i in "${!SERVICES[@]}"; do
    wait "${pids[$i]}" || failed+=("${SERVICES[$i]}")
  done
  if ((${#failed[@]})); then
    echo "stack: $step failed for: ${failed[*]}" >&2
    return 1
  fi
}

cmd_install() {
  lock_state
  local t0=$SECONDS
  ensure_system_packages
  parallel install
  echo "stack: everything installed in $CACHE ($((SECONDS - t0))s)"
}

cmd_up() {
  lock_state
  local t0=$SECONDS s all=1
  temporal_select
  for s in "${SERVICES[@]}"; do
    if ! "${s}_installed" || ! "${s}_running" >/dev/null || ! "${s}_healthy" >/dev/null 2>&1; then
      all=0
      break
    fi
  done
  if ((all)); then
    echo "stack: already up, nothing to do (stack.sh status for details)"
    return 0
  fi
  ensure_system_packages
  parallel up || {
    echo "stack: up failed after $((SECONDS - t0))s (services that did start are left running; stack.sh down stops them)" >&2
    return 1
  }
  echo "stack: up in $((SECONDS - t0))s; state in $STATE. Use: eval \"\$(bash $STACK_SRC/stack.sh env)\""
}

cmd_down() {
  lock_state
  parallel down
  echo "stack: down (state kept in $STATE)"
}

cmd_status() {
  mkdir -p "$STATE" "$LOGS" "$RUN"
  local s pid state health rc=0
  for s in "${SERVICES[@]}"; do
    if pid=$("${s}_running" 2>/dev/null); then state="running (pid $pid)"; else state=stopped; fi
    if "${s}_healthy" >/dev/null 2>&1; then health=healthy; else
      health=unhealthy
      rc=1
    fi
    printf '%-9s %-46s %-20s %s\n' "$s" "$("${s}_addr")" "$state" "$health"
  done
  return $rc
}

cmd_restart() { # <service>
  local s=${1:-} known=" ${SERVICES[*]} " list="${SERVICES[*]}"
  [[ -n $s && $known == *" $s "* ]] || die "usage: stack.sh restart <${list// /|}>"
  lock_state
  [[ $s != temporal ]] || temporal_select
  bash "$here/stack.sh" __down "$s"
  bash "$here/stack.sh" __up "$s"
}

cmd_one() { # <down|up> <stop|start> <service>: one service alone, the others untouched
  local s=${3:-} known=" ${SERVICES[*]} " list="${SERVICES[*]}"
  [[ -n $s && $known == *" $s "* ]] || die "usage: stack.sh $2 <${list// /|}>"
  lock_state
  bash "$here/stack.sh" "__$1" "$s"
}

cmd_env() {
  # The project's Node 24 too, when the node on PATH is older (scripts/use-node.sh installs it).
  local node_dir
  # shellcheck source=scripts/use-node.sh
  node_dir=$(source "$REPO/scripts/use-node.sh" --functions-only && sj_node_dir)
  cat <<EOF
export DATABASE_URL='postgres://$PG_USER:$PG_PASSWORD@$HOST:$PG_PORT/$PG_DB'
export INGEST_DATABASE_URL='postgres://scheduled_job_ingester:scheduled_job_ingester@$HOST:$PG_PORT/$PG_DB'
export TEMPORAL_ADDRESS='$HOST:$TEMPORAL_PORT'
export TEMPORAL_NAMESPACE='default'
export TEMPORAL_TASK_QUEUE='scheduled-job'
export TEMPORAL_UI_URL='http://$HOST:$TEMPORAL_UI_PORT'
export KAFKA_BROKERS='$HOST:$KAFKA_PORT'
export S3_ENDPOINT='http://$HOST:$S3_PORT'
export SCHEMA_REGISTRY_URL='$(registry_url)'
export S3_BUCKET='$S3_BUCKET'
export S3_REGION='$S3_REGION'
export AWS_ACCESS_KEY_ID='$S3_ACCESS_KEY'
export AWS_SECRET_ACCESS_KEY='$S3_SECRET_KEY'
export API_PORT='$((8080 + PORT_OFFSET))'
export API_TOKEN='local-dev-token'
export PATH="$CACHE/bin:${node_dir:+$node_dir:}\$PATH"
EOF
}

# `--temporal dev|server` after the command (for up, install, restart, start): which Temporal the stack runs.
args=()
while (($#)); do
  case $1 in
    --temporal) SCHEDULED_JOB_TEMPORAL=${2:-}; shift 2 || shift ;;
    --temporal=*) SCHEDULED_JOB_TEMPORAL=${1#*=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
set -- "${args[@]}"
if [[ -n ${SCHEDULED_JOB_TEMPORAL:-} ]]; then
  [[ $SCHEDULED_JOB_TEMPORAL == dev || $SCHEDULED_JOB_TEMPORAL == server ]] ||
    die "--temporal takes dev or server, not '$SCHEDULED_JOB_TEMPORAL'"
  export SCHEDULED_JOB_TEMPORAL
fi

case ${1:-} in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  restart) cmd_restart "${2:-}" ;;
  stop) cmd_one down stop "${2:-}" ;;
  start) cmd_one up start "${2:-}" ;;
  system-deps) ensure_system_packages ;; # used by .ci/install.sh
  __install | __up | __down) # internal: one service's step, run by `parallel`
    trap on_exit EXIT
    "${1#__}_one" "$2"
    ;;
  *)
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
