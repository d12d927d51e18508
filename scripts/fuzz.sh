#!/usr/bin/env bash
# Runs bora's cargo-fuzz targets (fuzz/) for a bounded time each and prints a summary:
# per target the runs, seconds, corpus size and crash artifacts found.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   default 120 s, every target
#   scripts/fuzz.sh --smoke [SECONDS] [TARGET...]      replay the seeds, then fuzz a few s
#   scripts/fuzz.sh --replay [TARGET...]               what CI runs: the stable test
#                                                      nodes/tests/fuzz_seeds_replay.rs
#                                                      (every seed + 2000 deterministic
#                                                      mutations each, same target bodies
#                                                      in fuzz/src/targets.rs, no sanitizer)
#
# CI does not call this script: `cargo test --workspace --release` (scripts/test.sh)
# already runs fuzz_seeds_replay, in a few seconds on top of the workspace build.
# Environment: FUZZ_SANITIZER = address (default) or none; FUZZ_NICE = niceness (10);
# BORA_FUZZ_MUTATIONS = mutations per seed for --replay (2000).
# Installs what it needs: a nightly toolchain (rustup, minimal profile) and cargo-fuzz
# (`cargo install --locked`). Builds go to fuzz/target, the growing corpora to
# fuzz/corpus/<target> (seeded read-only from the committed fuzz/seeds/<target>), crash
# inputs to fuzz/artifacts/<target>; all three are ignored by git. Exit status 1 when any
# target crashed: reproduce with `cargo +nightly fuzz run <target> <artifact>` and fix it
# with a regression test in the owning crate.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

all_targets=(gguf tokenizer intent params world)
if [[ "${1:-}" == "--replay" ]]; then
    # A cold instrumented build of candle & co. under cargo-fuzz costs far more than CI can
    # spend, so the target bodies live in fuzz/src/targets.rs and a normal release test of
    # bora-nodes runs every committed seed and its mutations through them.
    shift
    filter=()
    for t in "$@"; do filter+=("${t}_seeds_and_mutations"); done
    # shellcheck source=/dev/null
    set +u; source scripts/env.sh; set -u
    if [[ ${#filter[@]} -eq 0 ]]; then
        exec cargo test --release -p bora-nodes --test fuzz_seeds_replay -- --nocapture
    fi
    for f in "${filter[@]}"; do
        cargo test --release -p bora-nodes --test fuzz_seeds_replay -- --nocapture --exact "$f"
    done
    exit 0
fi

smoke=0
if [[ "${1:-}" == "--smoke" ]]; then
    smoke=1
    shift
fi
seconds="${1:-$([[ $smoke == 1 ]] && echo 5 || echo 120)}"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
sanitizer="${FUZZ_SANITIZER:-address}"
nice_n="${FUZZ_NICE:-10}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
    echo "fuzz.sh: SECONDS_PER_TARGET must be a whole number >= 1, got '$seconds'" >&2
    exit 2
fi

say() { printf '[fuzz] %s\n' "$*" >&2; }
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    say "installing the nightly toolchain (minimal profile)"
    rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz"
    cargo install --locked cargo-fuzz
fi

build_start=$SECONDS
say "building ${targets[*]} (sanitizer $sanitizer) into fuzz/target"
if [[ ${#targets[@]} -eq ${#all_targets[@]} ]]; then
    nice -n "$nice_n" cargo +nightly fuzz build --sanitizer "$sanitizer"
else
    for t in "${targets[@]}"; do
        nice -n "$nice_n" cargo +nightly fuzz build --sanitizer "$sanitizer" "$t"
    done
fi
build_s=$((SECONDS - build_start))

# libFuzzer options: every input bounded in time (10 s is a hang) and memory (a single
# allocation over 1 GiB or 2 GiB resident is a blow-up: inputs are at most 64 KiB).
opts=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536
      -print_final_stats=1 -max_total_time="$seconds")
summary=()
failed=0
for t in "${targets[@]}"; do
    corpus="fuzz/corpus/$t"
    mkdir -p "$corpus" "fuzz/artifacts/$t"
    before=$(find "fuzz/artifacts/$t" -type f | wc -l)
    log="fuzz/artifacts/$t.log"
    start=$SECONDS
    say "$t: ${seconds} s (log $log)"
    status=0
    # Smoke: a fresh corpus each time, so CI always replays exactly the seeds.
    [[ $smoke == 1 ]] && rm -rf "$corpus" && mkdir -p "$corpus"
    nice -n "$nice_n" cargo +nightly fuzz run --sanitizer "$sanitizer" "$t" "$corpus" "fuzz/seeds/$t" \
        -- "${opts[@]}" >"$log" 2>&1 || status=$?
    took=$((SECONDS - start))
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    size=$(find "$corpus" -type f | wc -l)
    new=$(( $(find "fuzz/artifacts/$t" -type f | wc -l) - before ))
    if [[ $status -ne 0 ]]; then
        failed=1
        say "$t FAILED (exit $status); last lines of $log:"
        tail -n 30 "$log" >&2
    fi
    summary+=("$(printf '%-10s %10s %6s %8s %8s %s' "$t" "${runs:-?}" "$took" "$size" "$new" \
        "$([[ $status -eq 0 ]] && echo ok || echo "CRASH (exit $status)")")")
done

printf '\nfuzz summary (sanitizer %s, build %d s, %s s per target)\n' "$sanitizer" "$build_s" "$seconds"
printf '%-10s %10s %6s %8s %8s %s\n' target runs secs corpus crashes result
printf '%s\n' "${summary[@]}"
exit $failed
