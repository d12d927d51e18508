#!/usr/bin/env bash
# Build llama.cpp's `llama-bench` from the llama.cpp that the PyPI sdist of
# llama-cpp-python vendors, natively for this CPU, into .bench/ (git-ignored).
#
# Why the sdist and cmake rather than `pip install llama-cpp-python`: the comparison
# needs llama.cpp's own `llama-bench` (prefill and decode at a given KV depth, no Python
# in the loop), which the wheel does not install; only the vendored tree has it.
# A second run finds the stamp and returns at once.
#
# Environment: LLAMA_CPP_PYTHON_VERSION (default 0.3.36), BENCH_DIR (default <repo>/.bench),
# BUILD_JOBS (default 2). Prints the path of llama-bench on stdout.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${BENCH_DIR:-$repo/.bench}"
ver="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
jobs="${BUILD_JOBS:-2}"
venv="$dir/venv"
src="$dir/src/llama_cpp_python-$ver/vendor/llama.cpp"
build="$dir/llama.cpp-$ver-native"
bin="$build/bin/llama-bench"
stamp="$build/.bora-built"

say() { printf '[build-llama] %s\n' "$*" >&2; }
die() { printf '[build-llama] error: %s\n' "$*" >&2; exit 1; }

if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$ver $(uname -m)" ]; then
  say "llama-bench $ver already built: $bin"
  echo "$bin"
  exit 0
fi

mkdir -p "$dir/src"
if [ ! -x "$venv/bin/cmake" ]; then
  [ -x "$venv/bin/python" ] || { say "creating venv $venv"; python3 -m venv "$venv"; }
  say "installing cmake and ninja (wheels) into $venv"
  "$venv/bin/pip" install -q --disable-pip-version-check cmake ninja
fi
if [ ! -f "$src/CMakeLists.txt" ]; then
  tarball="$dir/src/llama_cpp_python-$ver.tar.gz"
  if [ ! -f "$tarball" ]; then
    say "downloading the llama-cpp-python $ver sdist"
    # --no-binary for this package only: its build dependencies come as wheels
    # (`:all:` would compile cmake itself from source).
    "$venv/bin/pip" download -q --disable-pip-version-check --no-deps \
      --no-binary llama-cpp-python "llama-cpp-python==$ver" -d "$dir/src"
  fi
  [ -f "$tarball" ] || die "no $tarball after pip download"
  tar xzf "$tarball" -C "$dir/src"
  [ -f "$src/CMakeLists.txt" ] || die "the sdist has no vendor/llama.cpp (layout changed?)"
fi

say "configuring llama.cpp (GGML_NATIVE=ON, CPU only) in $build"
PATH="$venv/bin:$PATH" cmake -S "$src" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
  -DBUILD_SHARED_LIBS=OFF >&2
say "building llama-bench with $jobs jobs (10-30 min on 2 busy cores)"
PATH="$venv/bin:$PATH" nice -n 10 cmake --build "$build" --target llama-bench -j "$jobs" >&2
[ -x "$bin" ] || die "build finished but $bin is missing"
printf '%s %s' "$ver" "$(uname -m)" >"$stamp"
say "built $bin"
echo "$bin"
