//! Plain, ROS-free mirrors of the ROS 2 messages the agent uses. The ROS boundary
//! converts to and from these; everything inside the runtime speaks only these.

use std::time::Duration;

/// A point on the runtime's monotonic clock: the time elapsed since the clock's origin
/// (the runtime start). Stamps from different clocks must not be mixed.
pub type Stamp = Duration;

/// A velocity command for a differential-drive base (geometry_msgs/Twist, reduced to
/// the two axes it can use). REP 103: x forward, z up, so positive `angular_z` turns left.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Twist {
    /// Forward speed in m/s (negative = backwards).
    pub linear_x: f64,
    /// Yaw rate in rad/s (positive = counter-clockwise, to the left).
    pub angular_z: f64,
}

impl Twist {
    /// The zero command: stand still.
    pub const ZERO: Twist = Twist {
        linear_x: 0.0,
        angular_z: 0.0,
    };

    /// True when both axes are exactly zero.
    pub fn is_zero(&self) -> bool {
        self.linear_x == 0.0 && self.angular_z == 0.0
    }
}

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

/// A planar pose in the odometry frame.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pose2D {
    /// Position along the odometry frame's x axis in m.
    pub x: f64,
    /// Position along the odometry frame's y axis in m.
    pub y: f64,
    /// Heading in rad, counter-clockwise from the x axis (any value; not necessarily
    /// wrapped to (-pi, pi]).
    pub yaw: f64,
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

/// Quaternion (z, w components of a rotation about the z axis) to yaw in rad, for the
/// ROS boundary: `yaw = 2 atan2(z, w)`, wrapped to (-pi, pi].
pub fn yaw_from_quaternion_zw(z: f64, w: f64) -> f64 {
    wrap_angle(2.0 * z.atan2(w))
}

/// Wraps an angle in rad to (-pi, pi].
pub fn wrap_angle(angle: f64) -> f64 {
    use std::f64::consts::{PI, TAU};
    let a = angle.rem_euclid(TAU);
    if a > PI {
        a - TAU
    } else {
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn wrap_angle_maps_into_half_open_interval() {
        assert!((wrap_angle(3.0 * PI) - PI).abs() < 1e-12);
        assert!((wrap_angle(-PI) - PI).abs() < 1e-12);
        assert!((wrap_angle(-0.5) + 0.5).abs() < 1e-12);
        assert!((wrap_angle(2.0 * PI + 0.25) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn quaternion_yaw_matches_rotation_about_z() {
        let yaw: f64 = 1.2;
        let (z, w) = ((yaw / 2.0).sin(), (yaw / 2.0).cos());
        assert!((yaw_from_quaternion_zw(z, w) - yaw).abs() < 1e-12);
        let yaw: f64 = -2.5;
        let (z, w) = ((yaw / 2.0).sin(), (yaw / 2.0).cos());
        assert!((yaw_from_quaternion_zw(z, w) - yaw).abs() < 1e-12);
    }

    #[test]
    fn zero_twist_is_zero() {
        assert!(Twist::ZERO.is_zero());
        assert!(!Twist {
            linear_x: 0.1,
            angular_z: 0.0
        }
        .is_zero());
    }
}
