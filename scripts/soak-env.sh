# shellcheck shell=bash
# The soak stack's place (sourced by scripts/soak.sh and test/run.sh, in a shell of their own, since it moves
# SCHEDULED_JOB_PORT_OFFSET): ports at the exported offset + 200 unless SOAK_PORT_OFFSET sets them, state in
# .stack/soak unless SOAK_STACK_DIR says where. Refuses offset 0, the main stack's.
export SCHEDULED_JOB_PORT_OFFSET=${SOAK_PORT_OFFSET:-$((${SCHEDULED_JOB_PORT_OFFSET:-0} + 200))}
export SCHEDULED_JOB_STACK_DIR=${SOAK_STACK_DIR:-$PWD/.stack/soak}
if [ "$SCHEDULED_JOB_PORT_OFFSET" = 0 ]; then
  echo "soak: refusing to break the services of the main stack (SOAK_PORT_OFFSET=0)" >&2
  exit 2
fi
