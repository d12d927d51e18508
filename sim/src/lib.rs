//! A ROS-free simulated differential-drive robot in a 2D world: the core of `bora sim`,
//! usable in-process too (no threads, no ROS, no wall clock: the caller steps it).
//!
//! - [`World`]: walls (segments) and boxes (rotated rectangles), built in code or
//!   loaded from a YAML world file ([`World::from_yaml_file`]).
//! - [`DiffDrive`]: integrates (linear_x, angular_z) commands into a pose with a fixed
//!   step, exactly; stops when commands go stale; optional clamps and footprint.
//! - [`LidarConfig`]: a planar laser scan by ray casting (REP 117 for out-of-range).
//! - [`Sim`]: the three together, as `bora sim` runs them.
//!
//! Frames (REP 103/105): the world frame is `odom`, x forward at the start, y left,
//! yaw counter-clockwise; the robot's frame is `base_link`.

mod error;
mod lidar;
mod robot;
mod schedule;
mod world;
mod world_file;

pub use bora_geom::{wrap_angle, Pose2D, Rect, Segment, Twist, Vec2};
pub use error::{Error, Result};
pub use lidar::LidarConfig;
pub use robot::{integrate, CommandOutcome, DiffDrive, DriveConfig, DriveStats, StepOutcome};
pub use schedule::{Due, SimSchedule};
pub use world::World;

use std::time::Duration;

/// A world, a diff-drive robot in it and its laser scanner, stepped by the caller.
#[derive(Debug, Clone)]
pub struct Sim {
    world: World,
    drive: DiffDrive,
    lidar: LidarConfig,
}

impl Sim {
    /// The robot at the world's start pose, standing still, at time zero. Fails when a
    /// setting is invalid, or the start pose is inside an obstacle (closer than the
    /// footprint radius to a wall or box).
    pub fn new(world: World, drive: DriveConfig, lidar: LidarConfig) -> Result<Self> {
        lidar.validate()?;
        let start = world.start();
        let drive = DiffDrive::new(drive, start)?;
        let clearance = world.clearance(start.position());
        let radius = drive.config().footprint_radius.unwrap_or(0.0);
        if clearance < radius || world.boxes().iter().any(|b| b.contains(start.position())) {
            return Err(Error::SimParam {
                param: "start".into(),
                value: format!("({}, {})", start.x, start.y),
                reason: format!(
                    "the robot would start {clearance:.3} m from an obstacle, inside its footprint radius {radius} m: \
                     move `start` in the world file or lower the footprint radius"
                ),
            });
        }
        Ok(Self {
            world,
            drive,
            lidar,
        })
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// The scanner's geometry.
    pub fn lidar(&self) -> &LidarConfig {
        &self.lidar
    }

    /// The robot.
    pub fn drive(&self) -> &DiffDrive {
        &self.drive
    }

    /// Simulated time since the start.
    pub fn time(&self) -> Duration {
        self.drive.time()
    }

    /// The robot's pose in the world (odom) frame.
    pub fn pose(&self) -> Pose2D {
        self.drive.pose()
    }

    /// The velocity the robot moved at during the last step.
    pub fn velocity(&self) -> Twist {
        self.drive.velocity()
    }

    /// Takes a velocity command (see [`DiffDrive::command`]).
    pub fn command(&mut self, cmd: Twist) -> CommandOutcome {
        self.drive.command(cmd)
    }

    /// Advances one fixed step.
    pub fn step(&mut self) -> StepOutcome {
        self.drive.step(&self.world)
    }

    /// The laser scan from the current pose, into `ranges` (m, one per beam).
    pub fn scan_into(&self, ranges: &mut Vec<f32>) {
        self.lidar.scan_into(&self.world, self.drive.pose(), ranges);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_room_leaves_three_metres_free_ahead() -> Result<()> {
        let sim = Sim::new(
            World::default_room(),
            DriveConfig::default(),
            LidarConfig::default(),
        )?;
        let mut ranges = Vec::new();
        sim.scan_into(&mut ranges);
        let ahead = sim.lidar().beams / 2; // angle 0 for the default full-circle scanner
        assert!(ranges[ahead] >= 3.0, "{}", ranges[ahead]);
        assert_eq!(sim.pose(), Pose2D::default());
        Ok(())
    }

    #[test]
    fn a_start_inside_an_obstacle_is_rejected() -> Result<()> {
        let mut world = World::default_room();
        world.add_box(Vec2::new(0.1, 0.0), Vec2::new(0.1, 0.1), 0.0)?;
        let err = Sim::new(world, DriveConfig::default(), LidarConfig::default());
        assert!(
            matches!(err, Err(Error::SimParam { ref param, .. }) if param == "start"),
            "{err:?}"
        );
        Ok(())
    }

    #[test]
    fn stepping_moves_the_robot_and_the_scan_follows() -> Result<()> {
        let mut sim = Sim::new(
            World::default_room(),
            DriveConfig::default(),
            LidarConfig::default(),
        )?;
        sim.command(Twist::new(1.0, 0.0));
        for _ in 0..50 {
            sim.step();
        }
        assert!((sim.pose().x - 0.5).abs() < 1e-12);
        assert_eq!(sim.time(), Duration::from_millis(500));
        let mut ranges = Vec::new();
        sim.scan_into(&mut ranges);
        assert!((ranges[180] - 4.5).abs() < 1e-5, "{}", ranges[180]);
        Ok(())
    }
}
