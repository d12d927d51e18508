//! Text through the fallback command parser and the intent-plan JSON parser: either a
//! typed error, or a plan that is within the limits it was validated against.
//!
//! The body is `bora_fuzz::intent` (fuzz/src/targets.rs), which the stable replay test
//! nodes/tests/fuzz_seeds_replay.rs also runs in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bora_fuzz::intent(data));
