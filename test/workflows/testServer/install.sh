#!/usr/bin/env bash
# Installs Temporal's time-skipping test server (pom.xml, from Maven Central) into the install cache once, compiles
# the loopback launcher against it, and prints the path of the executable that TestWorkflowEnvironment starts.
# Idempotent: a second call only prints the path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache=${SCHEDULED_JOB_CACHE:-/var/cache/scheduled-job}
want=$(cat "$here/pom.xml" "$here/LoopbackTestServer.java" | sha256sum | cut -c1-16)
home=$cache/temporal-test-server/$want
exe=$home/temporal-test-server
if [[ ! -x $exe ]]; then
  command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1 || { echo "the workflow tests need a JDK 17+ (java and javac) on PATH" >&2; exit 1; }
  command -v mvn >/dev/null 2>&1 || { echo "the workflow tests need mvn on PATH (apt-get install maven)" >&2; exit 1; }
  echo "[temporal-test-server] resolving jars from Maven Central into $home" >&2
  rm -rf "$home.tmp"
  mkdir -p "$home.tmp"
  mvn -q -B -f "$here/pom.xml" -Dmaven.repo.local="$cache/temporal-test-server/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$home.tmp/lib" >&2
  javac -nowarn -cp "$home.tmp/lib/*" -d "$home.tmp/classes" "$here/LoopbackTestServer.java" >&2
  # C1 only and a small heap: the server lives for one test file, and start-up dominates its cost on 2 cores.
  cat >"$home.tmp/temporal-test-server" <<LAUNCHER
#!/bin/sh
exec java -Xmx256m -XX:TieredStopAtLevel=1 -cp "$home/classes:$home/lib/*" LoopbackTestServer "\$@"
LAUNCHER
  chmod +x "$home.tmp/temporal-test-server"
  rm -rf "$home"
  mv "$home.tmp" "$home"
fi
echo "$exe"
