//! bora-geom: the one definition of the planar types every other crate speaks. The
//! agent plans in them, the simulator integrates them, the ROS boundary converts
//! geometry_msgs to and from them. Frames follow REP 103: x forward, y left, z up, yaw
//! counter-clockwise. All lengths in m, angles in rad.

mod planar;
mod twist;

pub use planar::{wrap_angle, Pose2D, Rect, Segment, Vec2};
pub use twist::Twist;
