#!/usr/bin/env bash
# Check a CUDA build of bora on a machine with an NVIDIA GPU (a Jetson, a workstation):
# that the CUDA libraries resolve, then decode speed and time to first token on the GPU
# (`bora bench --device cuda:0`), a greedy generation on the GPU, and the same bench on
# the CPU for comparison. Prints everything; writes JSON reports to OUT_DIR if given.
#
#   scripts/cuda-smoke.sh BORA_BINARY MODEL [OUT_DIR]
#     BORA_BINARY: built by scripts/build-cuda.sh (target/cuda/release/bora)
#     MODEL: a cache name (smollm2-135m-instruct) or a GGUF path
#
# CUDA libraries the binary needs (libcudart.so.13, libcublas.so.13, libcurand.so.10)
# are looked up where a CUDA 13 toolkit or the nvidia-* Python wheels put them when the
# dynamic loader does not already find them; the driver's libcuda.so.1 must be installed.
set -euo pipefail

bora="${1:?usage: cuda-smoke.sh BORA_BINARY MODEL [OUT_DIR]}"
model="${2:?usage: cuda-smoke.sh BORA_BINARY MODEL [OUT_DIR]}"
out="${3:-}"
say() { printf '[cuda-smoke] %s\n' "$*" >&2; }

[ -x "$bora" ] || { say "error: $bora is not an executable (build it with scripts/build-cuda.sh)"; exit 1; }
if ldd "$bora" | grep -q "not found"; then
  for lib in libcuda.so.1 libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10; do
    ldd "$bora" | grep -q "$lib => not found" || continue
    dir="$(find /usr/local/nvidia /usr/local/cuda*/lib64 /usr/lib /opt /usr/local/lib -name "$lib" \
      -print -quit 2>/dev/null | xargs -r dirname)"
    [ -n "$dir" ] && export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
fi
if ldd "$bora" | grep "not found" >&2; then
  say "error: libraries above are missing: install a CUDA 13 runtime and cuBLAS/cuRAND, or set LD_LIBRARY_PATH"
  exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true

say "bench on cuda:0"
"$bora" bench --model "$model" --device cuda:0
if [ -n "$out" ]; then
  mkdir -p "$out"
  "$bora" bench --model "$model" --device cuda:0 --json >"$out/bench-cuda.json"
fi
say "greedy generation on cuda:0"
"$bora" generate --model "$model" --device cuda:0 --greedy --max-tokens 24 --stats \
  $'<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n'
echo
say "bench on the CPU ($(nproc) cores)"
"$bora" bench --model "$model" --device cpu
if [ -n "$out" ]; then
  "$bora" bench --model "$model" --device cpu --json >"$out/bench-cpu.json"
fi
