//! Bytes as a GGUF file: open and validate the header, build the tokenizer from its
//! metadata, load the model from whatever validates, and run one token through it.
//! Every outcome must be a typed error or a working model: never a panic, an abort, a
//! hang, or an allocation out of proportion to the file (libFuzzer's -rss_limit_mb and
//! -malloc_limit_mb catch those).
//!
//! The body is `bora_fuzz::gguf` (fuzz/src/targets.rs), which the stable replay test
//! nodes/tests/fuzz_seeds_replay.rs also runs in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bora_fuzz::gguf(data));
