//! The planner's control laws: the slow-down profile, arrival, the move and turn
//! controllers (with the obstacle stop), the acceleration and speed limit, and the step
//! timeouts. Functions of the configuration, the world and the step's progress.

use super::{Control, Planner};
use crate::msg::{Pose2D, Stamp, Twist};
use crate::perception::WorldState;

/// Fraction of the acceleration limit the slow-down profile plans with, so the limiter
/// never has to cut the profile short.
const PROFILE_ACCEL_SHARE: f64 = 0.9;

impl Planner {
    /// Speed along the slow-down profile for `remaining` (m or rad) to go: the speed from
    /// which braking at (a share of) `accel` stops exactly at the target, kept between the
    /// creep speed `min` and `max`.
    pub(super) fn profile(remaining: f64, accel: f64, min: f64, max: f64) -> f64 {
        (2.0 * PROFILE_ACCEL_SHARE * accel * remaining)
            .sqrt()
            .clamp(min, max)
    }

    /// Whether a move or turn has arrived. It aims at the target itself: done when less
    /// than one creep tick remains. The tolerance band around the target accepts an
    /// overshoot, and a robot that stalls inside the band (too slow to creep) is done once
    /// it has had twice the time creeping across the band would take.
    pub(super) fn arrived(
        &self,
        remaining: f64,
        target: f64,
        tolerance: f64,
        creep: f64,
        band_since: &mut Option<Stamp>,
        now: Stamp,
    ) -> bool {
        if remaining.abs() <= creep / self.cfg.rate_hz {
            return true;
        }
        if remaining.abs() > tolerance {
            *band_since = None;
            return false;
        }
        if remaining * target < 0.0 {
            return true;
        }
        let since = *band_since.get_or_insert(now);
        now.saturating_sub(since).as_secs_f64() > 2.0 * tolerance / creep
    }

    pub(super) fn move_control(
        &self,
        origin: Pose2D,
        target_m: f64,
        world: &WorldState,
        band_since: &mut Option<Stamp>,
        now: Stamp,
    ) -> Control {
        let c = &self.cfg;
        let (dx, dy) = (world.pose.x - origin.x, world.pose.y - origin.y);
        let covered = dx * origin.yaw.cos() + dy * origin.yaw.sin();
        let remaining = target_m - covered;
        let creep = c.min_linear_speed_mps;
        if self.arrived(
            remaining,
            target_m,
            c.distance_tolerance_m,
            creep,
            band_since,
            now,
        ) {
            return Control::Reached;
        }
        let mut speed = Self::profile(
            remaining.abs(),
            c.max_linear_accel_mps2,
            creep,
            c.max_linear_speed_mps,
        );
        let obstacle = if remaining > 0.0 {
            world.nearest_obstacle_ahead
        } else {
            world.nearest_obstacle_behind
        };
        if let Some(distance) = obstacle {
            let free = f64::from(distance) - c.stop_distance_m;
            if free <= 0.0 {
                return Control::Blocked(distance);
            }
            speed = speed.min(Self::profile(
                free,
                c.max_linear_accel_mps2,
                creep,
                c.max_linear_speed_mps,
            ));
        }
        Control::Drive(Twist {
            linear_x: speed.copysign(remaining),
            angular_z: 0.0,
        })
    }

    pub(super) fn turn_control(
        &self,
        target_rad: f64,
        turned_rad: f64,
        band_since: &mut Option<Stamp>,
        now: Stamp,
    ) -> Control {
        let c = &self.cfg;
        let remaining = target_rad - turned_rad;
        let tolerance = c.angle_tolerance_deg.to_radians();
        let creep = c.min_angular_speed_radps;
        if self.arrived(remaining, target_rad, tolerance, creep, band_since, now) {
            return Control::Reached;
        }
        let rate = Self::profile(
            remaining.abs(),
            c.max_angular_accel_radps2,
            creep,
            c.max_angular_speed_radps,
        );
        Control::Drive(Twist {
            linear_x: 0.0,
            angular_z: rate.copysign(remaining),
        })
    }

    /// Applies the acceleration and speed limits relative to the last command.
    pub(super) fn limit(&mut self, desired: Twist, dt: f64) -> Twist {
        let c = &self.cfg;
        let step = |last: f64, want: f64, accel: f64, max: f64| {
            let dv = accel * dt;
            want.clamp(last - dv, last + dv).clamp(-max, max)
        };
        let twist = Twist {
            linear_x: step(
                self.last_cmd.linear_x,
                desired.linear_x,
                c.max_linear_accel_mps2,
                c.max_linear_speed_mps,
            ),
            angular_z: step(
                self.last_cmd.angular_z,
                desired.angular_z,
                c.max_angular_accel_radps2,
                c.max_angular_speed_radps,
            ),
        };
        self.last_cmd = twist;
        twist
    }

    /// Time limit in s for a move of `distance_m`.
    pub(super) fn move_timeout(&self, distance_m: f64) -> f64 {
        let c = &self.cfg;
        let ideal = distance_m.abs() / c.max_linear_speed_mps
            + c.max_linear_speed_mps / c.max_linear_accel_mps2
            + c.distance_tolerance_m / c.min_linear_speed_mps;
        c.step_timeout_factor * ideal + c.step_timeout_margin_s
    }

    /// Time limit in s for a turn of `angle_rad`.
    pub(super) fn turn_timeout(&self, angle_rad: f64) -> f64 {
        let c = &self.cfg;
        let ideal = angle_rad.abs() / c.max_angular_speed_radps
            + c.max_angular_speed_radps / c.max_angular_accel_radps2
            + c.angle_tolerance_deg.to_radians() / c.min_angular_speed_radps;
        c.step_timeout_factor * ideal + c.step_timeout_margin_s
    }
}
