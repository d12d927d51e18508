//! The velocity command of a differential-drive base.

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

    /// The command (linear_x m/s, angular_z rad/s).
    pub const fn new(linear_x: f64, angular_z: f64) -> Self {
        Self {
            linear_x,
            angular_z,
        }
    }

    /// True when both axes are exactly zero.
    pub fn is_zero(&self) -> bool {
        self.linear_x == 0.0 && self.angular_z == 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_twist_is_zero() {
        assert!(Twist::ZERO.is_zero());
        assert!(!Twist::new(0.1, 0.0).is_zero());
        assert!(!Twist::new(0.0, -0.1).is_zero());
    }
}
