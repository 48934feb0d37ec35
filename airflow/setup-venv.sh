#!/usr/bin/env bash
# The Airflow virtualenv for this package's tests: Airflow 3, the HTTP provider, temporalio and pytest at the exact
# versions of requirements.txt / constraints.txt, from PyPI only. It lives in the shared cache (outside the clone) and
# is reused while its key (a hash of those files and the Python version) is unchanged. This clone's package is
# installed into it in editable mode, which takes a second and is skipped when it already points here.
# Prints the venv's path on stdout (progress goes to stderr).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=$(bash "$here/../scripts/pinned-venv.sh" airflow-venv "$here")
say() { echo "[airflow-venv] $*" >&2; }

# This clone's package, editable; redone only when the venv points at another clone or the metadata changed.
pkg_key="$here $(sha256sum "$here/pyproject.toml" | cut -c1-16)"
if [[ ! -f $venv/.package || $(<"$venv/.package") != "$pkg_key" ]]; then
  say "installing scheduled-job-airflow from $here (editable)"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q --no-deps --no-build-isolation \
    -e "$here" >&2
  echo "$pkg_key" >"$venv/.package"
fi
echo "$venv"
