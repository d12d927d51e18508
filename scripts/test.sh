#!/usr/bin/env bash
# Runs every bora test from a fresh clone: set-up, formatting, lints, then the whole
# test suite (unit, integration, real ROS 2 processes, the real model) in release mode.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

# Whisper base too: a test checks it against ctranslate2's transcript.
BORA_WHISPER_BASE=1 bash scripts/setup.sh
# shellcheck source=scripts/env.sh
source scripts/env.sh

step() { printf '\n== %s\n' "$*" >&2; }
step "format"
cargo fmt --all --check
step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --release -- -D warnings
step "python peers and launch files compile"
python3 -m py_compile tests/peers/*.py $(ls launch/*.py 2>/dev/null)
step "intent data: every line valid, no held-out leak, train/dev/dev_copy are what generate.py writes"
python3 models/data/intents/check.py >/dev/null
python3 models/data/intents/generate.py --check
step "no two modules of a crate import each other"
python3 scripts/import-cycles.py
step "build"
cargo build --workspace --release --bins
step "tests"
# --no-fail-fast: one run names every failing test binary, not only the first.
cargo test --workspace --release --no-fail-fast
# About 1.5 min cold on 2 cores (bora-rt and its dependencies rebuilt under --cfg loom),
# the checks themselves under a second. `cargo test` above lists them as ignored.
step "loom: every interleaving of the latest-value slot (bora-rt alone, its own target dir)"
RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 CARGO_TARGET_DIR="$repo/target/loom" \
  cargo test --release -p bora-rt --test loom_slot
step "aarch64: cross-build, tests under qemu (scripts/cross-aarch64.sh)"
bash scripts/cross-aarch64.sh
