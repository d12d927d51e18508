//! A world YAML file through the simulator's world parser: a typed error naming the key,
//! or a world the simulator can be built in, stepped and scanned without panicking.
//!
//! The body is `bora_fuzz::world` (fuzz/src/targets.rs), which the stable replay test
//! nodes/tests/fuzz_seeds_replay.rs also runs in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bora_fuzz::world(data));
