#!/usr/bin/env bash
# Build bora with the `cuda` feature on a machine without a GPU (or without a CUDA
# install), using NVIDIA's CUDA 13.4 toolchain from PyPI wheels; compute capability 8.7
# (Jetson Orin) by default.
#
#   scripts/build-cuda.sh            # -> target/cuda/release/bora (own target dir)
#   CUDA_COMPUTE_CAP=90 scripts/build-cuda.sh
#   BORA_CUDA_ROOT=/usr/local/cuda scripts/build-cuda.sh   # use an installed toolkit
#   BORA_CUDA_VERSION=13.0.2 CUDA_COMPUTE_CAP=90 BORA_CUDA_NO_ROS=1 scripts/build-cuda.sh
#       # for a driver of CUDA 13.0 (580.x), without ROS: what ran on the H200 (see README)
#
# What it does, and why:
#   - Wheels: cuda-toolkit[nvcc,nvvm,crt,cudart,cublas,curand,nvrtc,cccl] into a venv
#     (.cuda/venv-<version>, git-ignored). nvvm and crt are named so that pip pins them to
#     the toolkit's version: left to nvcc's own unpinned needs, pip pairs nvcc 13.0 with
#     the newest NVVM, whose PTX (.version 9.5) the 13.0 ptxas and a 13.0 driver refuse.
#     The wheels unpack into one toolkit-shaped root, site-packages/nvidia/cu13 (bin/nvcc,
#     nvvm/, include/, lib/). 13.4 and not the newest by default: cudarc 0.19.10 (candle
#     0.11.1) knows CUDA up to 13.4 and panics on `nvcc --version` 13.5. The cu12 nvcc
#     wheel ships only ptxas, so CUDA 12 cannot be had this way.
#   - The wheels ship only versioned libraries (libcublas.so.13); the linker's `-lcublas`
#     needs the unversioned names: symlinks are added beside them.
#   - libcuda.so is the driver, not in any wheel; NVIDIA's toolkit links against a stub in
#     lib/stubs. The script makes that stub: every driver entry point cudarc or cuda.h
#     names, each returning CUDA_ERROR_NO_DEVICE, soname libcuda.so.1. The binary links to
#     the real libcuda.so.1 of the machine it runs on.
#   - CUDA_COMPUTE_CAP: candle-kernels (cudaforge) otherwise asks nvidia-smi.
#   - Own CARGO_TARGET_DIR (target/cuda): never replaces the CPU target/release/bora.
#
# The toolkit's version must not be newer than the CUDA version of the driver the binary
# will meet: candle loads its kernels as PTX, which the driver compiles at start, and a
# driver refuses PTX from a newer toolkit (CUDA_ERROR_UNSUPPORTED_PTX_VERSION).
#
# Environment: BORA_CUDA_VERSION (the cuda-toolkit wheels' version, default 13.4.3),
# BORA_CUDA_VENV (default <repo>/.cuda/venv-<version>), BORA_CUDA_ROOT (a toolkit to
# use instead of wheels), CUDA_COMPUTE_CAP (default 87), CARGO_TARGET_DIR (default
# <repo>/target/cuda), BUILD_JOBS (default 2), BORA_CUDA_NO_ROS=1 (build without the ROS
# boundary: the offline commands bench, generate, tokenize, intent), BORA_CUDA_PREPARE_ONLY=1
# (set up the toolkit and print the environment, no cargo build).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cuda_version="${BORA_CUDA_VERSION:-13.4.3}"
venv="${BORA_CUDA_VENV:-$repo/.cuda/venv-$cuda_version}"
toolkit_spec="cuda-toolkit[nvcc,nvvm,crt,cudart,cublas,curand,nvrtc,cccl]==$cuda_version"
jobs="${BUILD_JOBS:-2}"

say() { printf '[build-cuda] %s\n' "$*" >&2; }
die() { printf '[build-cuda] error: %s\n' "$*" >&2; exit 1; }

# --- Toolkit -------------------------------------------------------------------------
if [ -n "${BORA_CUDA_ROOT:-}" ]; then
  root="$BORA_CUDA_ROOT"
  [ -x "$root/bin/nvcc" ] || die "BORA_CUDA_ROOT=$root has no bin/nvcc; point it at a CUDA toolkit"
  say "using the CUDA toolkit at $root"
else
  stamp="$venv/.bora-cuda-wheels"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$toolkit_spec" ] && [ -x "$venv/bin/python" ]; then
    say "CUDA wheels already in $venv"
  else
    [ -x "$venv/bin/python" ] || { say "creating venv $venv"; python3 -m venv "$venv"; }
    say "installing $toolkit_spec into $venv (about 1.2 GB, a minute or two)"
    "$venv/bin/pip" install -q --disable-pip-version-check "$toolkit_spec"
    printf '%s' "$toolkit_spec" >"$stamp"
  fi
  site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  root="$site/nvidia/cu13"
  [ -x "$root/bin/nvcc" ] || die "$root/bin/nvcc missing: remove $venv and re-run"

  # Unversioned names for the linker (-lcudart -lcublas -lcublasLt -lcurand -lnvrtc).
  for lib in "$root"/lib/lib*.so.*; do
    base="${lib##*/}"
    plain="${base%%.so.*}.so"
    [ -e "$root/lib/$plain" ] || ln -s "$base" "$root/lib/$plain"
  done

  # The driver stub.
  stub="$root/lib/stubs/libcuda.so"
  if [ ! -f "$stub" ]; then
    mkdir -p "$root/lib/stubs"
    names="$(mktemp)"
    # Entry points cuda.h declares (after its _v2/_v3 renaming macros)...
    echo '#include <cuda.h>' | gcc -E -P -I"$root/include" -x c - \
      | grep -oE 'CUresult +cu[A-Za-z0-9_]+ *\(' | grep -oE 'cu[A-Za-z0-9_]+' >"$names"
    # ...and every name cudarc's bindings link to (older versions of some entry points too).
    cudarc_ver="$(awk '/^name = "cudarc"/{getline; gsub(/[^0-9.]/,""); print; exit}' "$repo/Cargo.lock")"
    for src in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"cudarc-$cudarc_ver"/src/driver/sys/mod.rs; do
      [ -f "$src" ] && grep -oE '\bfn cu[A-Za-z0-9_]+\(' "$src" | sed 's/^fn //; s/($//' >>"$names"
    done
    count="$(sort -u "$names" | wc -l)"
    [ "$count" -gt 100 ] || die "found only $count driver entry points for the libcuda stub"
    sort -u "$names" | awk '{ printf "int %s(void) { return 100; }\n", $1 }' >"$root/lib/stubs/libcuda-stub.c"
    rm -f "$names"
    gcc -shared -fPIC -O0 -Wl,-soname,libcuda.so.1 -o "$stub" "$root/lib/stubs/libcuda-stub.c"
    say "made a link-time libcuda.so stub with $count entry points"
  fi
fi

export CUDA_ROOT="$root" CUDA_PATH="$root" CUDA_HOME="$root"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-87}"
export CUDAFORGE_THREADS="$jobs"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/cuda}"
case "$CARGO_TARGET_DIR" in
  "$repo/target" | "$repo/target/") die "CARGO_TARGET_DIR must not be the shared target dir" ;;
esac

features=(--features cuda)
if [ "${BORA_CUDA_NO_ROS:-0}" = 1 ]; then
  features=(--no-default-features --features cuda)
else
  # ROS environment for the default `ros` feature (a sourced ROS 2 or the project venv).
  # shellcheck source=/dev/null
  source "$repo/scripts/env.sh"
fi
export PATH="$root/bin:$PATH"
# The wheels' lib/ and lib/stubs; an installed toolkit's lib64/ and lib64/stubs.
link_dirs=""
for d in "$root/lib" "$root/lib64" "$root/lib/stubs" "$root/lib64/stubs"; do
  [ -d "$d" ] && link_dirs="$link_dirs${link_dirs:+:}$d"
done
export LIBRARY_PATH="$link_dirs${LIBRARY_PATH:+:$LIBRARY_PATH}"

nvcc_version="$(nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
say "nvcc $nvcc_version at $(command -v nvcc); compute capability $CUDA_COMPUTE_CAP; target dir $CARGO_TARGET_DIR"
if [ "${BORA_CUDA_PREPARE_ONLY:-0}" = 1 ]; then
  env | grep -E '^(CUDA_ROOT|CUDA_PATH|CUDA_HOME|CUDA_COMPUTE_CAP|CUDAFORGE_THREADS|CARGO_TARGET_DIR|LIBRARY_PATH)='
  exit 0
fi

start=$(date +%s)
say "cargo build --release -p bora-nodes ${features[*]} (long: candle's .cu kernels and a full rebuild)"
nice -n 10 cargo build --release -j "$jobs" -p bora-nodes "${features[@]}"
say "built $CARGO_TARGET_DIR/release/bora in $(( $(date +%s) - start )) s"
