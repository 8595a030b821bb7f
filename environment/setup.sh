#!/usr/bin/env bash
# Idempotent project setup, run by `npm start`, `npm test` and `npm run setup`:
#   1. `npm ci` when node_modules is missing or older than package-lock.json;
#   2. a project venv (environment/.venv) with Jupyter from environment/requirements.txt;
#   3. the tslab kernelspec registered inside that venv, pointing at this project's own tslab.
#   4. the native TensorFlow backend (environment/native.sh; SIFD_NATIVE=0 skips it).
# A second run finds its stamps and does nothing. It never needs root and never writes outside the
# project: npm and pip caches live under environment/.cache (git-ignored).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="environment/.venv"
cache="environment/.cache"
say() { printf 'setup: %s\n' "$*" >&2; }

# 1. Node dependencies. better-sqlite3 (the screening result store) has a native addon: its install script tries a
#    prebuilt binary from GitHub and otherwise compiles with node-gyp (python3, make, a C++ compiler), which would
#    download the Node headers unless it is pointed at the ones installed beside this node (Debian's nodejs has them
#    under /usr/include/node).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing node dependencies (npm ci)"
  node_prefix="$(dirname "$(dirname "$(node -p process.execPath)")")"
  if [ -z "${npm_config_nodedir:-}" ] && [ -f "$node_prefix/include/node/node_api.h" ]; then
    export npm_config_nodedir="$node_prefix"
  fi
  if ! command -v make >/dev/null 2>&1 || ! command -v c++ >/dev/null 2>&1; then
    say "make or a C++ compiler is missing: better-sqlite3 builds only if a prebuilt binary can be downloaded (Debian: sudo apt-get install build-essential)"
  fi
  npm ci --cache "$root/$cache/npm" --no-audit --no-fund >&2
  touch node_modules/.package-lock.json
fi

# 2. Python venv with Jupyter.
stamp="$venv/.sifd-requirements"
want="$(cat environment/requirements.txt)"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  if ! command -v python3 >/dev/null 2>&1; then
    say "python3 is missing; install it (Debian/Ubuntu: sudo apt-get install python3 python3-venv) and rerun"
    exit 1
  fi
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    say "python3's venv module is missing; install it (Debian/Ubuntu: sudo apt-get install python3-venv) and rerun"
    exit 1
  fi
  say "creating $venv with Jupyter (pip)"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  # --retries 0 --timeout 5: fail fast instead of retrying an index this machine cannot reach.
  PIP_CACHE_DIR="$root/$cache/pip" "$venv/bin/pip" install --quiet --disable-pip-version-check --retries 0 --timeout 5 \
    -r environment/requirements.txt >&2
  printf '%s' "$want" > "$stamp"
fi

# 3. tslab kernelspec inside the venv, bound to this checkout's tslab (through environment/tslab-kernel,
#    which starts it at the repository root).
tslab_bin="$root/environment/tslab-kernel"
kernel_json="$venv/share/jupyter/kernels/tslab/kernel.json"
if [ ! -f "$kernel_json" ] || ! grep -qF "\"$tslab_bin\"" "$kernel_json"; then
  say "registering the tslab kernel in $venv"
  "$root/node_modules/.bin/tslab" install --python "$venv/bin/python" --binary "$tslab_bin" --sys-prefix >&2
fi

# 4. The native TensorFlow backend (environment/native.sh: tfjs-node built offline against the TensorFlow wheel's
#    own libraries). Never fatal: where it cannot be built, it says which step failed and why, and sifd runs on
#    wasm. SIFD_NATIVE=0 skips it; SIFD_TF=gpu builds the GPU variant.
if [ "${SIFD_NATIVE:-1}" != 0 ]; then
  bash environment/native.sh || say "native backend: environment/native.sh stopped ($?); sifd runs on wasm"
fi
