# shellcheck shell=bash
# S3: versitygw (posix backend on disk, metadata in a sidecar dir), built with go install.

VERSITYGW_BIN=$CACHE/bin/versitygw
VERSITYGW_MARKER=$CACHE/versitygw.installed

s3_installed() {
  [[ -s $VERSITYGW_MARKER && $(<"$VERSITYGW_MARKER") == "$VERSITYGW_VERSION" && -x $VERSITYGW_BIN ]]
}

s3_install() {
  s3_installed && return 0
  log s3 "building versitygw $VERSITYGW_VERSION (go install; about 2 minutes on 2 cores)"
  rm -f "$VERSITYGW_MARKER"
  go_install github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION" "$CACHE/bin"
  "$VERSITYGW_BIN" --version >/dev/null
  echo "$VERSITYGW_VERSION" >"$VERSITYGW_MARKER"
  log s3 "installed $VERSITYGW_BIN"
}

s3_paths() {
  S3_DIR=$STATE/s3
  S3_DATA=$S3_DIR/data
  S3_META=$S3_DIR/meta
  S3_PID=$RUN/s3.pid
}

s3_running() {
  s3_paths
  pid_alive "$S3_PID" "posix --sidecar $S3_META $S3_DATA"
}

s3_probe() {
  AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY \
    probe s3 "http://$HOST:$S3_PORT" "$S3_BUCKET" "$@"
}

s3_healthy() { s3_probe >/dev/null; }

# Ready during start-up = answers a signed ListBuckets; the bucket is created on the first answer.
s3_ready() { s3_probe --create >/dev/null; }

s3_addr() { printf 'http://%s:%s (bucket %s)' "$HOST" "$S3_PORT" "$S3_BUCKET"; }

s3_start() {
  s3_paths
  mkdir -p "$S3_DATA" "$S3_META"
  ROOT_ACCESS_KEY=$S3_ACCESS_KEY ROOT_SECRET_KEY=$S3_SECRET_KEY \
    start_daemon "$S3_PID" "$(log_file s3)" "$VERSITYGW_BIN" --port "$HOST:$S3_PORT" --region "$S3_REGION" \
    --quiet posix --sidecar "$S3_META" "$S3_DATA"
}

s3_after_start() {
  local out
  out=$(s3_probe) || { log s3 "$out"; return 1; }
}

s3_ports() { echo "$S3_PORT"; }

s3_stop() {
  s3_paths
  stop_pid s3 "$S3_PID" "posix --sidecar $S3_META $S3_DATA"
}

s3_logfile() { log_file s3; }
