//! A differential-drive robot: integrates a commanded (linear_x, angular_z) into a pose
//! with a fixed step, exactly (the unicycle model's closed-form arc), with a command
//! timeout, optional velocity clamps and an optional round footprint that walls and
//! boxes block.

use std::time::Duration;

use super::error::{Error, Result};
use super::world::World;
use bora_geom::{wrap_angle, Pose2D, Twist, Vec2};

/// How the simulated base moves and when it stops by itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriveConfig {
    /// Integration step (the simulation's period). Default 10 ms (100 Hz).
    pub step: Duration,
    /// With no command for longer than this, the base stops. Default 0.5 s.
    pub cmd_timeout: Duration,
    /// Largest |linear_x| the base obeys, in m/s; faster commands are clamped. None: no clamp.
    pub max_linear_x: Option<f64>,
    /// Largest |angular_z| the base obeys, in rad/s; faster commands are clamped. None: no clamp.
    pub max_angular_z: Option<f64>,
    /// Radius of the robot's round footprint in m: a step that would bring the centre
    /// closer than this to a wall or box (and closer than it already was) is not taken.
    /// None: the robot passes through everything. Default 0.2 m.
    pub footprint_radius: Option<f64>,
}

impl Default for DriveConfig {
    fn default() -> Self {
        Self {
            step: Duration::from_millis(10),
            cmd_timeout: Duration::from_millis(500),
            max_linear_x: None,
            max_angular_z: None,
            footprint_radius: Some(0.2),
        }
    }
}

impl DriveConfig {
    /// Checks every value; the error names the setting and what would be valid.
    pub fn validate(&self) -> Result<()> {
        if self.step.is_zero() {
            return Err(bad(
                "step",
                format!("{:?}", self.step),
                "must be above zero",
            ));
        }
        for (name, v) in [
            ("max_linear_x", self.max_linear_x),
            ("max_angular_z", self.max_angular_z),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(bad(
                        name,
                        v.to_string(),
                        "must be a finite number >= 0 (or unset for no clamp)",
                    ));
                }
            }
        }
        if let Some(r) = self.footprint_radius {
            if !(r.is_finite() && r >= 0.0) {
                return Err(bad(
                    "footprint_radius",
                    r.to_string(),
                    "must be a finite length >= 0 in m (or unset)",
                ));
            }
        }
        Ok(())
    }
}

/// What [`DiffDrive::command`] did with a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Taken as given.
    Accepted,
    /// Taken, with at least one axis clamped to its limit.
    Clamped,
    /// Ignored (a NaN or infinite value); the previous command stays, and its timeout runs on.
    Rejected,
}

/// What one [`DiffDrive::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepOutcome {
    /// Moved (or stood still) under a fresh command.
    Commanded,
    /// Stood still: no command ever, or none within the timeout.
    TimedOut,
    /// The move would have hit a wall or a box; the robot stayed where it was.
    Blocked,
}

/// Counts of what happened to a [`DiffDrive`] since it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DriveStats {
    /// Steps taken.
    pub steps: u64,
    /// Commands accepted (clamped or not).
    pub commands: u64,
    /// Commands clamped.
    pub clamped: u64,
    /// Commands rejected as not finite.
    pub rejected: u64,
    /// Times the command timed out (a moving command went stale).
    pub timeouts: u64,
    /// Steps blocked by an obstacle.
    pub blocked_steps: u64,
}

/// A simulated differential-drive base: a pose, the last command, and a clock that
/// advances by exactly one `step` per [`DiffDrive::step`].
#[derive(Debug, Clone)]
pub struct DiffDrive {
    cfg: DriveConfig,
    pose: Pose2D,
    cmd: Twist,
    velocity: Twist,
    last_cmd_at: Option<Duration>,
    timed_out: bool,
    ticks: u64,
    stats: DriveStats,
}

impl DiffDrive {
    /// A base at `start`, standing still, at time zero.
    pub fn new(cfg: DriveConfig, start: Pose2D) -> Result<Self> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            pose: Pose2D::new(start.x, start.y, start.yaw),
            cmd: Twist::ZERO,
            velocity: Twist::ZERO,
            last_cmd_at: None,
            timed_out: true,
            ticks: 0,
            stats: DriveStats::default(),
        })
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &DriveConfig {
        &self.cfg
    }

    /// Simulated time: steps taken times the step.
    pub fn time(&self) -> Duration {
        let step_ns = u64::try_from(self.cfg.step.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(step_ns.saturating_mul(self.ticks))
    }

    /// The current pose.
    pub fn pose(&self) -> Pose2D {
        self.pose
    }

    /// The velocity applied during the last step (zero when timed out or blocked).
    pub fn velocity(&self) -> Twist {
        self.velocity
    }

    /// The command in force (after clamping), whether or not it has timed out.
    pub fn command_in_force(&self) -> Twist {
        self.cmd
    }

    /// What happened so far.
    pub fn stats(&self) -> DriveStats {
        self.stats
    }

    /// Takes a new command, stamped with the current simulated time; it drives the
    /// following steps until it is replaced or goes stale (`cmd_timeout`).
    pub fn command(&mut self, cmd: Twist) -> CommandOutcome {
        if !(cmd.linear_x.is_finite() && cmd.angular_z.is_finite()) {
            self.stats.rejected += 1;
            return CommandOutcome::Rejected;
        }
        let clamp = |v: f64, max: Option<f64>| max.map_or(v, |m| v.clamp(-m, m));
        let taken = Twist::new(
            clamp(cmd.linear_x, self.cfg.max_linear_x),
            clamp(cmd.angular_z, self.cfg.max_angular_z),
        );
        self.cmd = taken;
        self.last_cmd_at = Some(self.time());
        self.timed_out = false;
        self.stats.commands += 1;
        if taken != cmd {
            self.stats.clamped += 1;
            CommandOutcome::Clamped
        } else {
            CommandOutcome::Accepted
        }
    }

    /// Advances the simulated time by one step, moving under the command in force
    /// unless it is stale or the move is blocked by `world`.
    pub fn step(&mut self, world: &World) -> StepOutcome {
        let now = self.time();
        self.ticks = self.ticks.saturating_add(1);
        self.stats.steps += 1;
        let fresh = self
            .last_cmd_at
            .is_some_and(|at| now.saturating_sub(at) <= self.cfg.cmd_timeout);
        if !fresh {
            if !self.timed_out && self.cmd != Twist::ZERO {
                self.stats.timeouts += 1;
            }
            self.timed_out = true;
            self.velocity = Twist::ZERO;
            return StepOutcome::TimedOut;
        }
        let next = integrate(self.pose, self.cmd, self.cfg.step.as_secs_f64());
        if let Some(radius) = self.cfg.footprint_radius {
            let after = world.clearance(next.position());
            if after < radius && after < world.clearance(self.pose.position()) {
                self.stats.blocked_steps += 1;
                self.velocity = Twist::ZERO;
                return StepOutcome::Blocked;
            }
        }
        self.pose = next;
        self.velocity = self.cmd;
        StepOutcome::Commanded
    }
}

/// The pose after moving at constant `v` for `dt` s from `pose`: the exact solution of
/// the unicycle model (a straight line, or an arc of radius v/w). Written with the
/// chord (length v*dt*sinc(w*dt/2), heading yaw + w*dt/2) so it stays exact and
/// well-conditioned as w goes to zero.
pub fn integrate(pose: Pose2D, v: Twist, dt: f64) -> Pose2D {
    let half = 0.5 * v.angular_z * dt;
    let sinc = if half.abs() < 1e-6 {
        1.0 - half * half / 6.0
    } else {
        half.sin() / half
    };
    let chord = v.linear_x * dt * sinc;
    let d = Vec2::from_angle(pose.yaw + half).scale(chord);
    Pose2D {
        x: pose.x + d.x,
        y: pose.y + d.y,
        yaw: wrap_angle(pose.yaw + v.angular_z * dt),
    }
}

/// A [`Error::SimParam`] for a drive setting.
fn bad(param: &str, value: String, reason: &str) -> Error {
    Error::SimParam {
        param: param.to_owned(),
        value,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::{FRAC_PI_2, PI};

    fn drive(cfg: DriveConfig) -> DiffDrive {
        DiffDrive::new(cfg, Pose2D::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn free() -> DriveConfig {
        DriveConfig {
            footprint_radius: None,
            cmd_timeout: Duration::from_secs(100),
            ..DriveConfig::default()
        }
    }

    #[test]
    fn a_straight_move_is_exact() {
        let mut d = drive(free());
        let world = World::empty();
        d.command(Twist::new(0.5, 0.0));
        for _ in 0..200 {
            assert_eq!(d.step(&world), StepOutcome::Commanded);
        }
        // 200 steps of 10 ms at 0.5 m/s: 1 m along +x.
        assert!((d.pose().x - 1.0).abs() < 1e-12, "{:?}", d.pose());
        assert_eq!(d.pose().y, 0.0);
        assert_eq!(d.pose().yaw, 0.0);
        assert_eq!(d.time(), Duration::from_secs(2));
        assert_eq!(d.velocity(), Twist::new(0.5, 0.0));
    }

    #[test]
    fn a_turn_follows_the_exact_arc() {
        // v = 0.5 m/s, w = 0.5 rad/s: a circle of radius 1 m about (0, 1). Check the
        // pose after 157 steps of 10 ms against the closed form, then single big steps.
        let mut d = drive(DriveConfig {
            step: Duration::from_millis(10),
            ..free()
        });
        let world = World::empty();
        d.command(Twist::new(0.5, 0.5));
        for _ in 0..157 {
            d.step(&world);
        }
        let theta: f64 = 0.5 * 1.57;
        assert!((d.pose().x - theta.sin()).abs() < 1e-12, "{:?}", d.pose());
        assert!(
            (d.pose().y - (1.0 - theta.cos())).abs() < 1e-12,
            "{:?}",
            d.pose()
        );
        assert!((d.pose().yaw - theta).abs() < 1e-12);
        // One step of pi s is exactly the quarter turn, one of 2 pi s the half turn.
        let quarter = integrate(Pose2D::default(), Twist::new(0.5, 0.5), PI);
        assert!(
            (quarter.x - 1.0).abs() < 1e-12 && (quarter.y - 1.0).abs() < 1e-12,
            "{quarter:?}"
        );
        assert!((quarter.yaw - FRAC_PI_2).abs() < 1e-12);
        let half = integrate(Pose2D::default(), Twist::new(0.5, 0.5), 2.0 * PI);
        assert!(
            half.x.abs() < 1e-12 && (half.y - 2.0).abs() < 1e-12,
            "{half:?}"
        );
        assert!((half.yaw.abs() - PI).abs() < 1e-12);
        // A turn in place changes only the heading.
        let spin = integrate(Pose2D::new(1.0, 2.0, 0.0), Twist::new(0.0, FRAC_PI_2), 1.0);
        assert_eq!((spin.x, spin.y), (1.0, 2.0));
        assert!((spin.yaw - FRAC_PI_2).abs() < 1e-12);
    }

    #[test]
    fn no_command_for_longer_than_the_timeout_stops_the_robot() {
        let mut d = drive(DriveConfig {
            footprint_radius: None,
            ..DriveConfig::default()
        });
        let world = World::empty();
        assert_eq!(
            d.step(&world),
            StepOutcome::TimedOut,
            "no command yet: stand still"
        );
        d.command(Twist::new(1.0, 0.0));
        // The command was stamped at 10 ms; the steps starting at 10 ms ..= 510 ms use it.
        let mut moving = 0;
        for _ in 0..100 {
            if d.step(&world) == StepOutcome::Commanded {
                moving += 1;
            }
        }
        assert_eq!(moving, 51);
        assert!((d.pose().x - 0.51).abs() < 1e-12, "{:?}", d.pose());
        assert_eq!(d.velocity(), Twist::ZERO);
        assert_eq!(d.stats().timeouts, 1);
        // A fresh command moves it again.
        d.command(Twist::new(1.0, 0.0));
        assert_eq!(d.step(&world), StepOutcome::Commanded);
    }

    #[test]
    fn clamps_apply_and_bad_commands_are_ignored() {
        let cfg = DriveConfig {
            max_linear_x: Some(0.3),
            max_angular_z: Some(1.0),
            ..free()
        };
        let mut d = drive(cfg);
        assert_eq!(d.command(Twist::new(-2.0, 0.5)), CommandOutcome::Clamped);
        assert_eq!(d.command_in_force(), Twist::new(-0.3, 0.5));
        assert_eq!(
            d.command(Twist::new(f64::NAN, 0.0)),
            CommandOutcome::Rejected
        );
        assert_eq!(d.command_in_force(), Twist::new(-0.3, 0.5));
        assert_eq!(d.command(Twist::new(0.1, -0.2)), CommandOutcome::Accepted);
        assert_eq!(d.stats().rejected, 1);
        assert_eq!(d.stats().clamped, 1);
    }

    #[test]
    fn a_wall_blocks_the_footprint_but_not_turning_away() -> Result<()> {
        let mut world = World::empty();
        world.add_wall(Vec2::new(1.0, -1.0), Vec2::new(1.0, 1.0))?;
        let mut d = DiffDrive::new(
            DriveConfig {
                cmd_timeout: Duration::from_secs(100),
                ..DriveConfig::default()
            },
            Pose2D::default(),
        )?;
        d.command(Twist::new(1.0, 0.0));
        for _ in 0..200 {
            d.step(&world);
        }
        // The centre stops within one step (1 cm) of footprint_radius from the wall.
        assert!(
            d.pose().x <= 0.8 + 1e-9 && d.pose().x > 0.79,
            "{:?}",
            d.pose()
        );
        assert_eq!(d.velocity(), Twist::ZERO);
        assert!(d.stats().blocked_steps > 100);
        d.command(Twist::new(-1.0, 0.0));
        assert_eq!(
            d.step(&world),
            StepOutcome::Commanded,
            "backing away is allowed"
        );
        Ok(())
    }

    #[test]
    fn invalid_settings_are_named() {
        let err = DiffDrive::new(
            DriveConfig {
                step: Duration::ZERO,
                ..DriveConfig::default()
            },
            Pose2D::default(),
        );
        assert!(
            matches!(err, Err(Error::SimParam { ref param, .. }) if param == "step"),
            "{err:?}"
        );
        let err = DiffDrive::new(
            DriveConfig {
                max_linear_x: Some(-1.0),
                ..DriveConfig::default()
            },
            Pose2D::default(),
        );
        assert!(
            matches!(err, Err(Error::SimParam { ref param, .. }) if param == "max_linear_x"),
            "{err:?}"
        );
    }
}
