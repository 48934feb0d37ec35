# shellcheck shell=bash
# PostgreSQL from Debian packages, own cluster on 127.0.0.1:55432, run as the postgres user.

# Newest installed server's bin directory (Debian keeps them off PATH).
pg_bin_dir() {
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  [[ -n $d && -x $d/postgres && -x $d/initdb ]] || return 1
  printf '%s' "$d"
}

# Run a postgres binary as the postgres user when we are root (initdb refuses root).
pg_as() { # <binary> [args...]
  local bin
  bin="$(pg_bin_dir)/$1"
  shift
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$bin" "$@")
  else
    "$bin" "$@"
  fi
}

# Where the data lives. Inside the state dir when the postgres user can reach it (and the socket path
# stays short); otherwise /var/lib/scheduled-job/<hash of the state dir>. Decided once, then recorded.
pg_base() {
  local rec=$STATE/postgres.location base
  if [[ -s $rec ]]; then
    cat "$rec"
    return
  fi
  base=$STATE/postgres
  if [[ $EUID -eq 0 ]] && ! runuser -u postgres -- test -x "$STATE" 2>/dev/null; then
    base=/var/lib/scheduled-job/$(printf '%s' "$STATE" | sha256sum | cut -c1-12)
  elif ((${#base} > 80)); then # unix socket paths are limited to ~107 bytes
    base=/var/lib/scheduled-job/$(printf '%s' "$STATE" | sha256sum | cut -c1-12)
  fi
  printf '%s\n' "$base" >"$rec"
  printf '%s' "$base"
}

pg_paths() {
  PG_BASE=$(pg_base)
  PGDATA_DIR=$PG_BASE/pgdata
  PG_SOCKDIR=$PG_BASE/run
  PG_LOG=$(log_file postgres)
}

postgres_installed() { pg_bin_dir >/dev/null; }

postgres_install() {
  postgres_installed && return 0
  log postgres "no PostgreSQL server binaries found; apt-get install postgresql"
  apt_install postgresql
  postgres_installed || die "postgresql installed but no /usr/lib/postgresql/*/bin/postgres found"
}

postgres_running() { # echo the postmaster pid
  pg_paths
  [[ -s $PGDATA_DIR/postmaster.pid ]] || return 1
  local pid
  pid=$(head -n 1 "$PGDATA_DIR/postmaster.pid")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$PGDATA_DIR" || return 1
  printf '%s' "$pid"
}

postgres_healthy() {
  "$(pg_bin_dir)/pg_isready" -q -h "$HOST" -p "$PG_PORT" -U postgres -d postgres -t 2
}

postgres_ports() { echo "$PG_PORT"; }

postgres_addr() { printf '%s:%s' "$HOST" "$PG_PORT"; }

postgres_init() {
  pg_paths
  [[ -s $PGDATA_DIR/PG_VERSION ]] && return 0
  log postgres "initdb $PGDATA_DIR"
  mkdir -p "$PG_BASE"
  rm -rf "$PGDATA_DIR"
  mkdir -p "$PGDATA_DIR" "$PG_SOCKDIR"
  chmod 700 "$PGDATA_DIR"
  [[ $EUID -eq 0 ]] && chown -R postgres:postgres "$PG_BASE"
  pg_as initdb -D "$PGDATA_DIR" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=trust >>"$PG_LOG" 2>&1
  cat >>"$PGDATA_DIR/postgresql.conf" <<EOF

# ---- scheduled-job local stack ----
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKDIR'
max_connections = 200
EOF
  # trust on loopback only (initdb already wrote 127.0.0.1/32 and ::1/128 with --auth-host=trust)
  [[ $EUID -eq 0 ]] && chown postgres:postgres "$PGDATA_DIR/postgresql.conf"
  return 0
}

postgres_start() {
  pg_paths
  mkdir -p "$PG_BASE" "$PG_SOCKDIR"
  postgres_init
  touch "$PG_LOG"
  local pglog=$PG_LOG
  if [[ $EUID -eq 0 ]]; then
    chown postgres:postgres "$PG_SOCKDIR"
    # the server log must be writable by postgres; keep it beside the data when the state dir is not
    if [[ $PG_BASE != "$STATE/postgres" ]]; then
      pglog=$PG_BASE/postgres.log
      touch "$pglog"
      ln -sfn "$pglog" "$PG_LOG.server"
    fi
    chown postgres:postgres "$pglog"
  fi
  # pg_ctl forks the postmaster into its own session (setsid) with stdin from /dev/null and output to
  # the log; -w waits until it accepts connections or fails.
  pg_as pg_ctl start -D "$PGDATA_DIR" -l "$pglog" -o "$PG_SERVER_OPTIONS" -w -t "$HEALTH_TIMEOUT" -s 8>&- 9>&- </dev/null >>"$PG_LOG" 2>&1
}

# Given at every start, so a state dir made before a change gets it too. With the default 128 MB of shared buffers
# a day's ingest evicted dirty pages from its own backends: a quarter of their samples in pg_stat_activity waited on
# data-file writes and reads, none with 1 GB (BENCHMARKS.md, set F of the ingest runs).
PG_SERVER_OPTIONS="-c shared_buffers=1GB"

postgres_after_start() { # role + database for DATABASE_URL; idempotent
  pg_paths
  "$(pg_bin_dir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres -d postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
    CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  ELSE
    ALTER ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  END IF;
END
\$\$;
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$PG_DB')
\gexec
SQL
  # the ingest's least-privilege role and its LOGIN member (INGEST_DATABASE_URL in `stack.sh env`)
  "$(pg_bin_dir)/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$PG_PORT" -U postgres -d postgres \
    -f "$STACK_SRC/postgres-ingest-role.sql"
}

postgres_stop() {
  pg_paths
  local pid
  if ! pid=$(postgres_running); then
    log postgres "not running"
    return 0
  fi
  if ! pg_as pg_ctl stop -D "$PGDATA_DIR" -m fast -w -t "$STOP_TIMEOUT" -s >>"$PG_LOG" 2>&1; then
    log postgres "fast shutdown timed out; immediate shutdown"
    pg_as pg_ctl stop -D "$PGDATA_DIR" -m immediate -w -t 10 -s >>"$PG_LOG" 2>&1 || kill -KILL "$pid" 2>/dev/null || true
  fi
  log postgres "stopped (pid $pid)"
}

postgres_logfile() {
  pg_paths
  if [[ -e $PG_LOG.server ]]; then printf '%s' "$PG_LOG.server"; else printf '%s' "$PG_LOG"; fi
}
