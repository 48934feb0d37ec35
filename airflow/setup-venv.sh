#!/usr/bin/env bash
# The Airflow virtualenv for this package's tests: Airflow 3, the HTTP provider, temporalio and pytest at the exact
# versions of requirements.txt / constraints.txt, from PyPI only. It lives in the shared cache (outside the clone) and
# is reused while its key (a hash of those files and the Python version) is unchanged. This clone's package is
# installed into it in editable mode, which takes a second and is skipped when it already points here.
# Prints the venv's path on stdout (progress goes to stderr).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${SCHEDULED_JOB_CACHE:-/var/cache/scheduled-job}
venv=$cache/airflow-venv
python=${PYTHON:-python3}
say() { echo "[airflow-venv] $*" >&2; }

mkdir -p "$cache/locks"
exec 9>"$cache/locks/airflow-venv.lock"
flock 9 # one builder at a time; others wait and then find it complete

pyver=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
key=$(cat "$here/requirements.txt" "$here/constraints.txt" <(echo "python $pyver") | sha256sum | cut -c1-16)

if [[ -f $venv/.complete && $(<"$venv/.complete") == "$key" && -x $venv/bin/python ]]; then
  say "reusing $venv ($key)"
else
  say "building $venv ($key) with Python $pyver; a few minutes on a fresh machine"
  start=$SECONDS
  rm -rf "$venv"
  "$python" -m venv "$venv"
  pipi() { "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "$@" >&2; }
  pipi -r "$here/requirements.txt" -c "$here/constraints.txt"
  "$venv/bin/python" -m pip check >&2 || say "pip check reported the conflicts above (not fatal)"
  echo "$key" >"$venv/.complete" # last: a half-built venv is never taken for complete
  say "built in $((SECONDS - start)) s"
fi

# This clone's package, editable; redone only when the venv points at another clone or the metadata changed.
pkg_key="$here $(sha256sum "$here/pyproject.toml" | cut -c1-16)"
if [[ ! -f $venv/.package || $(<"$venv/.package") != "$pkg_key" ]]; then
  say "installing scheduled-job-airflow from $here (editable)"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q --no-deps --no-build-isolation \
    -e "$here" >&2
  echo "$pkg_key" >"$venv/.package"
fi
echo "$venv"
