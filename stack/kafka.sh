# shellcheck shell=bash
# Kafka 4.x in KRaft mode, jars from Maven Central (stack/kafka/pom.xml), run with plain java.

KAFKA_HOME=$CACHE/kafka
KAFKA_LIBS=$KAFKA_HOME/libs
KAFKA_MARKER=$KAFKA_HOME/installed
# Small heap; C1-only JIT roughly halves JVM start-up on 2 cores, and a dev broker never needs C2's peak.
KAFKA_JAVA_OPTS=${SCHEDULED_JOB_KAFKA_JAVA_OPTS:--Xmx512m -Xms256m -XX:+UseG1GC -XX:TieredStopAtLevel=1}

kafka_want() { printf 'pom %s' "$(sha256sum <"$STACK_SRC/kafka/pom.xml" | cut -c1-16)"; }

kafka_installed() {
  [[ -s $KAFKA_MARKER && $(<"$KAFKA_MARKER") == "$(kafka_want)" ]] || return 1
  compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null
}

kafka_install() {
  kafka_installed && return 0
  java_ok || die "Kafka 4.x needs Java 17+ on PATH (apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null 2>&1 || die "mvn not found (apt-get install maven)"
  log kafka "resolving $(grep -o '<kafka.version>[^<]*' "$STACK_SRC/kafka/pom.xml" | cut -d'>' -f2) jars from Maven Central"
  rm -f "$KAFKA_MARKER"
  rm -rf "$KAFKA_LIBS.tmp"
  mvn -q -B -f "$STACK_SRC/kafka/pom.xml" -Dmaven.repo.local="$KAFKA_HOME/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp"
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  kafka_want >"$KAFKA_MARKER"
  log kafka "installed $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars into $KAFKA_LIBS"
}

kafka_paths() {
  KAFKA_DIR=$STATE/kafka
  KAFKA_DATA=$KAFKA_DIR/data
  KAFKA_PROPS=$KAFKA_DIR/server.properties
  KAFKA_PID=$RUN/kafka.pid
}

kafka_running() {
  kafka_paths
  pid_alive "$KAFKA_PID" "kafka.Kafka $KAFKA_PROPS"
}

kafka_healthy() { probe kafka "$HOST:$KAFKA_PORT" >/dev/null; }

kafka_ports() { echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT"; }

kafka_addr() { printf '%s:%s' "$HOST" "$KAFKA_PORT"; }

kafka_java() { java -XX:TieredStopAtLevel=1 -cp "$KAFKA_LIBS/*" -Dlog4j2.configurationFile="$STACK_SRC/kafka/log4j2.xml" -Dkafka.logs.dir="$LOGS" "$@"; }

kafka_start() {
  kafka_paths
  mkdir -p "$KAFKA_DATA"
  sed -e "s|@KAFKA_LOG_DIRS@|$KAFKA_DATA|" -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" "$STACK_SRC/kafka/server.properties.tmpl" >"$KAFKA_PROPS"
  # Format once. The cluster id is kept beside the data so existing data is never re-formatted.
  if [[ ! -s $KAFKA_DATA/meta.properties ]]; then
    # same shape as `kafka-storage random-uuid` (base64url UUID, never starting with '-'), without a JVM
    [[ -s $KAFKA_DIR/cluster.id ]] || python3 -c 'import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"): print(s); break' >"$KAFKA_DIR/cluster.id"
    log kafka "formatting storage (cluster id $(<"$KAFKA_DIR/cluster.id"))"
    kafka_java kafka.tools.StorageTool format --ignore-formatted -t "$(<"$KAFKA_DIR/cluster.id")" \
      -c "$KAFKA_PROPS" >>"$(log_file kafka)" 2>&1
  fi
  # shellcheck disable=SC2086 # KAFKA_JAVA_OPTS is a list of flags
  start_daemon "$KAFKA_PID" "$(log_file kafka)" java $KAFKA_JAVA_OPTS -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$STACK_SRC/kafka/log4j2.xml" \
    -Dkafka.logs.dir="$LOGS" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS"
}

kafka_after_start() { :; }

kafka_stop() {
  kafka_paths
  stop_pid kafka "$KAFKA_PID" "kafka.Kafka $KAFKA_PROPS"
}

kafka_logfile() { log_file kafka; }
