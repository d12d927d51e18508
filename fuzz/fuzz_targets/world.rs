//! A world YAML file through the simulator's world parser: a typed error naming the key,
//! or a world the simulator can be built in, stepped and scanned without panicking.
#![no_main]

use std::path::Path;

use bora_runtime::sim::{DriveConfig, LidarConfig, Sim, World};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(world) = World::from_yaml_str(text, Path::new("fuzz.yaml")) else {
        return;
    };
    let Ok(mut sim) = Sim::new(world, DriveConfig::default(), LidarConfig::default()) else {
        return;
    };
    let mut ranges = Vec::new();
    sim.scan_into(&mut ranges);
    sim.step();
    sim.scan_into(&mut ranges);
});
