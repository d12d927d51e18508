//! CI's fuzz smoke pass (issue #9): every committed seed in fuzz/seeds/<target>/, and a
//! fixed set of cheap mutations of each (bit flips, truncations, byte insertions and
//! overwrites from a seeded PRNG), through the very target bodies cargo-fuzz runs
//! (fuzz/src/targets.rs), built like any release test from the workspace's dependencies.
//! Uninstrumented and without a sanitizer, so it catches panics, failed assertions and
//! aborts, not memory errors: `scripts/fuzz.sh` is the real fuzzing.
//!
//! `BORA_FUZZ_MUTATIONS` = mutations per seed (default 2000). A failing input is written
//! to the temp directory; replay it with `cargo +nightly fuzz run <target> <file>` in fuzz/.

#[path = "../../fuzz/src/targets.rs"]
mod targets;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

thread_local! {
    /// Set while a target body runs: its panics are collected, not printed.
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

/// Installs (once) a panic hook that stays silent on threads running a target body.
fn quiet_target_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
}

/// splitmix64: a tiny PRNG so the mutations are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Bytes that often matter to parsers: boundaries, UTF-8 lead bytes, YAML/JSON syntax.
const INTERESTING: &[u8] = &[
    0, 1, 0x7F, 0x80, 0xFF, 0xC3, 0xE2, 0xF0, 0xF1, b'"', b':', b'-', b'{', b'[', b'\n', b' ', b'9',
];

/// One mutation of `seed`: 1 to 4 edits chosen by `rng`.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.truncate(at),
            2 => data.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            3 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            4 if !data.is_empty() => {
                // Overwrite four bytes with a little-endian count, as in a GGUF length.
                let i = at.min(data.len() - 1);
                let v = [0u32, 1, 0xFFFF, u32::MAX, 0x8000_0000][rng.below(5)].to_le_bytes();
                for (d, s) in data[i..].iter_mut().zip(v) {
                    *d = s;
                }
            }
            _ if !data.is_empty() => {
                // Duplicate a slice (repeated structure).
                let from = rng.below(data.len());
                let len = (1 + rng.below(16)).min(data.len() - from);
                let piece = data[from..from + len].to_vec();
                data.splice(at..at, piece);
            }
            _ => data.push(rng.next() as u8),
        }
    }
    data
}

fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list the seeds {}: {e}", dir.display()))
        .map(|e| e.expect("seed directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
}

/// Runs `body` on every seed of `target` and its mutations; panics listing the failures.
fn replay(target: &str, body: fn(&[u8])) {
    let per_seed: usize = std::env::var("BORA_FUZZ_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let start = Instant::now();
    let mut failures = Vec::new();
    let mut runs = 0usize;
    quiet_target_panics();
    for (s, path) in seeds(target).iter().enumerate() {
        let seed = std::fs::read(path).expect("read seed");
        let mut rng = Rng(0xB07A_0000 + s as u64);
        for m in 0..=per_seed {
            let data = if m == 0 {
                seed.clone()
            } else {
                mutate(&seed, &mut rng)
            };
            runs += 1;
            QUIET.with(|q| q.set(true));
            let one = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| body(&data)));
            QUIET.with(|q| q.set(false));
            if one.elapsed().as_secs_f64() > 0.5 {
                eprintln!(
                    "{target}: {} mutation {m} took {:.1} s",
                    path.display(),
                    one.elapsed().as_secs_f64()
                );
            }
            if let Err(e) = result {
                let what = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                let out = std::env::temp_dir().join(format!(
                    "bora-fuzz-replay-{target}-{}-{m}",
                    path.file_name().unwrap().to_string_lossy()
                ));
                let _ = std::fs::write(&out, &data);
                failures.push(format!(
                    "{} mutation {m}: {what} (input saved as {})",
                    path.display(),
                    out.display()
                ));
            }
        }
    }
    eprintln!(
        "{target}: {runs} inputs in {:.2} s",
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{target}: {} of {runs} inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn gguf_seeds_and_mutations() {
    replay("gguf", targets::gguf);
}

#[test]
fn tokenizer_seeds_and_mutations() {
    replay("tokenizer", targets::tokenizer);
}

#[test]
fn intent_seeds_and_mutations() {
    replay("intent", targets::intent);
}

#[test]
fn params_seeds_and_mutations() {
    replay("params", targets::params);
}

#[test]
fn world_seeds_and_mutations() {
    replay("world", targets::world);
}
