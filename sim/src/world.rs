//! The simulated 2D world: walls (line segments) and boxes (rectangles), plus where the
//! robot starts. Built in code or loaded from a YAML file (see `world_file.rs`).

use super::error::{Error, Result};
use bora_geom::{Pose2D, Rect, Segment, Vec2};

/// A static 2D world of walls and boxes, in the odometry frame, in m.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct World {
    walls: Vec<Segment>,
    boxes: Vec<Rect>,
    start: Pose2D,
}

/// Half the side of the built-in room, in m.
const DEFAULT_ROOM_HALF_SIDE: f64 = 5.0;

impl World {
    /// An empty world (no walls, no boxes) with the robot starting at the origin facing +x.
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in world: a 10 m x 10 m room centred on the origin, the robot at the
    /// origin facing +x, nothing closer than 5 m in any direction.
    pub fn default_room() -> Self {
        let h = DEFAULT_ROOM_HALF_SIDE;
        let mut w = Self::empty();
        // The corners are finite and distinct, so this cannot fail.
        w.walls
            .extend(room_walls(Vec2::new(-h, -h), Vec2::new(h, h)));
        w
    }

    /// Adds a wall from `a` to `b` (m). Fails when a coordinate is not finite or the
    /// two ends coincide.
    pub fn add_wall(&mut self, a: Vec2, b: Vec2) -> Result<&mut Self> {
        if !a.is_finite() || !b.is_finite() {
            return Err(param(
                "wall",
                format!("{a} -> {b}"),
                "coordinates must be finite numbers in m",
            ));
        }
        let s = Segment::new(a, b);
        if s.length() <= 0.0 {
            return Err(param(
                "wall",
                format!("{a} -> {b}"),
                "the two ends coincide: give two distinct points",
            ));
        }
        self.walls.push(s);
        Ok(self)
    }

    /// Adds the four walls of an axis-aligned room with corners `min` and `max` (m).
    pub fn add_room(&mut self, min: Vec2, max: Vec2) -> Result<&mut Self> {
        if !min.is_finite() || !max.is_finite() || max.x <= min.x || max.y <= min.y {
            return Err(param(
                "room",
                format!("min {min}, max {max}"),
                "max must be above min on both axes, all finite (m)",
            ));
        }
        self.walls.extend(room_walls(min, max));
        Ok(self)
    }

    /// Adds a solid box centred at `center` (m), `size.x` long along its own x axis and
    /// `size.y` wide (m, both positive), rotated by `yaw` rad.
    pub fn add_box(&mut self, center: Vec2, size: Vec2, yaw: f64) -> Result<&mut Self> {
        if !center.is_finite() || !yaw.is_finite() {
            return Err(param(
                "box",
                format!("center {center}, yaw {yaw}"),
                "centre and yaw must be finite",
            ));
        }
        if !size.is_finite() || size.x <= 0.0 || size.y <= 0.0 {
            return Err(param(
                "box.size",
                format!("{size}"),
                "both sides must be positive lengths in m",
            ));
        }
        self.boxes.push(Rect::new_unchecked(center, size, yaw));
        Ok(self)
    }

    /// Sets where the robot starts (m, rad). Fails when a value is not finite.
    pub fn set_start(&mut self, start: Pose2D) -> Result<&mut Self> {
        if !(start.x.is_finite() && start.y.is_finite() && start.yaw.is_finite()) {
            return Err(param(
                "start",
                format!("{start:?}"),
                "x, y and yaw must be finite",
            ));
        }
        self.start = start;
        Ok(self)
    }

    /// Where the robot starts.
    pub fn start(&self) -> Pose2D {
        self.start
    }

    /// The walls.
    pub fn walls(&self) -> &[Segment] {
        &self.walls
    }

    /// The boxes.
    pub fn boxes(&self) -> &[Rect] {
        &self.boxes
    }

    /// Distance in m along the ray from `origin` in the unit direction `dir` to the
    /// first wall or box it hits, or `None` when it hits nothing.
    pub fn raycast(&self, origin: Vec2, dir: Vec2) -> Option<f64> {
        let walls = self.walls.iter().filter_map(|w| w.ray_hit(origin, dir));
        let boxes = self.boxes.iter().filter_map(|b| b.ray_hit(origin, dir));
        walls
            .chain(boxes)
            .fold(None, |best, t| Some(best.map_or(t, |b: f64| b.min(t))))
    }

    /// Distance in m from `p` to the nearest wall or box (0 inside a box; +inf in an
    /// empty world).
    pub fn clearance(&self, p: Vec2) -> f64 {
        let walls = self.walls.iter().map(|w| w.distance_to(p));
        let boxes = self.boxes.iter().map(|b| b.distance_to(p));
        walls.chain(boxes).fold(f64::INFINITY, f64::min)
    }
}

/// The four walls of the axis-aligned room with corners `min` and `max`.
fn room_walls(min: Vec2, max: Vec2) -> [Segment; 4] {
    let c = [min, Vec2::new(max.x, min.y), max, Vec2::new(min.x, max.y)];
    [
        Segment::new(c[0], c[1]),
        Segment::new(c[1], c[2]),
        Segment::new(c[2], c[3]),
        Segment::new(c[3], c[0]),
    ]
}

/// A [`Error::SimParam`] for a world built in code.
fn param(param: &str, value: String, reason: &str) -> Error {
    Error::SimParam {
        param: param.to_owned(),
        value,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ray_cast_hits_the_wall_ahead_at_its_known_distance() {
        let w = World::default_room();
        assert_eq!(
            w.raycast(Vec2::new(0.0, 0.0), Vec2::new(1.0, 0.0)),
            Some(5.0)
        );
        assert_eq!(
            w.raycast(Vec2::new(1.0, 2.0), Vec2::new(0.0, -1.0)),
            Some(7.0)
        );
        assert!((w.clearance(Vec2::new(4.0, 0.5)) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn ray_cast_hits_a_box_before_the_wall_behind_it() {
        let mut w = World::default_room();
        w.add_box(Vec2::new(1.0, 0.0), Vec2::new(0.4, 1.0), 0.0)
            .map(|_| ())
            .unwrap_or_else(|e| panic!("{e}"));
        let t = w.raycast(Vec2::new(0.0, 0.0), Vec2::new(1.0, 0.0));
        assert_eq!(t, Some(0.8));
        // Beside the box the ray reaches the wall.
        assert_eq!(
            w.raycast(Vec2::new(0.0, 0.6), Vec2::new(1.0, 0.0)),
            Some(5.0)
        );
    }

    #[test]
    fn empty_world_has_no_hits_and_infinite_clearance() {
        let w = World::empty();
        assert_eq!(w.raycast(Vec2::default(), Vec2::new(1.0, 0.0)), None);
        assert_eq!(w.clearance(Vec2::default()), f64::INFINITY);
    }

    #[test]
    fn bad_shapes_built_in_code_are_rejected_with_the_part_named() {
        let mut w = World::empty();
        let err = w
            .add_box(Vec2::default(), Vec2::new(0.0, 1.0), 0.0)
            .map(|_| ());
        assert!(
            matches!(err, Err(Error::SimParam { ref param, .. }) if param == "box.size"),
            "{err:?}"
        );
        let err = w
            .add_wall(Vec2::new(1.0, 1.0), Vec2::new(1.0, 1.0))
            .map(|_| ());
        assert!(
            matches!(err, Err(Error::SimParam { ref param, .. }) if param == "wall"),
            "{err:?}"
        );
        let err = w
            .add_room(Vec2::new(1.0, 1.0), Vec2::new(0.0, 2.0))
            .map(|_| ());
        assert!(
            matches!(err, Err(Error::SimParam { ref param, .. }) if param == "room"),
            "{err:?}"
        );
    }
}
