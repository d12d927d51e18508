//! A simulated planar laser scanner: one ray per beam from the robot's pose against the
//! world, reported as sensor_msgs/LaserScan reports them (REP 117): no hit within
//! `range_max` is +inf, a hit closer than `range_min` is -inf.

use super::error::{Error, Result};
use super::world::World;
use bora_geom::{Pose2D, Vec2};

/// The scanner's geometry, in the robot's base frame (beam angle 0 = straight ahead,
/// positive = to the left). The scanner sits at the robot's centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LidarConfig {
    /// Angle of the first beam in rad.
    pub angle_min: f64,
    /// Angle of the last beam in rad (>= angle_min).
    pub angle_max: f64,
    /// Number of beams (>= 1; with 1, angle_max must equal angle_min).
    pub beams: usize,
    /// Shortest range the scanner reports, in m (>= 0).
    pub range_min: f64,
    /// Longest range the scanner reports, in m (> range_min).
    pub range_max: f64,
}

impl Default for LidarConfig {
    /// A 360-beam, one-degree, full-circle scanner seeing 0.05 m to 10 m.
    fn default() -> Self {
        let inc = std::f64::consts::TAU / 360.0;
        Self {
            angle_min: -std::f64::consts::PI,
            angle_max: std::f64::consts::PI - inc,
            beams: 360,
            range_min: 0.05,
            range_max: 10.0,
        }
    }
}

impl LidarConfig {
    /// Checks every value; the error names the setting and what would be valid.
    pub fn validate(&self) -> Result<()> {
        let bad = |param: &str, value: String, reason: &str| Error::SimParam {
            param: param.to_owned(),
            value,
            reason: reason.to_owned(),
        };
        if !(self.angle_min.is_finite() && self.angle_max.is_finite())
            || self.angle_max < self.angle_min
        {
            return Err(bad(
                "angle_max",
                format!("{} (angle_min {})", self.angle_max, self.angle_min),
                "angles must be finite, in rad, with angle_max >= angle_min",
            ));
        }
        if self.beams == 0 {
            return Err(bad("beams", "0".into(), "a scan needs at least one beam"));
        }
        if self.beams == 1 && self.angle_max != self.angle_min {
            return Err(bad(
                "beams",
                "1".into(),
                "with one beam, angle_max must equal angle_min",
            ));
        }
        if !(self.range_min.is_finite() && self.range_min >= 0.0) {
            return Err(bad(
                "range_min",
                self.range_min.to_string(),
                "must be a finite length >= 0 in m",
            ));
        }
        if !(self.range_max.is_finite() && self.range_max > self.range_min) {
            return Err(bad(
                "range_max",
                format!("{} (range_min {})", self.range_max, self.range_min),
                "must be a finite length in m above range_min",
            ));
        }
        Ok(())
    }

    /// Angle between consecutive beams in rad (0 with one beam).
    pub fn angle_increment(&self) -> f64 {
        if self.beams > 1 {
            (self.angle_max - self.angle_min) / (self.beams - 1) as f64
        } else {
            0.0
        }
    }

    /// Casts every beam from `pose` into `world` and writes the ranges in m into
    /// `ranges` (cleared first; it does not allocate once it holds `beams` values).
    pub fn scan_into(&self, world: &World, pose: Pose2D, ranges: &mut Vec<f32>) {
        ranges.clear();
        let origin = pose.position();
        let inc = self.angle_increment();
        for i in 0..self.beams {
            let dir = Vec2::from_angle(pose.yaw + self.angle_min + inc * i as f64);
            let range = match world.raycast(origin, dir) {
                Some(t) if t > self.range_max => f64::INFINITY,
                Some(t) if t < self.range_min => f64::NEG_INFINITY,
                Some(t) => t,
                None => f64::INFINITY,
            };
            ranges.push(range as f32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::FRAC_PI_2;

    fn front_cfg() -> LidarConfig {
        // Five beams: -90, -45, 0, 45, 90 degrees.
        LidarConfig {
            angle_min: -FRAC_PI_2,
            angle_max: FRAC_PI_2,
            beams: 5,
            range_min: 0.1,
            range_max: 4.0,
        }
    }

    #[test]
    fn beams_hit_a_box_and_walls_at_their_known_distances() -> Result<()> {
        let mut world = World::empty();
        world.add_wall(Vec2::new(-3.0, 2.0), Vec2::new(3.0, 2.0))?; // 2 m to the left
        world.add_box(Vec2::new(1.5, 0.0), Vec2::new(1.0, 0.5), 0.0)?; // near face 1 m ahead
        let cfg = front_cfg();
        cfg.validate()?;
        let mut ranges = Vec::new();
        cfg.scan_into(&world, Pose2D::default(), &mut ranges);
        assert_eq!(ranges.len(), 5);
        assert_eq!(ranges[0], f32::INFINITY, "nothing to the right");
        assert!((ranges[2] - 1.0).abs() < 1e-6, "{ranges:?}");
        assert!((ranges[3] - 2.0 * 2f32.sqrt()).abs() < 1e-5, "{ranges:?}");
        assert!((ranges[4] - 2.0).abs() < 1e-6, "{ranges:?}");
        // Turned left by 90 degrees the middle beam sees the wall, the right one the box.
        cfg.scan_into(&world, Pose2D::new(0.0, 0.0, FRAC_PI_2), &mut ranges);
        assert!((ranges[2] - 2.0).abs() < 1e-6, "{ranges:?}");
        assert!((ranges[0] - 1.0).abs() < 1e-6, "{ranges:?}");
        Ok(())
    }

    #[test]
    fn out_of_range_hits_follow_rep_117() -> Result<()> {
        let mut world = World::empty();
        world.add_wall(Vec2::new(0.05, -1.0), Vec2::new(0.05, 1.0))?; // 5 cm ahead
        world.add_wall(Vec2::new(-1.0, 5.0), Vec2::new(1.0, 5.0))?; // 5 m left: beyond range_max
        let mut ranges = Vec::new();
        front_cfg().scan_into(&world, Pose2D::default(), &mut ranges);
        assert_eq!(ranges[2], f32::NEG_INFINITY, "{ranges:?}");
        assert_eq!(ranges[4], f32::INFINITY, "{ranges:?}");
        Ok(())
    }

    #[test]
    fn invalid_geometry_is_named() {
        let mut cfg = front_cfg();
        cfg.beams = 0;
        assert!(
            matches!(cfg.validate(), Err(Error::SimParam { ref param, .. }) if param == "beams")
        );
        let cfg = LidarConfig {
            range_max: 0.05,
            ..front_cfg()
        };
        assert!(
            matches!(cfg.validate(), Err(Error::SimParam { ref param, .. }) if param == "range_max")
        );
        assert!(LidarConfig::default().validate().is_ok());
        assert!((LidarConfig::default().angle_increment() - 1f64.to_radians()).abs() < 1e-12);
    }
}
