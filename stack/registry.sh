# shellcheck shell=bash
# Schema Registry: Apicurio Registry (a Quarkus app) from Maven Central, run with plain java. Its
# Confluent-compatible API (/apis/ccompat/v7) is what SCHEMA_REGISTRY_URL points at.
#
# Version: 3.0.x is the newest line whose classes run on Java 17, the Java the stack already installs for Kafka
# (3.1 and later are built for Java 21: UnsupportedClassVersionError on 17). Storage: the registry's SQL storage on
# an H2 file in the state dir, so schemas and their ids survive a restart as the other services' data does (the
# in-memory default would hand out the same ids to different schemas after a restart).

REGISTRY_HOME=$CACHE/apicurio-registry/$APICURIO_REGISTRY_VERSION
REGISTRY_JAR=$REGISTRY_HOME/apicurio-registry-app-$APICURIO_REGISTRY_VERSION-runner.jar
REGISTRY_MARKER=$REGISTRY_HOME/installed
REGISTRY_CCOMPAT_PATH=/apis/ccompat/v7
REGISTRY_JAVA_OPTS=${SCHEDULED_JOB_REGISTRY_JAVA_OPTS:--Xmx256m -Xms64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}

registry_installed() { [[ -s $REGISTRY_MARKER && -s $REGISTRY_JAR ]]; }

registry_install() {
  registry_installed && return 0
  java_ok || die "Apicurio Registry $APICURIO_REGISTRY_VERSION needs Java 17+ on PATH (apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null 2>&1 || die "mvn not found (apt-get install maven)"
  # Through Maven's wagon (a plain download from the repository): `dependency:copy` and `dependency:get` read the
  # artifact's descriptor first, and its parent io.apicurio:apicurio-registry:3.0.9 was never published to Central.
  local path=io/apicurio/apicurio-registry-app/$APICURIO_REGISTRY_VERSION/apicurio-registry-app-$APICURIO_REGISTRY_VERSION-all.tar.gz
  local tmp=$REGISTRY_HOME.tmp f
  log registry "fetching io.apicurio:apicurio-registry-app:$APICURIO_REGISTRY_VERSION:tar.gz:all from Maven Central"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  for f in "$path" "$path.sha1"; do
    mvn -q -B -Dmaven.repo.local="$tmp/m2" org.codehaus.mojo:wagon-maven-plugin:2.0.2:download-single \
      -Dwagon.url=https://repo.maven.apache.org/maven2 -Dwagon.fromFile="$f" -Dwagon.toFile="$tmp/$(basename "$f")"
  done
  [[ $(sha1sum <"$tmp/$(basename "$path")" | cut -c1-40) == "$(cut -c1-40 <"$tmp/$(basename "$path").sha1")" ]] ||
    die "$(basename "$path"): SHA-1 differs from Maven Central's"
  tar -xzf "$tmp/$(basename "$path")" -C "$tmp"
  rm -rf "$tmp/m2" "$tmp/$(basename "$path")" "$tmp/$(basename "$path").sha1"
  [[ -s $tmp/$(basename "$REGISTRY_JAR") ]] || die "the archive has no $(basename "$REGISTRY_JAR")"
  rm -rf "$REGISTRY_HOME"
  mv "$tmp" "$REGISTRY_HOME"
  echo "$APICURIO_REGISTRY_VERSION" >"$REGISTRY_MARKER"
  log registry "installed $REGISTRY_HOME"
}

registry_paths() {
  REGISTRY_DIR=$STATE/registry
  REGISTRY_DATA=$REGISTRY_DIR/data
  REGISTRY_PID=$RUN/registry.pid
  REGISTRY_DB_URL=jdbc:h2:file:$REGISTRY_DATA/registry
}

registry_url() { printf 'http://%s:%s%s' "$HOST" "$REGISTRY_PORT" "$REGISTRY_CCOMPAT_PATH"; }

registry_running() {
  registry_paths
  pid_alive "$REGISTRY_PID" "apicurio.datasource.url=$REGISTRY_DB_URL"
}

registry_healthy() { probe registry "http://$HOST:$REGISTRY_PORT" "$(registry_url)" >/dev/null; }

registry_ports() { echo "$REGISTRY_PORT"; }

registry_addr() { registry_url; }

registry_start() {
  registry_paths
  mkdir -p "$REGISTRY_DATA"
  # The management interface (health and metrics on a port of its own in the versions that enable it) is held to
  # loopback too, on a port that moves with the offset.
  # shellcheck disable=SC2086 # REGISTRY_JAVA_OPTS is a list of flags
  start_daemon "$REGISTRY_PID" "$(log_file registry)" java $REGISTRY_JAVA_OPTS -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true \
    -Dquarkus.http.host="$HOST" -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host="$HOST" -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" \
    -Dquarkus.log.console.color=false \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 -Dapicurio.datasource.url="$REGISTRY_DB_URL" \
    -jar "$REGISTRY_JAR"
}

# The registry enforces no compatibility until a rule is set: BACKWARD once, when its storage is new, so a rule an
# operator changed later is kept across restarts.
registry_after_start() {
  registry_paths
  [[ -e $REGISTRY_DIR/compatibility.set ]] && return 0
  local out
  out=$(probe registry "http://$HOST:$REGISTRY_PORT" "$(registry_url)" --compatibility BACKWARD) || { log registry "$out"; return 1; }
  log registry "$out"
  touch "$REGISTRY_DIR/compatibility.set"
}

registry_stop() {
  registry_paths
  stop_pid registry "$REGISTRY_PID" "apicurio.datasource.url=$REGISTRY_DB_URL"
}

registry_logfile() { log_file registry; }
