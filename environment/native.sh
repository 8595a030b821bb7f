#!/usr/bin/env bash
# Builds sifd's native TensorFlow backend offline; called by environment/setup.sh (step 4).
#
# @tensorflow/tfjs-node's own install script downloads libtensorflow (fails offline, and npm then rolls back the
# whole install), so the package never goes through npm install. Instead:
#   1. the TensorFlow pip wheel (tensorflow-cpu, or tensorflow for SIFD_TF=gpu) is downloaded through the project's
#      pip cache into environment/.cache/native;
#   2. only libtensorflow_cc.so.2, libtensorflow_framework.so.2 and the 14 headers the addon includes are extracted
#      into environment/native/libtensorflow;
#   3. the package tarball (npm pack, verified against its pinned integrity) is unpacked into
#      environment/native/node_modules/@tensorflow/<package>, outside the project's node_modules, so `npm ci` never
#      wipes it; its runtime dependencies (@tensorflow/tfjs, @mapbox/node-pre-gyp, google-protobuf) resolve from
#      the project's node_modules;
#   4. deps/include and deps/lib are staged (libtensorflow.so names the _cc library; libtensorflow.so.2.9.1 makes
#      the package's install script skip its download if anything ever reruns it);
#   5. the addon is built with node-pre-gyp for this Node's N-API version only;
#   6. a smoke test loads it: backend name, a conv2d, a gradient.
# environment/native/status.json records the result (read by `sifd info`); on failure it names the step and the
# reason, and sifd runs on wasm. A stamp makes a second run a no-op; delete environment/native to rebuild.
#
# SIFD_TF=gpu builds the GPU variant (tensorflow[and-cuda] + @tensorflow/tfjs-node-gpu, CUDA wheels under
# environment/native/libtensorflow/nvidia, environment/native/env.sh sets LD_LIBRARY_PATH). Unchecked: no GPU here.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="environment/.venv"
cache="$root/environment/.cache"
native="environment/native"
say() { printf 'setup: %s\n' "$*" >&2; }

tf_version="2.21.0"
tfjs_node_version="4.22.0"
variant="${SIFD_TF:-cpu}"
case "$variant" in
  cpu)
    wheel_req="tensorflow-cpu==$tf_version"
    pkg="@tensorflow/tfjs-node"
    pkg_integrity="sha512-uHrXeUlfgkMxTZqHkESSV7zSdKdV0LlsBeblqkuKU9nnfxB1pC6DtoyYVaLxznzZy7WQSegjcohxxCjAf6Dc7w=="
    ;;
  gpu)
    wheel_req="tensorflow==$tf_version"
    pkg="@tensorflow/tfjs-node-gpu"
    pkg_integrity="sha512-p//NN6DGiN4hInUmIkRffaFVMcdTREUMjPyjW04J7OXvB2zBlQimj61eFKSgRrH3f5TnOfKzb0n56he/B6a4bw=="
    ;;
  *)
    say "native backend: SIFD_TF='$variant' is not a variant; choose cpu or gpu"
    exit 1
    ;;
esac

# Everything the build depends on; a change (or another Node ABI) rebuilds.
want="variant=$variant wheel=$wheel_req pkg=$pkg@$tfjs_node_version node=$(node -p 'process.versions.modules + "/napi" + process.versions.napi')"
stamp="$native/.stamp"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

started=$SECONDS
rm -rf "$native"
mkdir -p "$native" "$cache/native"
log="$root/$native/build.log"
: > "$log"
pkg_dir="$native/node_modules/$pkg"
lib_dir="$native/libtensorflow"
step=""

# Writes status.json (through a temp file + rename) and the stamp; the stamp is written on failure too, so a
# machine where the build cannot work does not retry it on every `npm test` (delete environment/native to retry).
finish() {
  local ok="$1" reason="${2:-}"
  node -e '
    const fs = require("fs");
    const [file, ok, step, reason, variant, pkg, pkgVersion, wheel, seconds] = process.argv.slice(1);
    const status = ok === "true"
      ? { ok: true, variant, package: pkg, packageVersion: pkgVersion, wheel, tensorflowVersion: wheel.split("==")[1],
          packageDir: "environment/native/node_modules/" + pkg, libDir: "environment/native/libtensorflow/lib",
          buildSeconds: Number(seconds), builtAt: new Date().toISOString() }
      : { ok: false, variant, package: pkg, step, reason, builtAt: new Date().toISOString() };
    fs.writeFileSync(file + ".tmp", JSON.stringify(status, null, 2) + "\n", { flag: "w" });
    fs.renameSync(file + ".tmp", file);
  ' "$native/status.json" "$ok" "$step" "$reason" "$variant" "$pkg" "$tfjs_node_version" "$wheel_req" "$((SECONDS - started))"
  printf '%s' "$want" > "$stamp"
}

# Runs one step, its output into build.log; on failure records the step and the last line of its output.
run_step() {
  step="$1"
  shift
  printf '\n== %s\n' "$step" >> "$log"
  # In the background so that `set -e` holds inside the step (it is off in a subshell whose status `if` tests).
  ( set -e; "$@" ) >> "$log" 2>&1 &
  if ! wait $!; then
    local reason
    # The step's last error line (Node ends a crash with its version line), else its last line.
    reason="$(sed -n "/^== $step\$/,\$p" "$log" | grep -E 'Error|error|ERR!|failed|No such|not found|[Nn]o [a-z]+ ' | grep -v '^== ' | tail -n 1)"
    [ -n "$reason" ] || reason="$(grep -v '^\s*$' "$log" | tail -n 1)"
    reason="$(printf '%s' "$reason" | sed -E 's/^\s+//' | cut -c1-300)"
    say "native backend: step '$step' failed: $reason (full log: $native/build.log); sifd runs on wasm." \
      "Setup does not retry it; delete $native to try again"
    finish false "$reason"
    exit 0
  fi
}

fetch_wheel() {
  # The wheel stays in the cache (offline rebuilds); the pip cache is the project's own.
  [ -n "$(wheel_file)" ] && return 0
  PIP_CACHE_DIR="$cache/pip" "$venv/bin/pip" download --no-deps --retries 0 --timeout 5 --disable-pip-version-check \
    --quiet -d "$cache/native/wheel" "$wheel_req"
}

wheel_file() {
  ls "$cache/native/wheel/$(printf '%s' "${wheel_req%%==*}" | tr - _)-$tf_version-"*.whl 2>/dev/null | head -n 1 || true
}

extract_wheel() {
  local whl
  whl="$(wheel_file)"
  [ -n "$whl" ] || { echo "no $wheel_req wheel in $cache/native/wheel"; return 1; }
  "$venv/bin/python" - "$whl" "$lib_dir" <<'PY'
import os, shutil, sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
libs = ["libtensorflow_cc.so.2", "libtensorflow_framework.so.2"]
# The headers tfjs-node's binding includes, with everything they include in turn (14 files).
headers = ["tensorflow/c/c_api.h", "tensorflow/c/c_api_macros.h", "tensorflow/c/eager/c_api.h",
           "tensorflow/c/tf_attrtype.h", "tensorflow/c/tf_buffer.h", "tensorflow/c/tf_datatype.h",
           "tensorflow/c/tf_status.h", "tensorflow/c/tf_tensor.h", "tensorflow/c/tf_tstring.h",
           "tensorflow/core/platform/ctstring.h", "tensorflow/core/platform/ctstring_internal.h",
           "tsl/platform/ctstring.h", "tsl/platform/ctstring_internal.h", "xla/tsl/c/tsl_status.h"]
with zipfile.ZipFile(whl) as z:
    members = [(f"tensorflow/{n}", os.path.join(out, "lib", n)) for n in libs]
    members += [(f"tensorflow/include/{h}", os.path.join(out, "include", h)) for h in headers]
    for src, dst in members:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with z.open(src) as r, open(dst + ".tmp", "wb") as w:
            shutil.copyfileobj(r, w, 1 << 22)
        os.replace(dst + ".tmp", dst)
lib = os.path.join(out, "lib")
# -ltensorflow must find the _cc library (it exports the whole C and eager C API); the tfjs-node install
# script looks for libtensorflow.so.2.9.1 and skips its download when it is there.
for name, target in [("libtensorflow.so", "libtensorflow_cc.so.2"), ("libtensorflow.so.2.9.1", "libtensorflow_cc.so.2"),
                     ("libtensorflow_framework.so", "libtensorflow_framework.so.2")]:
    os.symlink(target, os.path.join(lib, name))
print(f"extracted {len(members)} files from {os.path.basename(whl)}")
PY
}

fetch_package() {
  local tgz="$cache/native/$(printf '%s' "${pkg#@}" | tr / -)-$tfjs_node_version.tgz"
  if [ ! -f "$tgz" ]; then
    (cd "$cache/native" && npm pack "$pkg@$tfjs_node_version" --cache "$cache/npm" --silent) || return 1
  fi
  local got
  got="sha512-$(node -e 'process.stdout.write(require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")"
  if [ "$got" != "$pkg_integrity" ]; then
    echo "$tgz: integrity $got, expected $pkg_integrity"
    rm -f "$tgz"
    return 1
  fi
  mkdir -p "$pkg_dir"
  tar -xzf "$tgz" -C "$pkg_dir" --strip-components=1
  # Relative links: the project folder can move.
  mkdir -p "$pkg_dir/deps"
  local up
  up="$(printf '%s' "$pkg_dir/deps" | sed -E 's#[^/]+#..#g')"
  ln -s "$up/$lib_dir/include" "$pkg_dir/deps/include"
  ln -s "$up/$lib_dir/lib" "$pkg_dir/deps/lib"
}

build_addon() {
  local nodedir
  nodedir="$(dirname "$(dirname "$(node -p process.execPath)")")"
  if [ ! -f "$nodedir/include/node/node_api.h" ]; then
    echo "no Node headers under $nodedir/include/node (install your distribution's nodejs development headers)"
    return 1
  fi
  # node-gyp's own caches stay inside the project.
  (cd "$pkg_dir" && npm_config_devdir="$cache/node-gyp" node "$root/node_modules/@mapbox/node-pre-gyp/bin/node-pre-gyp" \
    install --build-from-source --nodedir="$nodedir")
  ls "$pkg_dir"/lib/napi-v*/tfjs_binding.node
}

# GPU only: the CUDA/cuDNN wheels the TensorFlow wheel names for its and-cuda extra, into libtensorflow/nvidia (beside
# lib/, as in site-packages), and env.sh with their lib folders on LD_LIBRARY_PATH (TensorFlow dlopens them; the path
# must be set before the process starts: environment/tslab-kernel and bin/sifd.js source or apply it).
fetch_cuda() {
  local whl reqs
  whl="$(wheel_file)"
  reqs="$("$venv/bin/python" - "$whl" <<'PY'
import re, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    for line in z.read(meta).decode().splitlines():
        m = re.match(r'Requires-Dist: (nvidia-[^;]+);.*extra == "and-cuda"', line)
        if m:
            print(m.group(1).replace(" ", ""))
PY
)"
  [ -n "$reqs" ] || { echo "the wheel names no and-cuda requirements"; return 1; }
  # shellcheck disable=SC2086
  PIP_CACHE_DIR="$cache/pip" "$venv/bin/pip" install --no-deps --retries 0 --timeout 5 --disable-pip-version-check \
    --quiet --target "$lib_dir" $reqs || return 1
  {
    echo '# Generated by environment/native.sh: the CUDA libraries of the GPU backend. Source it before sifd.'
    echo 'sifd_native="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"'
    echo 'for d in "$sifd_native"/libtensorflow/nvidia/*/lib; do LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; done'
    echo 'export LD_LIBRARY_PATH'
  } > "$native/env.sh"
}

say "building the native TensorFlow backend ($pkg $tfjs_node_version on $wheel_req; SIFD_NATIVE=0 skips it)"
run_step "download the TensorFlow wheel ($wheel_req)" fetch_wheel
run_step "extract libtensorflow from the wheel" extract_wheel
[ "$variant" = gpu ] && run_step "install the CUDA wheels" fetch_cuda
run_step "fetch and stage $pkg@$tfjs_node_version" fetch_package
run_step "build the tfjs-node addon (node-pre-gyp)" build_addon
if [ "$variant" = gpu ]; then
  run_step "smoke test" bash -c "source '$native/env.sh' && node environment/native-smoke.js '$pkg_dir'"
else
  run_step "smoke test" node environment/native-smoke.js "$pkg_dir"
fi
step=""
finish true
say "native backend ready in $((SECONDS - started)) s ($(du -sh "$native" | cut -f1) in $native)"
