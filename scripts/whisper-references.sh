#!/usr/bin/env bash
# Reference transcripts for bora's Whisper: espeak-ng speaks a dozen robot commands
# (16 kHz mono 16-bit WAVs), faster-whisper (CTranslate2) transcribes them with tiny.en
# greedily, timestamps off, and the clips plus its text and token ids are written to
# models/tests/data/whisper/ (committed; the tests compare bora's output with them).
#
# faster-whisper goes into a throwaway venv (not the project's .venv):
#   WHISPER_REF_VENV (default /tmp/bora-whisper-ref-venv). Needs scripts/setup.sh first
#   (espeak-ng and $BORA_MODELS/whisper-tiny.en). Re-run it only to change the clips:
#   espeak-ng's output depends on its version (1.51 made the committed ones).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="${BORA_MODELS:-$HOME/.cache/bora/models}"
venv="${WHISPER_REF_VENV:-/tmp/bora-whisper-ref-venv}"
out="$repo/models/tests/data/whisper"
model="$models/whisper-tiny.en"

[ -f "$model/model.bin" ] || { echo "no $model/model.bin: run scripts/setup.sh" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "no espeak-ng: run scripts/setup.sh" >&2; exit 1; }
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check faster-whisper==1.2.1 ctranslate2==4.8.5

mkdir -p "$out"
# name|text: the committed clips.
commands=(
  "forward_two_meters_turn_left|move forward two meters then turn left"
  "turn_right_ninety|turn right ninety degrees"
  "stop|stop"
  "back_half_meter|go back half a meter"
  "say_hello|say hello"
  "wait_three_seconds|wait three seconds"
  "turn_around|turn around"
  "forward_one_meter|drive forward one meter"
  "rotate_left_45|rotate left forty five degrees"
  "come_here|come here"
  "stop_now|stop right now"
  "back_then_stop|back up slowly and then stop"
)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for c in "${commands[@]}"; do
  name="${c%%|*}" text="${c#*|}"
  espeak-ng -v en-us -w "$tmp/$name.wav" "$text"
  printf '%s\t%s\n' "$name" "$text" >>"$tmp/list.tsv"
done

"$venv/bin/python" - "$tmp" "$out" "$model" <<'PY'
import json, sys, wave
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio

tmp, out, model_dir = sys.argv[1:4]
model = WhisperModel(model_dir, device="cpu", compute_type="default", cpu_threads=1)
rows = []
for line in open(f"{tmp}/list.tsv"):
    name, text = line.rstrip("\n").split("\t")
    # espeak-ng writes 22.05 kHz: resample with libswresample (av), trim silence at the
    # ends to 0.1 s, store 16-bit PCM.
    pcm = decode_audio(f"{tmp}/{name}.wav", sampling_rate=16000)
    loud = np.nonzero(np.abs(pcm) > 1e-3)[0]
    a, b = max(loud[0] - 1600, 0), min(loud[-1] + 1600, len(pcm))
    pcm16 = np.clip(np.round(pcm[a:b] * 32768), -32768, 32767).astype("<i2")
    with wave.open(f"{out}/{name}.wav", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
        w.writeframes(pcm16.tobytes())
    audio = decode_audio(f"{out}/{name}.wav", sampling_rate=16000)
    segments, _ = model.transcribe(
        audio, language="en", beam_size=1, best_of=1, temperature=0.0,
        without_timestamps=True, vad_filter=False, condition_on_previous_text=False)
    segments = list(segments)
    rows.append({
        "clip": f"{name}.wav",
        "spoken": text,
        "text": "".join(s.text for s in segments),
        "tokens": [t for s in segments for t in s.tokens],
        "no_speech_prob": [round(s.no_speech_prob, 4) for s in segments],
        "avg_logprob": [round(s.avg_logprob, 4) for s in segments],
    })
    print(f"{name}: {rows[-1]['text']!r}", file=sys.stderr)
with open(f"{out}/references.jsonl", "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
PY
echo "wrote $(wc -l <"$out/references.jsonl") references to $out" >&2
