#!/usr/bin/env bash
# Cross-builds the crates that build without ROS (bora-models, bora-rt, bora-geom, bora-agent, bora-sim, bora-pipeline, bora-llm, bora-testkit)
# for aarch64 (Jetson Orin, Raspberry Pi 5) and runs a chosen part of their tests under
# qemu-user: twice for the kernel tests, once on a CPU with the dot-product extension
# (`-cpu max`) and once on one without it (`-cpu cortex-a53`), so both NEON kernel sets run.
#
# Installs what is missing: the Rust target, the cross linker and libc, qemu-user.
# Emulated timings say nothing about a board's speed; nothing here measures performance.
#
# Usage: bash scripts/cross-aarch64.sh   (CI runs it from scripts/test.sh)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

target=aarch64-unknown-linux-gnu
sysroot=/usr/aarch64-linux-gnu
step() { printf '\n== aarch64: %s\n' "$*" >&2; }

step "toolchain"
if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
missing=()
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
[ -e "$sysroot/lib/libc.so" ] || missing+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
# .cargo/config.toml builds with `-C target-cpu=native`, which on this x86 host would name
# the host's CPU. RUSTFLAGS replaces it for the cross build: the baseline ARMv8-A with NEON
# (what every aarch64 Linux CPU has), so the one binary runs with and without the
# dot-product extension; the kernels detect dotprod at run time. `-D warnings`: the x86
# clippy run never compiles the aarch64-only code, so its warnings fail the build here.
export RUSTFLAGS="-C target-cpu=generic -D warnings"
# A target directory of its own: the host build scripts and proc macros of a cross build
# get no rustflags, those of the native build get `target-cpu=native`; in one directory
# the two builds would keep rebuilding each other's copies.
export CARGO_TARGET_DIR="$repo/target/cross-aarch64"
# No debug line tables in the cross build: nothing here debugs under qemu, and the
# emitted DWARF is a noticeable part of compiling candle on CI's two cores.
export CARGO_PROFILE_RELEASE_DEBUG=false
# Two test threads: qemu translates each one, and CI has two cores.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-2}"

# What runs under emulation, and why (qemu-user runs this code many times slower than a
# core would; the numbers are in the README's board section):
# - bora-models' unit tests, kernel tests first: the NEON kernels (both sets) against the
#   scalar reference and candle's dequantized product, bit-identity across sets, rows and
#   threads; the f16 conversion, GELU table, norms, tokenizer pieces, sampling;
# - the tokenizer tests against llama.cpp's ids and the round trips: byte-level code
#   (onig regexes, UTF-8 handling) on the target;
# - both models' greedy references against llama.cpp: the whole forward pass (NEON
#   products, attention, norms) on the target, the end-to-end check of the kernels;
# - the unit tests of the ROS-free crates (queues, budgets, the agent's logic, the simulator, the pipeline's decisions).
# Left out: the lean-vs-candle forward tests (model::cpu::tests, several minutes under
# qemu; the greedy references check the same forward pass against llama.cpp itself), the
# integration tests that run stages in real time (timing bounds mean nothing under
# emulation) and the other model tests, which check target-independent code the x86 run
# already covers.
# One package selection for every cargo call: cargo unifies dependency features over the
# selected packages, and two selections built candle and tokenizers twice.
pkgs=(-p bora-models -p bora-rt -p bora-geom -p bora-agent -p bora-sim -p bora-pipeline -p bora-llm -p bora-testkit)
model_tests=(--test tokenizer_matches_llama_cpp_reference
  --test tokenizer_round_trips_awkward_text
  --test greedy_generation_matches_llama_cpp)
xtest() { cargo test --release --target "$target" "${pkgs[@]}" "$@"; }

step "build (release, $target)"
xtest --lib "${model_tests[@]}" --no-run

runner() { export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $sysroot -cpu $1"; }

step "kernel tests without the dot product (qemu -cpu cortex-a53: plain NEON)"
runner cortex-a53
BORA_EXPECT_ISAS="Scalar Neon" xtest --lib -- kernels::

step "tests with the dot product (qemu -cpu max: SDOT and plain NEON)"
runner max
BORA_EXPECT_ISAS="Scalar Neon NeonDotprod" \
  xtest --lib -- --skip model::cpu::tests::lean_cpu_forward
xtest "${model_tests[@]}"
