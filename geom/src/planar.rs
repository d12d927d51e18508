//! Planar geometry: points, poses, angle wrapping, segments and rotated rectangles,
//! with the two queries the simulator needs (where a ray first hits, how far a point
//! is from an obstacle). All lengths in m, all angles in rad.

/// A point or a vector in the world frame, in m.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Vec2 {
    /// x coordinate in m.
    pub x: f64,
    /// y coordinate in m.
    pub y: f64,
}

impl Vec2 {
    /// The point (x, y) in m.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    /// The unit vector at `angle` rad counter-clockwise from +x.
    pub fn from_angle(angle: f64) -> Self {
        let (s, c) = angle.sin_cos();
        Self::new(c, s)
    }

    /// `self * k`.
    pub fn scale(self, k: f64) -> Vec2 {
        Vec2::new(self.x * k, self.y * k)
    }

    /// Dot product.
    pub fn dot(self, other: Vec2) -> f64 {
        self.x * other.x + self.y * other.y
    }

    /// z component of the cross product (positive when `other` is counter-clockwise).
    pub fn cross(self, other: Vec2) -> f64 {
        self.x * other.y - self.y * other.x
    }

    /// Euclidean length in m.
    pub fn norm(self) -> f64 {
        self.x.hypot(self.y)
    }

    /// This vector rotated by `angle` rad counter-clockwise.
    pub fn rotated(self, angle: f64) -> Vec2 {
        let (s, c) = angle.sin_cos();
        Vec2::new(c * self.x - s * self.y, s * self.x + c * self.y)
    }

    /// True when both coordinates are finite.
    pub fn is_finite(self) -> bool {
        self.x.is_finite() && self.y.is_finite()
    }
}

impl std::ops::Add for Vec2 {
    type Output = Vec2;

    fn add(self, other: Vec2) -> Vec2 {
        Vec2::new(self.x + other.x, self.y + other.y)
    }
}

impl std::ops::Sub for Vec2 {
    type Output = Vec2;

    fn sub(self, other: Vec2) -> Vec2 {
        Vec2::new(self.x - other.x, self.y - other.y)
    }
}

impl std::fmt::Display for Vec2 {
    /// As `[x, y]`, the way world files write points.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}, {}]", self.x, self.y)
    }
}

/// A planar pose in the odometry (world) frame.
///
/// [`Pose2D::new`] wraps the yaw to (-pi, pi]; a pose written as a struct literal keeps
/// the yaw it is given (odometry may report an unwrapped, accumulated heading, and the
/// planner compares headings with [`wrap_angle`] of their difference).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pose2D {
    /// Position along x in m.
    pub x: f64,
    /// Position along y in m.
    pub y: f64,
    /// Heading in rad, counter-clockwise from +x.
    pub yaw: f64,
}

impl Pose2D {
    /// The pose (x m, y m, yaw rad); yaw is wrapped to (-pi, pi].
    pub fn new(x: f64, y: f64, yaw: f64) -> Self {
        Self {
            x,
            y,
            yaw: wrap_angle(yaw),
        }
    }

    /// The position part, in m.
    pub fn position(&self) -> Vec2 {
        Vec2::new(self.x, self.y)
    }
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

/// A straight line segment from `a` to `b` (a wall, or a rectangle's edge), in m.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// One end, in m.
    pub a: Vec2,
    /// The other end, in m.
    pub b: Vec2,
}

impl Segment {
    /// The segment from `a` to `b`.
    pub const fn new(a: Vec2, b: Vec2) -> Self {
        Self { a, b }
    }

    /// Length in m.
    pub fn length(&self) -> f64 {
        (self.b - self.a).norm()
    }

    /// Distance in m along the ray from `origin` in the unit direction `dir` to where it
    /// first crosses this segment, or `None` when it misses (a ray parallel to the
    /// segment counts as a miss: it would only graze it).
    pub fn ray_hit(&self, origin: Vec2, dir: Vec2) -> Option<f64> {
        let s = self.b - self.a;
        let denom = dir.cross(s);
        if denom.abs() < 1e-12 {
            return None;
        }
        let ao = self.a - origin;
        let t = ao.cross(s) / denom;
        let u = ao.cross(dir) / denom;
        (t >= 0.0 && (0.0..=1.0).contains(&u)).then_some(t)
    }

    /// Shortest distance in m from `p` to any point of the segment.
    pub fn distance_to(&self, p: Vec2) -> f64 {
        let s = self.b - self.a;
        let len2 = s.dot(s);
        let t = if len2 > 0.0 {
            ((p - self.a).dot(s) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        (p - (self.a + s.scale(t))).norm()
    }
}

/// A solid rectangle (a box on the floor), possibly rotated, in m and rad.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    center: Vec2,
    size: Vec2,
    yaw: f64,
    edges: [Segment; 4],
}

impl Rect {
    /// A rectangle centred at `center`, `size.x` long along its own x axis and `size.y`
    /// wide, its x axis `yaw` rad counter-clockwise from the world's. Nothing is checked
    /// here: a zero or non-finite size gives a degenerate box (bora-sim's `World` refuses
    /// those by name before it builds one).
    pub fn new_unchecked(center: Vec2, size: Vec2, yaw: f64) -> Self {
        let h = size.scale(0.5);
        let corner = |sx: f64, sy: f64| center + Vec2::new(sx * h.x, sy * h.y).rotated(yaw);
        let c = [
            corner(1.0, 1.0),
            corner(-1.0, 1.0),
            corner(-1.0, -1.0),
            corner(1.0, -1.0),
        ];
        let edges = [
            Segment::new(c[0], c[1]),
            Segment::new(c[1], c[2]),
            Segment::new(c[2], c[3]),
            Segment::new(c[3], c[0]),
        ];
        Self {
            center,
            size,
            yaw,
            edges,
        }
    }

    /// Centre in m.
    pub fn center(&self) -> Vec2 {
        self.center
    }

    /// Length along its own x axis and width along its own y axis, in m.
    pub fn size(&self) -> Vec2 {
        self.size
    }

    /// Rotation of its x axis from the world's, in rad.
    pub fn yaw(&self) -> f64 {
        self.yaw
    }

    /// The four edges, counter-clockwise.
    pub fn edges(&self) -> &[Segment; 4] {
        &self.edges
    }

    /// True when `p` is inside the rectangle or on its boundary.
    pub fn contains(&self, p: Vec2) -> bool {
        let local = (p - self.center).rotated(-self.yaw);
        local.x.abs() <= self.size.x * 0.5 && local.y.abs() <= self.size.y * 0.5
    }

    /// Distance in m from `p` to the rectangle: 0 inside it.
    pub fn distance_to(&self, p: Vec2) -> f64 {
        if self.contains(p) {
            return 0.0;
        }
        self.edges
            .iter()
            .map(|e| e.distance_to(p))
            .fold(f64::INFINITY, f64::min)
    }

    /// Distance in m along the ray to the rectangle's boundary, as [`Segment::ray_hit`].
    pub fn ray_hit(&self, origin: Vec2, dir: Vec2) -> Option<f64> {
        self.edges
            .iter()
            .filter_map(|e| e.ray_hit(origin, dir))
            .fold(None, |best, t| Some(best.map_or(t, |b: f64| b.min(t))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::{FRAC_PI_2, FRAC_PI_4, PI};

    #[test]
    fn ray_hits_a_segment_across_it_and_misses_one_behind_or_beside() {
        let wall = Segment::new(Vec2::new(2.0, -1.0), Vec2::new(2.0, 1.0));
        let t = wall.ray_hit(Vec2::new(0.0, 0.0), Vec2::new(1.0, 0.0));
        assert_eq!(t, Some(2.0));
        assert_eq!(
            wall.ray_hit(Vec2::new(0.0, 0.0), Vec2::new(-1.0, 0.0)),
            None
        );
        assert_eq!(wall.ray_hit(Vec2::new(0.0, 1.5), Vec2::new(1.0, 0.0)), None);
        assert_eq!(wall.ray_hit(Vec2::new(0.0, 0.0), Vec2::new(0.0, 1.0)), None);
        assert_eq!(
            wall.ray_hit(Vec2::new(0.0, 0.0), Vec2::from_angle(FRAC_PI_4)),
            None,
            "passes above its end"
        );
        let long_wall = Segment::new(Vec2::new(2.0, -3.0), Vec2::new(2.0, 3.0));
        let diag = long_wall.ray_hit(Vec2::new(0.0, 0.0), Vec2::from_angle(FRAC_PI_4));
        assert!((diag.unwrap_or(f64::NAN) - 2.0 * 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn point_to_segment_distance_uses_the_nearest_end_beyond_the_segment() {
        let s = Segment::new(Vec2::new(0.0, 0.0), Vec2::new(1.0, 0.0));
        assert!((s.distance_to(Vec2::new(0.5, 0.3)) - 0.3).abs() < 1e-12);
        assert!((s.distance_to(Vec2::new(4.0, 4.0)) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn rotated_rect_contains_and_is_hit_on_its_near_face() {
        // A 2 x 1 box at (3, 0) turned by 90 degrees: its near face is at x = 2.5.
        let r = Rect::new_unchecked(Vec2::new(3.0, 0.0), Vec2::new(2.0, 1.0), FRAC_PI_2);
        assert!(r.contains(Vec2::new(3.0, 0.9)));
        assert!(!r.contains(Vec2::new(3.6, 0.0)));
        let t = r
            .ray_hit(Vec2::new(0.0, 0.0), Vec2::new(1.0, 0.0))
            .unwrap_or(f64::NAN);
        assert!((t - 2.5).abs() < 1e-12, "{t}");
        assert!((r.distance_to(Vec2::new(0.0, 0.0)) - 2.5).abs() < 1e-12);
        assert_eq!(r.distance_to(Vec2::new(3.0, 0.0)), 0.0);
    }

    #[test]
    fn wrap_angle_maps_into_half_open_interval() {
        assert!((wrap_angle(3.0 * PI) - PI).abs() < 1e-12);
        assert!((wrap_angle(-PI) - PI).abs() < 1e-12);
        assert!((wrap_angle(-0.5) + 0.5).abs() < 1e-12);
    }
}
