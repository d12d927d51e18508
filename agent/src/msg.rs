//! Plain, ROS-free mirrors of the ROS 2 messages the agent uses. The ROS boundary
//! converts to and from these; the agent and the pipeline speak these and the planar
//! types of [`bora_geom`], re-exported here.

use std::time::Duration;

pub use bora_geom::{wrap_angle, Pose2D, Twist};

/// A point on the runtime's monotonic clock: the time elapsed since the clock's origin
/// (the runtime start). Stamps from different clocks must not be mixed.
pub type Stamp = Duration;

/// A planar laser scan (sensor_msgs/LaserScan) in the robot's base frame: beam `i`
/// points at `angle_min + i * angle_increment` radians (0 = straight ahead, positive =
/// left).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LaserScan {
    /// Angle of the first beam in rad.
    pub angle_min: f32,
    /// Angle between consecutive beams in rad (negative for clockwise scanners).
    pub angle_increment: f32,
    /// Shortest valid range in m; shorter returns are not returns.
    pub range_min: f32,
    /// Longest valid range in m; longer returns are not returns.
    pub range_max: f32,
    /// Measured ranges in m, one per beam; NaN or inf means no return.
    pub ranges: Vec<f32>,
    /// When the scan was taken, on the runtime's clock.
    pub stamp: Stamp,
}

/// Planar odometry (nav_msgs/Odometry reduced to what a diff-drive base reports).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Odometry {
    /// Position x in m, odometry frame.
    pub x: f64,
    /// Position y in m, odometry frame.
    pub y: f64,
    /// Heading in rad, counter-clockwise from the odometry frame's x axis.
    pub yaw: f64,
    /// Measured forward speed in m/s.
    pub linear_x: f64,
    /// Measured yaw rate in rad/s.
    pub angular_z: f64,
    /// When the odometry was measured, on the runtime's clock.
    pub stamp: Stamp,
}

impl Odometry {
    /// The pose part of the odometry.
    pub fn pose(&self) -> Pose2D {
        Pose2D {
            x: self.x,
            y: self.y,
            yaw: self.yaw,
        }
    }

    /// The velocity part of the odometry, as a twist.
    pub fn velocity(&self) -> Twist {
        Twist {
            linear_x: self.linear_x,
            angular_z: self.angular_z,
        }
    }
}
