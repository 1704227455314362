#!/bin/sh
# Builds the native binding of @tensorflow/tfjs-node-gpu in the trainer image's build stage
# (docker/train-gpu.Dockerfile), from /app after `npm ci --ignore-scripts`.
#
# tfjs-node-gpu 4.22's own installer downloads libtensorflow 2.9.1 for GPU (built for CUDA 11.2 and
# cuDNN 8.1) from Google's bucket, which no longer serves it. So the library's location is an input:
#   LIBTENSORFLOW_URL     a libtensorflow GPU tar.gz (include/ + lib/) anywhere curl can fetch it: a
#                         mirror of libtensorflow-gpu-linux-x86_64-2.9.1.tar.gz, or a newer 2.x GPU build
#                         (its CUDA/cuDNN must match the image's CUDA_IMAGE). The binding is compiled
#                         against it.
#   LIBTENSORFLOW_SHA256  optional checksum of that file.
#   TFJS_NODE_BASE_URI    otherwise, tfjs's installer fetches
#                         ${TFJS_NODE_BASE_URI}gpu-linux-x86_64-2.9.1.tar.gz (HTTPS only, no redirects);
#                         empty means the original upstream location.
#   TFJS_NATIVE           required (default): fail the build when the binding cannot be built.
#                         optional: remove the package instead, and training runs on TF.js's wasm/cpu
#                         backends (much slower; the chosen backend is logged when training starts).
#                         skip: remove the package without trying (no download, no compiler needed).
set -eu

pkg=node_modules/@tensorflow/tfjs-node-gpu
tarball=/tmp/libtensorflow.tar.gz

if [ ! -d "$pkg" ]; then
  echo "install-tfjs-node-gpu: $pkg is not installed (npm ci --workspace training should have)" >&2
  exit 1
fi

# A newer libtensorflow 2.x has other file names; tfjs's installer looks for the 2.9.1 ones, and the
# binding itself only needs the libtensorflow.so / libtensorflow_framework.so links (SONAME .so.2).
alias_2_9_1() {
  for lib in libtensorflow libtensorflow_framework; do
    if [ ! -e "$pkg/deps/lib/$lib.so.2.9.1" ]; then
      found=$(find "$pkg/deps/lib" -maxdepth 1 -name "$lib.so.2.*" | sort | tail -n 1)
      if [ -z "$found" ]; then
        echo "install-tfjs-node-gpu: $LIBTENSORFLOW_URL has no lib/$lib.so.2.*" >&2
        return 1
      fi
      ln -s "$(basename "$found")" "$pkg/deps/lib/$lib.so.2.9.1"
    fi
  done
}

build_from_url() {
  rm -rf "$pkg/deps"
  mkdir -p "$pkg/deps"
  curl --fail --silent --show-error --location --retry 3 --output "$tarball" "$LIBTENSORFLOW_URL"
  if [ -n "${LIBTENSORFLOW_SHA256:-}" ]; then
    echo "$LIBTENSORFLOW_SHA256  $tarball" | sha256sum -c -
  fi
  tar -xzf "$tarball" -C "$pkg/deps"
  rm -f "$tarball"
  alias_2_9_1
  # tfjs's "custom binary" file: with a custom library and no custom addon, its installer compiles
  # the binding from source (node-gyp) instead of fetching a prebuilt one made for 2.9.1.
  printf '{ "tf-lib": "%s" }\n' "$LIBTENSORFLOW_URL" >"$pkg/scripts/custom-binary.json"
  # Without the "download" argument the installer uses deps/ as it is and only builds.
  # It calls node-pre-gyp from PATH, as npm would provide it.
  bin="$PWD/node_modules/.bin"
  (cd "$pkg" && PATH="$bin:$PATH" node scripts/install.js gpu)
}

build_with_tfjs_installer() {
  # npm runs the package's own install script (node scripts/install.js gpu download) with
  # node_modules/.bin on PATH; TFJS_NODE_BASE_URI is read by that script.
  npm rebuild @tensorflow/tfjs-node-gpu --foreground-scripts
}

build() {
  if [ -n "${LIBTENSORFLOW_URL:-}" ]; then build_from_url; else build_with_tfjs_installer; fi
  # Loading the binding proves the library and the addon fit together; a missing GPU or driver at
  # build time is fine (TensorFlow looks for CUDA lazily, when a GPU is first used).
  node -e "require('@tensorflow/tfjs-node-gpu'); console.log('tfjs-node-gpu binding loaded')"
}

if [ "${TFJS_NATIVE:-required}" = skip ]; then
  echo "install-tfjs-node-gpu: TFJS_NATIVE=skip: removing it; training will use TF.js wasm/cpu." >&2
  rm -rf "$pkg"
  exit 0
fi

# In a subshell of its own, so `set -e` stops at the first failing step (inside an `if` or `||`
# condition the shell would ignore it).
set +e
(
  set -e
  build
)
status=$?
set -e
if [ "$status" -eq 0 ]; then
  exit 0
fi
echo "install-tfjs-node-gpu: could not build the tfjs-node-gpu binding." >&2
echo "  Pass --build-arg LIBTENSORFLOW_URL=<libtensorflow GPU tar.gz> (or TFJS_NODE_BASE_URI=<mirror prefix>);" >&2
echo "  see README.md, 'GPU training'." >&2
if [ "${TFJS_NATIVE:-required}" = optional ]; then
  echo "  TFJS_NATIVE=optional: removing it; training will use TF.js wasm/cpu." >&2
  rm -rf "$pkg"
  exit 0
fi
exit 1
