#!/usr/bin/env bash
# Install everything a fresh Debian machine needs for the test suite, from package registries only:
#   1. system packages when missing (apt: postgresql, a Java 17 runtime, maven, python3-venv)
#   2. Node 24 when the system node is older than 22 (npm registry, into the shared cache; scripts/use-node.sh),
#      then the node dependencies (npm ci) and the build in dist/ (npm run build), both by scripts/ensure-deps.sh
#   3. the local service stack's pieces (Temporal CLI, Kafka jars, versitygw, Apicurio Registry) into the shared cache
#      ($SCHEDULED_JOB_CACHE, default /var/cache/scheduled-job), so later runs and other clones reuse them.
# Starting the services is left to the tests (`bash stack/stack.sh up` is idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."

bash stack/stack.sh system-deps
# The marker makes ensure-deps reinstall, so CI always starts from `npm ci` as before.
rm -f node_modules/.scheduled-job-node-abi
bash scripts/ensure-deps.sh
bash stack/stack.sh install
