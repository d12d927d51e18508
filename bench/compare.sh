#!/usr/bin/env bash
# bora vs llama.cpp on the same GGUF files (SmolLM2-135M-Instruct Q4_1, gemma-3-270m
# Q4_K_M), 1 and 2 threads: prefill and decode tok/s, peak RSS, bora's share of the
# memory bandwidth. llama.cpp runs each figure with its extra buffers (AMX or repacked
# weights; --repack 1, decode with -ub 1) and without (--repack 0); the table takes its best
# configuration that ran and names it, and a second table shows both or why one failed.
# Prints Markdown tables (the README's Performance section).
#
#   bench/compare.sh                      # 3 alternating repetitions, median
#   bench/compare.sh --reps 5 --threads 2 --models smollm2
#
# llama.cpp: built once from the llama-cpp-python sdist (bench/build-llama.sh, cached in
# .bench/). bora: target/release/bora, built if missing (`cargo build --release -p
# bora-nodes`); an existing binary is used as it is, so rebuild it after changing code.
# Takes about 5-15 minutes on 2 cores; not part of CI. Check `uptime` first: other load
# on the machine lowers both engines' numbers, not necessarily equally.
# Extra arguments go to bench/compare.py (--help lists them).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

llama_bench="$(bash "$repo/bench/build-llama.sh")"
# shellcheck source=/dev/null
source "$repo/scripts/env.sh"
bora="$repo/target/release/bora"
if [ ! -x "$bora" ]; then
  echo "[compare] building bora (cargo build --release -p bora-nodes)" >&2
  cargo build --release -p bora-nodes >&2
fi
mkdir -p "$repo/.bench/results"
# Measure a copy: others may relink target/release/bora while the runs go on.
cp -p "$bora" "$repo/.bench/bora-under-test"
exec python3 "$repo/bench/compare.py" --llama-bench "$llama_bench" --bora "$repo/.bench/bora-under-test" \
  --json-out "$repo/.bench/results/compare-$(date -u +%Y%m%dT%H%M%SZ).json" "$@"
