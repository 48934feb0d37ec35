# shellcheck shell=bash
# Sourced by the project's entry scripts (demo, tests, bench, chaos, set-up): puts a Node.js >= 22 first on PATH for
# the rest of the script. The node already on PATH when it is new enough; otherwise the version in .node-version,
# from the npm registry package node-linux-<arch> (it ships the binary and the headers), installed once into the
# install cache ($SCHEDULED_JOB_CACHE, default /var/cache/scheduled-job) that the local stack uses too.
# npm stays whichever one is on PATH: it runs on the node found first, so `npm ci` and any native build target it.
#
#   source scripts/use-node.sh            install when missing, then use
#   sj_node_dir                           echo the bin dir to put first on PATH (empty when PATH's node will do);
#                                         never installs (`stack env` calls it)

SJ_NODE_MIN_MAJOR=22
SJ_NODE_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SJ_NODE_VERSION=$(tr -d ' \nv' <"$SJ_NODE_REPO/.node-version")
SJ_NODE_HOME=${SCHEDULED_JOB_CACHE:-/var/cache/scheduled-job}/node/v$SJ_NODE_VERSION

sj_node_major() { # <node binary>: its major version, or 0
  local v
  v=$("$1" -p 'process.versions.node' 2>/dev/null) || v=0
  printf '%s' "${v%%.*}"
}

sj_node_dir() {
  local current
  current=$(command -v node 2>/dev/null || true)
  if [[ -n $current ]] && (($(sj_node_major "$current") >= SJ_NODE_MIN_MAJOR)); then return 0; fi
  [[ -x $SJ_NODE_HOME/bin/node ]] && printf '%s' "$SJ_NODE_HOME/bin"
  return 0
}

sj_node_install() {
  local arch tmp
  case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) echo "use-node: no node-linux package for $(uname -m)" >&2; return 1 ;; esac
  command -v npm >/dev/null 2>&1 || { echo "use-node: npm is needed once, to fetch Node $SJ_NODE_VERSION from the npm registry" >&2; return 1; }
  mkdir -p "$(dirname "$SJ_NODE_HOME")"
  (
    # Several clones share the cache: one installs, the others wait and find it done.
    flock -w 600 8 || { echo "use-node: timed out waiting for $SJ_NODE_HOME.lock" >&2; exit 1; }
    [[ -x $SJ_NODE_HOME/bin/node ]] && exit 0
    echo "use-node: $(node --version 2>/dev/null || echo 'no node') on PATH is older than $SJ_NODE_MIN_MAJOR; installing Node $SJ_NODE_VERSION into $SJ_NODE_HOME" >&2
    tmp=$(mktemp -d "$SJ_NODE_HOME.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    # npm pack checks the tarball against the registry's integrity hash.
    npm pack --silent --pack-destination "$tmp" "node-linux-$arch@$SJ_NODE_VERSION" >/dev/null
    tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$tmp"
    [[ $("$tmp/package/bin/node" --version) == "v$SJ_NODE_VERSION" ]] || { echo "use-node: the unpacked node is not v$SJ_NODE_VERSION" >&2; exit 1; }
    rm -rf "$SJ_NODE_HOME"
    mv "$tmp/package" "$SJ_NODE_HOME"
  ) 8>"$SJ_NODE_HOME.lock"
}

sj_use_node() {
  local dir current
  current=$(command -v node 2>/dev/null || true)
  if [[ -z $current ]] || (($(sj_node_major "$current") < SJ_NODE_MIN_MAJOR)); then
    [[ -x $SJ_NODE_HOME/bin/node ]] || sj_node_install || return 1
  fi
  dir=$(sj_node_dir)
  if [[ -n $dir ]]; then
    export PATH="$dir:$PATH"
    # node-gyp builds against these headers instead of downloading them.
    export npm_config_nodedir=$SJ_NODE_HOME
  fi
}

if [[ ${1:-} != --functions-only ]]; then
  sj_use_node || { echo "use-node: no Node.js >= $SJ_NODE_MIN_MAJOR; install one or put it first on PATH" >&2; exit 1; }
fi
