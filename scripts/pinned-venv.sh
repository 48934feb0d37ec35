#!/usr/bin/env bash
# A Python virtualenv in the shared cache holding exactly the packages of <dir>/requirements.txt at the versions of
# <dir>/constraints.txt, from PyPI only. It is reused while its key (a hash of those files and the Python version)
# is unchanged, and rebuilt otherwise. Usage: pinned-venv.sh <name> <dir>. Prints the venv's path on stdout
# (progress goes to stderr). Used by airflow/setup-venv.sh and test/contract/setup-venv.sh.
set -euo pipefail
name=$1
dir=$(cd "$2" && pwd)
cache=${SCHEDULED_JOB_CACHE:-/var/cache/scheduled-job}
venv=$cache/$name
python=${PYTHON:-python3}
say() { echo "[$name] $*" >&2; }

mkdir -p "$cache/locks"
exec 9>"$cache/locks/$name.lock"
flock 9 # one builder at a time; others wait and then find it complete

pyver=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
key=$(cat "$dir/requirements.txt" "$dir/constraints.txt" <(echo "python $pyver") | sha256sum | cut -c1-16)

if [[ -f $venv/.complete && $(<"$venv/.complete") == "$key" && -x $venv/bin/python ]]; then
  say "reusing $venv ($key)"
else
  say "building $venv ($key) with Python $pyver"
  start=$SECONDS
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q -r "$dir/requirements.txt" -c "$dir/constraints.txt" >&2
  "$venv/bin/python" -m pip check >&2 || say "pip check reported the conflicts above (not fatal)"
  echo "$key" >"$venv/.complete" # last: a half-built venv is never taken for complete
  say "built in $((SECONDS - start)) s"
fi
echo "$venv"
