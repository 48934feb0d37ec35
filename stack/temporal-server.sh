# shellcheck shell=bash
# The Temporal server (go.temporal.io/server, built with go install) on the stack's PostgreSQL, and its Web UI
# (ui-server, built the same way): what `up --temporal server` runs instead of the dev server. Sourced by
# stack/temporal.sh, which picks one of the two.

TEMPORAL_SERVER_HOME=$CACHE/temporal-server # temporal-server, temporal-sql-tool, temporal-ui-server
TEMPORAL_SERVER_MARKER=$CACHE/temporal-server.installed
TEMPORAL_SERVER_WANT="go.temporal.io/server $TEMPORAL_SERVER_VERSION, ui-server $TEMPORAL_UI_SERVER_VERSION"
# Fixed when the persistence database is created: a cluster cannot change its shard count later.
TEMPORAL_SERVER_SHARDS=4
TEMPORAL_PG_ROLE=temporal # made by stack/postgres-temporal-role.sql
TEMPORAL_PG_PASSWORD=temporal
TEMPORAL_PG_DB=temporal
TEMPORAL_PG_VISIBILITY_DB=temporal_visibility
# The ports the server uses besides the frontend's. Their bases differ from every public port's (and from each
# other) by amounts that are not multiples of 50, so stacks on offsets 50 apart never take each other's ports.
TEMPORAL_FRONTEND_HTTP_PORT=$((7243 + PORT_OFFSET))
TEMPORAL_HISTORY_PORT=$((7234 + PORT_OFFSET))
TEMPORAL_MATCHING_PORT=$((7235 + PORT_OFFSET))
TEMPORAL_WORKER_PORT=$((7239 + PORT_OFFSET))
TEMPORAL_MEMBERSHIP_BASE=$((6961 + PORT_OFFSET)) # frontend, history, matching, worker: +0..+3

temporal_server_installed() {
  [[ -s $TEMPORAL_SERVER_MARKER && $(<"$TEMPORAL_SERVER_MARKER") == "$TEMPORAL_SERVER_WANT" ]] || return 1
  local b
  for b in temporal-server temporal-sql-tool temporal-ui-server; do [[ -x $TEMPORAL_SERVER_HOME/$b ]] || return 1; done
}

# About 5 minutes cold on 2 cores (the server is a 160 MB binary); the module and build caches are removed after.
temporal_server_install() {
  temporal_server_installed && return 0
  rm -f "$TEMPORAL_SERVER_MARKER"
  local build=$TEMPORAL_SERVER_HOME/.build
  rm -rf "$build"
  log temporal "building go.temporal.io/server $TEMPORAL_SERVER_VERSION (server and sql tool) with $TEMPORAL_SERVER_GO_TOOLCHAIN"
  GOTOOLCHAIN=$TEMPORAL_SERVER_GO_TOOLCHAIN go_install go.temporal.io/server/cmd/server "$TEMPORAL_SERVER_VERSION" \
    "$build/server" go.temporal.io/server/cmd/tools/sql
  log temporal "building github.com/temporalio/ui-server/v2 $TEMPORAL_UI_SERVER_VERSION (the Web UI)"
  GOTOOLCHAIN=$TEMPORAL_SERVER_GO_TOOLCHAIN go_install github.com/temporalio/ui-server/v2/cmd/server \
    "$TEMPORAL_UI_SERVER_VERSION" "$build/ui"
  mv -f "$build/server/server" "$TEMPORAL_SERVER_HOME/temporal-server"
  mv -f "$build/server/sql" "$TEMPORAL_SERVER_HOME/temporal-sql-tool"
  mv -f "$build/ui/server" "$TEMPORAL_SERVER_HOME/temporal-ui-server"
  rm -rf "$build"
  "$TEMPORAL_SERVER_HOME/temporal-server" --version
  echo "$TEMPORAL_SERVER_WANT" >"$TEMPORAL_SERVER_MARKER"
}

temporal_server_paths() {
  TEMPORAL_SERVER_DIR=$STATE/temporal-server
  TEMPORAL_SERVER_CONFIG=$TEMPORAL_SERVER_DIR/config.yaml
  TEMPORAL_UI_ROOT=$TEMPORAL_SERVER_DIR/ui
  TEMPORAL_SERVER_PID=$RUN/temporal-server.pid
  TEMPORAL_UI_PID=$RUN/temporal-ui.pid
}

temporal_server_running() {
  temporal_server_paths
  pid_alive "$TEMPORAL_SERVER_PID" "--config-file $TEMPORAL_SERVER_CONFIG"
}

temporal_ui_running() {
  temporal_server_paths
  pid_alive "$TEMPORAL_UI_PID" "--root $TEMPORAL_UI_ROOT"
}

temporal_server_ready() { tcli operator cluster health 2>/dev/null | grep -q SERVING; }

temporal_server_healthy() {
  tcli operator namespace describe --namespace default >/dev/null 2>&1 &&
    probe http "http://$HOST:$TEMPORAL_UI_PORT/" >/dev/null
}

tsql() { # <database> <sql tool command...>: its statement-by-statement output goes to the Temporal log
  local db=$1
  shift
  "$TEMPORAL_SERVER_HOME/temporal-sql-tool" --plugin postgres12 --endpoint "$HOST" --port "$PG_PORT" \
    --user "$TEMPORAL_PG_ROLE" --password "$TEMPORAL_PG_PASSWORD" --database "$db" "$@" >>"$(log_file temporal)" 2>&1
}

psql_postgres() { # <database> [psql args...]: as the cluster's superuser, over the socket
  local db=$1
  shift
  pg_paths
  "$(pg_bin_dir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres -d "$db" "$@"
}

# Role, databases and schemas, each step only when missing, then the SQL tool's upgrade to the schema this release
# ships (a no-op when current). setup-schema writes version 0.0, so it must never run on a database already set up.
temporal_server_schema() {
  local deadline=$(($(now) + HEALTH_TIMEOUT)) db schema
  until postgres_healthy >/dev/null 2>&1; do
    (($(now) < deadline)) || die "PostgreSQL did not come up, so the Temporal server cannot start"
    sleep 0.5
  done
  psql_postgres postgres -f "$STACK_SRC/postgres-temporal-role.sql"
  for db in "$TEMPORAL_PG_DB" "$TEMPORAL_PG_VISIBILITY_DB"; do
    schema=temporal
    [[ $db == "$TEMPORAL_PG_VISIBILITY_DB" ]] && schema=visibility
    if [[ -z $(psql_postgres postgres -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
      log temporal "temporal-sql-tool create-database $db"
      tsql "$db" create-database
    fi
    if [[ -z $(psql_postgres "$db" -tA -c "SELECT to_regclass('public.schema_version')") ]]; then
      log temporal "temporal-sql-tool setup-schema -v 0.0 on $db"
      tsql "$db" setup-schema -v 0.0
    fi
    tsql "$db" update-schema --schema-name "postgresql/v12/$schema"
  done
}

temporal_server_write_config() {
  temporal_server_paths
  mkdir -p "$TEMPORAL_SERVER_DIR" "$TEMPORAL_UI_ROOT/config"
  local m=$TEMPORAL_MEMBERSHIP_BASE store
  store() { # <name> <database> <max connections>
    cat <<EOF
    $1:
      sql:
        pluginName: postgres12
        databaseName: $2
        connectAddr: "$HOST:$PG_PORT"
        connectProtocol: tcp
        user: $TEMPORAL_PG_ROLE
        password: $TEMPORAL_PG_PASSWORD
        maxConns: $3
        maxIdleConns: $3
        maxConnLifetime: 1h
EOF
  }
  {
    cat <<EOF
# Written by stack/temporal-server.sh on every start; edit that file, not this one.
log:
  stdout: true
  level: warn
persistence:
  numHistoryShards: $TEMPORAL_SERVER_SHARDS
  defaultStore: default
  visibilityStore: visibility
  datastores:
EOF
    store default "$TEMPORAL_PG_DB" 20
    store visibility "$TEMPORAL_PG_VISIBILITY_DB" 10
    cat <<EOF
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "$HOST"
  pprof:
    port: 0
services:
  frontend:
    rpc: { grpcPort: $TEMPORAL_PORT, httpPort: $TEMPORAL_FRONTEND_HTTP_PORT, membershipPort: $m, bindOnIP: "$HOST" }
  history:
    rpc: { grpcPort: $TEMPORAL_HISTORY_PORT, membershipPort: $((m + 1)), bindOnIP: "$HOST" }
  matching:
    rpc: { grpcPort: $TEMPORAL_MATCHING_PORT, membershipPort: $((m + 2)), bindOnIP: "$HOST" }
  worker:
    rpc: { grpcPort: $TEMPORAL_WORKER_PORT, membershipPort: $((m + 3)), bindOnIP: "$HOST" }
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "$HOST:$TEMPORAL_PORT"
      httpAddress: "$HOST:$TEMPORAL_FRONTEND_HTTP_PORT"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "$STACK_SRC/temporal-dynamicconfig.yaml"
  pollInterval: 60s
EOF
  } >"$TEMPORAL_SERVER_CONFIG"
  cat >"$TEMPORAL_UI_ROOT/config/development.yaml" <<EOF
temporalGrpcAddress: "$HOST:$TEMPORAL_PORT"
host: "$HOST"
port: $TEMPORAL_UI_PORT
enableUi: true
defaultNamespace: default
disableNewsFetch: true
cors:
  allowOrigins:
    - "http://$HOST:$TEMPORAL_UI_PORT"
    - "http://localhost:$TEMPORAL_UI_PORT"
EOF
}

temporal_server_start() {
  temporal_server_paths
  temporal_server_schema
  temporal_server_write_config
  start_daemon "$TEMPORAL_SERVER_PID" "$(log_file temporal)" \
    "$TEMPORAL_SERVER_HOME/temporal-server" --config-file "$TEMPORAL_SERVER_CONFIG" --allow-no-auth start
  start_daemon "$TEMPORAL_UI_PID" "$(log_file temporal-ui)" \
    "$TEMPORAL_SERVER_HOME/temporal-ui-server" --root "$TEMPORAL_UI_ROOT" --config config --env development start
}

# The dev server registers namespace and search attributes by flags; here the CLI does it, each only when missing.
# A namespace just created takes a few seconds to reach the frontend's cache, so the attribute step retries.
temporal_server_after_start() {
  if ! tcli operator namespace describe --namespace default >/dev/null 2>&1; then
    log temporal "registering namespace default"
    tcli operator namespace create --namespace default --retention 72h
  fi
  local i
  for i in $(seq 60); do
    temporal_register_search_attributes >/dev/null 2>&1 && tcli operator namespace describe --namespace default >/dev/null 2>&1 && return 0
    sleep 1
  done
  temporal_register_search_attributes
}

temporal_server_stop() {
  temporal_server_paths
  stop_pid temporal-ui "$TEMPORAL_UI_PID" "--root $TEMPORAL_UI_ROOT"
  stop_pid temporal-server "$TEMPORAL_SERVER_PID" "--config-file $TEMPORAL_SERVER_CONFIG"
}
