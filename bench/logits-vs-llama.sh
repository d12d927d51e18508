#!/usr/bin/env bash
# How far bora's logits are from llama.cpp's on the reference prompts, along the
# reference continuations (teacher forcing), and how far llama.cpp is from itself when
# only its KV cache type changes (f16, its default, vs f32). What the greedy test's
# near-tie tolerance rests on (models/tests/greedy_generation_matches_llama_cpp.rs).
#
#   bench/logits-vs-llama.sh                 # both models, 16 tokens per prompt
#
# Builds llama.cpp once (bench/build-llama.sh), then bench/llama_logits.cpp against its
# static libraries, dumps llama.cpp's logits into .bench/logits/{f16kv,f32kv}/, and runs
# `cargo run --release -p bora-models --example logits_vs_llama`. A few minutes; not CI.
# BORA_REFERENCE_DIR: the reference folder (default ../shared/reference).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
ref="${BORA_REFERENCE_DIR:-$repo/../shared/reference}"
[ -f "$ref/greedy.jsonl" ] || { echo "[logits] no $ref/greedy.jsonl; set BORA_REFERENCE_DIR" >&2; exit 1; }

llama_bench="$(bash "$repo/bench/build-llama.sh")"
build="$(dirname "$(dirname "$llama_bench")")"
src="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt")"
tool="$repo/.bench/llama-logits"
if [ ! -x "$tool" ] || [ "$repo/bench/llama_logits.cpp" -nt "$tool" ]; then
  echo "[logits] compiling bench/llama_logits.cpp against $build" >&2
  g++ -O2 -std=c++17 -I"$src/include" -I"$src/ggml/include" "$repo/bench/llama_logits.cpp" \
    -o "$tool" "$build/src/libllama.a" "$build/ggml/src/libggml.a" \
    "$build/ggml/src/libggml-cpu.a" "$build/ggml/src/libggml-base.a" -ldl -lm -fopenmp -lpthread
fi

out="$repo/.bench/logits"
mkdir -p "$out/f16kv" "$out/f32kv"
models="${BORA_MODELS_DIR:-$HOME/.cache/bora/models}"
python3 - "$ref/greedy.jsonl" "$tool" "$out" "$models" <<'PY'
import json, os, subprocess, sys
ref, tool, out, models = sys.argv[1:]
files = {"smollm2": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3": "gemma-3-270m-q4_k_m.gguf"}
seen = {}
for line in open(ref):
    if not line.strip():
        continue
    v = json.loads(line)
    key = v["model"]
    i = seen[key] = seen.get(key, -1) + 1
    text, prompt = v["output_with_prompt"], v["prompt"]
    cont = text[text.find(prompt) + len(prompt):].removesuffix("\n")
    for kv in ("f16kv", "f32kv"):
        env = dict(os.environ, **({"F32KV": "1"} if kv == "f32kv" else {}))
        subprocess.run([tool, os.path.join(models, files[key]), prompt, cont,
                        f"{out}/{kv}/{key}-{i}.bin", "16"], check=True, env=env)
PY
# shellcheck source=/dev/null
source "$repo/scripts/env.sh"
for m in "smollm2-135m-instruct smollm2" "gemma3-270m gemma3"; do
  set -- $m
  cargo run -q --release -p bora-models --example logits_vs_llama -- "$1" "$2" "$out" "$ref"
done
