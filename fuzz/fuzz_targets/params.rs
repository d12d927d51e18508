//! A ROS 2 params file (YAML) through the agent's and the simulator's parameter checks.
//! The file is flattened the way ROS hands parameters to a node (`node: ros__parameters:`
//! then nested keys joined with `.`), then given to `AgentParams::from_values` and
//! `SimSettings::fill_from_params` + `resolve`: each ends in a checked configuration or a
//! typed error naming the parameter, never a panic.
//!
//! The body is `bora_fuzz::params` (fuzz/src/targets.rs), which the stable replay test
//! nodes/tests/fuzz_seeds_replay.rs also runs in CI.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bora_fuzz::params(data));
