//! The example world launch/worlds/box_ahead.yaml loads, its box reads 0.8 m ahead on
//! the scan (0.6 m from the front of a 0.2 m-radius robot), and driving straight at it
//! leaves the robot blocked with its footprint just touching the box.

use std::path::PathBuf;
use std::time::Duration;

use bora_sim::{DriveConfig, LidarConfig, Sim, StepOutcome, Twist, World};

fn world_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../launch/worlds/box_ahead.yaml")
}

#[test]
fn box_ahead_world_stops_a_forward_move_before_the_box() -> Result<(), Box<dyn std::error::Error>> {
    let world = World::from_yaml_file(&world_path())?;
    assert_eq!(world.boxes().len(), 1);
    assert_eq!(world.walls().len(), 4);
    let drive = DriveConfig {
        cmd_timeout: Duration::from_secs(10),
        ..DriveConfig::default()
    };
    assert_eq!(
        drive.footprint_radius,
        Some(0.2),
        "the world file's comment assumes 0.2 m"
    );
    let lidar = LidarConfig::default();
    let mut sim = Sim::new(world, drive, lidar)?;

    let mut ranges = Vec::new();
    sim.scan_into(&mut ranges);
    let ahead = ranges[lidar.beams / 2];
    assert!((ahead - 0.8).abs() < 1e-5, "forward beam reads {ahead}");

    // 2 m at 0.5 m/s would end at x = 2; the box blocks the footprint at x = 0.6.
    sim.command(Twist::new(0.5, 0.0));
    let mut blocked = 0;
    for _ in 0..400 {
        if sim.step() == StepOutcome::Blocked {
            blocked += 1;
        }
    }
    let x = sim.pose().x;
    assert!(x <= 0.6 + 1e-9 && x > 0.59, "stopped at x = {x}");
    assert!(blocked > 0);
    assert_eq!(sim.velocity(), Twist::ZERO);
    sim.scan_into(&mut ranges);
    assert!((ranges[lidar.beams / 2] as f64 - (0.8 - x)).abs() < 1e-5);
    Ok(())
}
