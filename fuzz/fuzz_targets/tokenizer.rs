//! Arbitrary text through the real SmolLM2 tokenizer (built once from the GGUF in the
//! model cache): encoding never panics, plain-text encoding round-trips exactly, the
//! streaming decoder yields the same text as a whole decode, and arbitrary ids decode
//! or fail with a typed error.
//!
//! The body is `bora_fuzz::tokenizer` (fuzz/src/targets.rs), which the stable replay test
//! nodes/tests/fuzz_seeds_replay.rs also runs in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bora_fuzz::tokenizer(data));
