#!/usr/bin/env bash
# bora's Whisper vs faster-whisper (ctranslate2) on the same clips, model files and
# threads: speech-to-text latency p50/p99 per clip and real-time factor (compute time /
# audio time), bora with the full 30 s encoder window and with the window fitted to the
# utterance. The engines take turns, one repetition of all clips each, so load from other
# work on the machine falls on all of them alike; the load average before and after is
# printed with the table. Prints a Markdown table. Not part of CI.
#
#   bench/asr-compare.sh                  # 1 thread, 5 repetitions of the 12 clips
#   THREADS=2 REPS=10 bench/asr-compare.sh
#
# Clips: models/tests/data/whisper/*.wav (espeak-ng commands, 1-3 s). Model:
# $BORA_MODELS/whisper-tiny.en (scripts/setup.sh). faster-whisper goes into a throwaway
# venv (WHISPER_REF_VENV, default /tmp/bora-whisper-ref-venv), not the project's .venv.
# Check `uptime` first: other load on the machine slows both engines, not equally.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
threads="${THREADS:-1}" reps="${REPS:-5}"
model="${BORA_MODELS:-$HOME/.cache/bora/models}/whisper-tiny.en"
venv="${WHISPER_REF_VENV:-/tmp/bora-whisper-ref-venv}"
[ -f "$model/model.bin" ] || { echo "no $model/model.bin: run scripts/setup.sh" >&2; exit 1; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check faster-whisper==1.2.1 ctranslate2==4.8.5

cargo build --release -q -p bora-models --example asr_bench >&2
clips=("$repo"/models/tests/data/whisper/*.wav)
bora="$repo/target/release/examples/asr_bench"

"$venv/bin/python" - "$model" "$threads" "$reps" "$bora" "${clips[@]}" <<'PY'
import json, os, subprocess, sys, time
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio

model_dir, threads, reps, bora = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
clips = sys.argv[5:]
load_before = os.getloadavg()
model = WhisperModel(model_dir, device="cpu", compute_type="default", cpu_threads=threads)
audio = {c: decode_audio(c, sampling_rate=16000) for c in clips}
opts = dict(language="en", beam_size=1, best_of=1, temperature=0.0, without_timestamps=True,
            vad_filter=False, condition_on_previous_text=False)
list(model.transcribe(audio[clips[0]], **opts)[0])  # warm-up
rows = []
bora_rows = {"full": [], "fit": []}
for rep in range(reps):
    # One repetition of every engine in turn (bora runs its own warm-up first, untimed).
    for window in ("full", "fit"):
        res = subprocess.run([bora, model_dir, str(threads), "1", window, *clips],
                             check=True, capture_output=True, text=True)
        bora_rows[window] += [dict(json.loads(l), rep=rep) for l in res.stdout.splitlines()]
    for c in clips:
        t0 = time.perf_counter()
        segs = list(model.transcribe(audio[c], **opts)[0])
        dt = time.perf_counter() - t0
        rows.append({"clip": os.path.basename(c), "rep": rep, "audio_s": len(audio[c]) / 16000,
                     "latency_ms": dt * 1e3, "text": "".join(s.text for s in segs),
                     "tokens": [t for s in segs for t in s.tokens]})
load_after = os.getloadavg()

refs = {r["clip"]: r for r in (json.loads(l) for l in open("models/tests/data/whisper/references.jsonl"))}
engines = [("faster-whisper (ctranslate2 4.8.5)", rows),
           ("bora, 30 s window", bora_rows["full"]),
           ("bora, fitted window", bora_rows["fit"])]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"Whisper tiny.en, {len(clips)} espeak-ng clips x {reps} reps, {threads} thread(s), {cpu}, "
      f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before, {load_after[0]:.1f} after\n")
print("| engine | latency p50 ms | p99 ms | real-time factor | clips = ctranslate2 reference (all reps) |")
print("|---|---:|---:|---:|---:|")
base = None
for name, rs in engines:
    lat = np.array([r["latency_ms"] for r in rs])
    rtf = lat.sum() / 1e3 / sum(r["audio_s"] for r in rs)
    names = {r["clip"] for r in rs}
    same = {c for c in names if all(r["tokens"] == refs[c]["tokens"] for r in rs if r["clip"] == c)}
    print(f"| {name} | {np.percentile(lat, 50):.0f} | {np.percentile(lat, 99):.0f} | {rtf:.3f} | {len(same)}/{len(clips)} |")
    base = base or rtf
for name, rs in engines[1:]:
    lat = np.array([r["latency_ms"] for r in rs])
    rtf = lat.sum() / 1e3 / sum(r["audio_s"] for r in rs)
    p50 = np.percentile([r["latency_ms"] for r in rows], 50) / np.percentile(lat, 50)
    print(f"\n{name}: {base / rtf:.2f}x faster-whisper's speed (total time), p50 {p50:.2f}x", end="")
    diff = sorted({(r["clip"], r["text"]) for r in rs if r["tokens"] != refs[r["clip"]]["tokens"]})
    for clip, text in diff:
        shown = text if len(text) <= 60 else text[:60] + f"... ({len(text)} chars)"
        print(f"\n  differs: {clip}: {shown!r} (reference {refs[clip]['text']!r})", end="")
print()
PY
