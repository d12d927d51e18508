//! The planner: executes a validated plan step by step, in closed loop on odometry, and
//! turns it into one velocity command per tick. It owns the safety rules: speed and
//! acceleration limits, a slow-down near each target, a stop distance to the nearest
//! obstacle, a step timeout, and a watchdog (odometry or scan too old, or a stage that
//! stopped beating -> zero velocity, plan dropped).
//!
//! A plain struct: call [`Planner::step`] at a fixed rate (default 50 Hz) with the latest
//! [`WorldState`] and the time; no threads, no clock of its own.
//!
//! Output contract: while a plan runs, every tick carries a twist (zero between steps, while
//! waiting, and for instant steps); when the plan ends (done, stopped, obstacle, watchdog,
//! timeout) exactly one zero twist goes out with the event; when idle, no twist.
//! Every non-zero twist is within the speed limits and within the acceleration limits
//! relative to the previous twist; stopping (a zero twist) is always allowed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::{AgentError, Result};
use super::intent::{Action, Step, ValidPlan};
use super::msg::{wrap_angle, Pose2D, Stamp, Twist};
use super::perception::WorldState;

/// Planner settings, units in the names. Check once with [`PlannerConfig::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlannerConfig {
    /// Tick rate in Hz (the rate the caller runs `step` at; sets the nominal time step).
    pub rate_hz: f64,
    /// Largest |forward speed| in m/s.
    pub max_linear_speed_mps: f64,
    /// Largest |yaw rate| in rad/s.
    pub max_angular_speed_radps: f64,
    /// Largest change of forward speed in m/s².
    pub max_linear_accel_mps2: f64,
    /// Largest change of yaw rate in rad/s².
    pub max_angular_accel_radps2: f64,
    /// Creep speed in m/s used in the last centimetres before a target (below the max).
    pub min_linear_speed_mps: f64,
    /// Creep yaw rate in rad/s used in the last degrees before a target (below the max).
    pub min_angular_speed_radps: f64,
    /// A move is done when the remaining distance is at most this, in m.
    pub distance_tolerance_m: f64,
    /// A turn is done when the remaining angle is at most this, in degrees.
    pub angle_tolerance_deg: f64,
    /// Moving towards an obstacle closer than this, in m, stops the plan.
    pub stop_distance_m: f64,
    /// Odometry older than this, in s, trips the watchdog.
    pub max_odom_age_s: f64,
    /// A scan older than this, in s, stops moves (not turns); None disables the check
    /// (a robot without a laser).
    pub max_scan_age_s: Option<f64>,
    /// A move or turn that takes longer than this factor times its ideal duration (plus
    /// the margin) is abandoned (a stuck wheel, a robot held back).
    pub step_timeout_factor: f64,
    /// Margin added to every step timeout, in s.
    pub step_timeout_margin_s: f64,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        PlannerConfig {
            rate_hz: 50.0,
            max_linear_speed_mps: 0.5,
            max_angular_speed_radps: 1.0,
            max_linear_accel_mps2: 0.5,
            max_angular_accel_radps2: 2.0,
            min_linear_speed_mps: 0.02,
            min_angular_speed_radps: 0.05,
            distance_tolerance_m: 0.01,
            angle_tolerance_deg: 1.0,
            stop_distance_m: 0.3,
            max_odom_age_s: 0.2,
            max_scan_age_s: Some(0.5),
            step_timeout_factor: 3.0,
            step_timeout_margin_s: 2.0,
        }
    }
}

fn invalid(field: &'static str, value: f64, reason: &'static str) -> AgentError {
    AgentError::InvalidConfig {
        config: "PlannerConfig",
        field,
        value: value.to_string(),
        reason,
    }
}

impl PlannerConfig {
    /// Checks every field once: finite, positive, creep speeds below the maxima.
    pub fn check(self) -> Result<Self> {
        let positive = [
            ("rate_hz", self.rate_hz),
            ("max_linear_speed_mps", self.max_linear_speed_mps),
            ("max_angular_speed_radps", self.max_angular_speed_radps),
            ("max_linear_accel_mps2", self.max_linear_accel_mps2),
            ("max_angular_accel_radps2", self.max_angular_accel_radps2),
            ("min_linear_speed_mps", self.min_linear_speed_mps),
            ("min_angular_speed_radps", self.min_angular_speed_radps),
            ("distance_tolerance_m", self.distance_tolerance_m),
            ("angle_tolerance_deg", self.angle_tolerance_deg),
            ("max_odom_age_s", self.max_odom_age_s),
            ("step_timeout_factor", self.step_timeout_factor),
        ];
        for (field, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(invalid(field, value, "must be a finite number greater than 0"));
            }
        }
        for (field, value) in [
            ("stop_distance_m", self.stop_distance_m),
            ("step_timeout_margin_s", self.step_timeout_margin_s),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(invalid(field, value, "must be a finite number, 0 or more"));
            }
        }
        if let Some(age) = self.max_scan_age_s {
            if !(age.is_finite() && age > 0.0) {
                return Err(invalid(
                    "max_scan_age_s",
                    age,
                    "must be a finite number greater than 0 (or absent to disable)",
                ));
            }
        }
        if self.min_linear_speed_mps >= self.max_linear_speed_mps {
            return Err(invalid(
                "min_linear_speed_mps",
                self.min_linear_speed_mps,
                "must be below max_linear_speed_mps",
            ));
        }
        if self.min_angular_speed_radps >= self.max_angular_speed_radps {
            return Err(invalid(
                "min_angular_speed_radps",
                self.min_angular_speed_radps,
                "must be below max_angular_speed_radps",
            ));
        }
        Ok(self)
    }
}

/// Why the watchdog stopped the robot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WatchdogReason {
    /// A pipeline stage stopped beating.
    StageStalled {
        /// The stage's name.
        stage: &'static str,
    },
    /// No odometry has arrived yet.
    OdometryMissing,
    /// The latest odometry is older than `max_odom_age_s`.
    OdometryStale {
        /// Its age.
        age: Duration,
    },
    /// A move was asked for but no scan has arrived yet.
    ScanMissing,
    /// A move was asked for but the latest scan is older than `max_scan_age_s`.
    ScanStale {
        /// Its age.
        age: Duration,
    },
}

/// Something the planner reports alongside its command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PlanEvent {
    /// Step `index` (0-based) started.
    StepStarted {
        /// The step's index in the plan.
        index: usize,
        /// Its action.
        action: Action,
    },
    /// Step `index` finished; the next one starts on the next tick.
    StepFinished {
        /// The step's index in the plan.
        index: usize,
    },
    /// The last step finished; the planner is idle.
    PlanDone {
        /// Steps executed.
        steps: usize,
    },
    /// [`Planner::stop`] was called; the plan (if any) is dropped.
    Stopped,
    /// The watchdog tripped; the plan is dropped.
    Watchdog {
        /// Why.
        reason: WatchdogReason,
    },
    /// An obstacle closer than the stop distance blocked a move; the plan is dropped.
    Obstacle {
        /// The step that was blocked.
        index: usize,
        /// Distance to the obstacle in m.
        distance_m: f32,
    },
    /// A move or turn took too long (a stuck robot); the plan is dropped.
    StepTimeout {
        /// The step that timed out.
        index: usize,
        /// How long it ran.
        elapsed: Duration,
    },
}

/// What one planner tick produces.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PlannerOutput {
    /// The velocity command: Some every tick while a plan runs, a single zero once when
    /// it ends, None while idle.
    pub twist: Option<Twist>,
    /// Text to say (from a `say` step).
    pub say: Option<String>,
    /// What happened this tick, if anything.
    pub event: Option<PlanEvent>,
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Start,
    Move {
        origin: Pose2D,
        target_m: f64,
        started: Stamp,
        timeout_s: f64,
    },
    Turn {
        prev_yaw: f64,
        turned_rad: f64,
        target_rad: f64,
        started: Stamp,
        timeout_s: f64,
    },
    Wait {
        until: Stamp,
    },
    Done,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Idle,
    Halt(PlanEvent),
    Run { index: usize, phase: Phase },
}

/// Result of one control computation for a move or a turn.
enum Control {
    Drive(Twist),
    Reached,
    Blocked(f32),
}

/// The plan executor. See the module docs for its contract.
#[derive(Debug, Clone)]
pub struct Planner {
    cfg: PlannerConfig,
    steps: Vec<Step>,
    state: State,
    last_cmd: Twist,
    last_tick: Option<Stamp>,
    accepted_at: Option<Stamp>,
}

/// Fraction of the acceleration limit the slow-down profile plans with, so the limiter
/// never has to cut the profile short.
const PROFILE_ACCEL_SHARE: f64 = 0.9;

impl Planner {
    /// A planner with a checked configuration, idle.
    pub fn new(config: PlannerConfig) -> Result<Self> {
        Ok(Planner {
            cfg: config.check()?,
            steps: Vec::new(),
            state: State::Idle,
            last_cmd: Twist::ZERO,
            last_tick: None,
            accepted_at: None,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &PlannerConfig {
        &self.cfg
    }

    /// Replaces whatever runs with `plan`; its first step starts on the next tick (the
    /// speed ramps from the last command, so a preempted motion stays smooth).
    pub fn set_plan(&mut self, plan: ValidPlan, now: Stamp) {
        self.steps = plan.into_plan().steps;
        self.state = State::Run {
            index: 0,
            phase: Phase::Start,
        };
        self.accepted_at = Some(now);
    }

    /// Drops the plan; the next tick sends one zero twist with [`PlanEvent::Stopped`]
    /// (also when idle, so a stop always reaches the motors).
    pub fn stop(&mut self, now: Stamp) {
        self.steps.clear();
        self.state = State::Halt(PlanEvent::Stopped);
        self.accepted_at = Some(now);
    }

    /// True while a plan runs or a final zero twist is pending.
    pub fn is_active(&self) -> bool {
        !matches!(self.state, State::Idle)
    }

    /// When the current plan or stop was handed in (for command -> motion latency).
    pub fn accepted_at(&self) -> Option<Stamp> {
        self.accepted_at
    }

    /// One tick: the command for now, given the latest world state. `stalled_stage` names
    /// a pipeline stage whose heartbeat is stale (the watchdog then stops the robot).
    pub fn step(
        &mut self,
        world: &WorldState,
        now: Stamp,
        stalled_stage: Option<&'static str>,
    ) -> PlannerOutput {
        let nominal = 1.0 / self.cfg.rate_hz;
        let dt = match self.last_tick {
            Some(t) if now > t => (now - t).as_secs_f64().min(5.0 * nominal),
            _ => nominal,
        };
        self.last_tick = Some(now);
        match self.state {
            State::Idle => {
                self.last_cmd = Twist::ZERO;
                PlannerOutput::default()
            }
            State::Halt(event) => self.halt(event),
            State::Run { index, phase } => {
                if let Some(reason) = self.watchdog(world, now, stalled_stage) {
                    return self.halt(PlanEvent::Watchdog { reason });
                }
                self.run(index, phase, world, now, dt)
            }
        }
    }

    fn watchdog(
        &self,
        world: &WorldState,
        now: Stamp,
        stalled_stage: Option<&'static str>,
    ) -> Option<WatchdogReason> {
        if let Some(stage) = stalled_stage {
            return Some(WatchdogReason::StageStalled { stage });
        }
        let Some(stamp) = world.odom_stamp else {
            return Some(WatchdogReason::OdometryMissing);
        };
        let age = now.saturating_sub(stamp);
        (age.as_secs_f64() > self.cfg.max_odom_age_s)
            .then_some(WatchdogReason::OdometryStale { age })
    }

    fn scan_problem(&self, world: &WorldState, now: Stamp) -> Option<WatchdogReason> {
        let max_age = self.cfg.max_scan_age_s?;
        let Some(stamp) = world.scan_stamp else {
            return Some(WatchdogReason::ScanMissing);
        };
        let age = now.saturating_sub(stamp);
        (age.as_secs_f64() > max_age).then_some(WatchdogReason::ScanStale { age })
    }

    /// Ends the plan: one zero twist with `event`, then idle.
    fn halt(&mut self, event: PlanEvent) -> PlannerOutput {
        self.state = State::Idle;
        self.steps.clear();
        self.last_cmd = Twist::ZERO;
        PlannerOutput {
            twist: Some(Twist::ZERO),
            say: None,
            event: Some(event),
        }
    }

    fn zero(&mut self, event: Option<PlanEvent>, say: Option<String>) -> PlannerOutput {
        self.last_cmd = Twist::ZERO;
        PlannerOutput {
            twist: Some(Twist::ZERO),
            say,
            event,
        }
    }

    fn finish(&mut self, index: usize) -> PlannerOutput {
        if index + 1 < self.steps.len() {
            self.state = State::Run {
                index: index + 1,
                phase: Phase::Start,
            };
            self.zero(Some(PlanEvent::StepFinished { index }), None)
        } else {
            let steps = self.steps.len();
            self.halt(PlanEvent::PlanDone { steps })
        }
    }

    fn run(
        &mut self,
        index: usize,
        phase: Phase,
        world: &WorldState,
        now: Stamp,
        dt: f64,
    ) -> PlannerOutput {
        let Some(step) = self.steps.get_mut(index) else {
            return self.halt(PlanEvent::PlanDone { steps: index });
        };
        let action = step.action();
        let (phase, started) = match phase {
            Phase::Start => {
                let started = PlanEvent::StepStarted { index, action };
                let phase = match step {
                    Step::Move { distance_m } => {
                        let target_m = *distance_m;
                        Phase::Move {
                            origin: world.pose,
                            target_m,
                            started: now,
                            timeout_s: self.move_timeout(target_m),
                        }
                    }
                    Step::Turn { angle_deg } => {
                        let target_rad = angle_deg.to_radians();
                        Phase::Turn {
                            prev_yaw: world.pose.yaw,
                            turned_rad: 0.0,
                            target_rad,
                            started: now,
                            timeout_s: self.turn_timeout(target_rad),
                        }
                    }
                    Step::Wait { seconds } => Phase::Wait {
                        until: now + Duration::from_secs_f64(seconds.max(0.0)),
                    },
                    Step::Stop {} => Phase::Done,
                    Step::Say { text } => {
                        let text = std::mem::take(text);
                        self.state = State::Run {
                            index,
                            phase: Phase::Done,
                        };
                        return self.zero(Some(started), Some(text));
                    }
                };
                (phase, Some(started))
            }
            other => (other, None),
        };
        match phase {
            Phase::Start | Phase::Done => {
                if started.is_some() {
                    self.state = State::Run { index, phase };
                    self.zero(started, None)
                } else {
                    self.finish(index)
                }
            }
            Phase::Wait { until } => {
                if started.is_none() && now >= until {
                    return self.finish(index);
                }
                self.state = State::Run { index, phase };
                self.zero(started, None)
            }
            Phase::Move {
                origin,
                target_m,
                started: t0,
                timeout_s,
            } => {
                if let Some(reason) = self.scan_problem(world, now) {
                    return self.halt(PlanEvent::Watchdog { reason });
                }
                let elapsed = now.saturating_sub(t0);
                if elapsed.as_secs_f64() > timeout_s {
                    return self.halt(PlanEvent::StepTimeout { index, elapsed });
                }
                let control = self.move_control(origin, target_m, world);
                self.state = State::Run { index, phase };
                self.apply(control, index, started, dt)
            }
            Phase::Turn {
                prev_yaw,
                turned_rad,
                target_rad,
                started: t0,
                timeout_s,
            } => {
                let elapsed = now.saturating_sub(t0);
                if elapsed.as_secs_f64() > timeout_s {
                    return self.halt(PlanEvent::StepTimeout { index, elapsed });
                }
                let turned_rad = turned_rad + wrap_angle(world.pose.yaw - prev_yaw);
                let control = self.turn_control(target_rad - turned_rad);
                self.state = State::Run {
                    index,
                    phase: Phase::Turn {
                        prev_yaw: world.pose.yaw,
                        turned_rad,
                        target_rad,
                        started: t0,
                        timeout_s,
                    },
                };
                self.apply(control, index, started, dt)
            }
        }
    }

    /// Turns a control decision into this tick's output.
    fn apply(
        &mut self,
        control: Control,
        index: usize,
        started: Option<PlanEvent>,
        dt: f64,
    ) -> PlannerOutput {
        match control {
            Control::Blocked(distance_m) => self.halt(PlanEvent::Obstacle { index, distance_m }),
            Control::Reached if started.is_some() => {
                if let State::Run { phase, .. } = &mut self.state {
                    *phase = Phase::Done;
                }
                self.zero(started, None)
            }
            Control::Reached => self.finish(index),
            Control::Drive(desired) => {
                let twist = self.limit(desired, dt);
                PlannerOutput {
                    twist: Some(twist),
                    say: None,
                    event: started,
                }
            }
        }
    }

    /// Speed along the slow-down profile for `remaining` (m or rad) to go.
    fn profile(remaining: f64, tolerance: f64, accel: f64, min: f64, max: f64) -> f64 {
        (2.0 * PROFILE_ACCEL_SHARE * accel * (remaining - tolerance).max(0.0))
            .sqrt()
            .clamp(min, max)
    }

    fn move_control(&self, origin: Pose2D, target_m: f64, world: &WorldState) -> Control {
        let c = &self.cfg;
        let (dx, dy) = (world.pose.x - origin.x, world.pose.y - origin.y);
        let covered = dx * origin.yaw.cos() + dy * origin.yaw.sin();
        let remaining = target_m - covered;
        if remaining.abs() <= c.distance_tolerance_m {
            return Control::Reached;
        }
        let mut speed = Self::profile(
            remaining.abs(),
            c.distance_tolerance_m,
            c.max_linear_accel_mps2,
            c.min_linear_speed_mps,
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
            let braking = (2.0 * PROFILE_ACCEL_SHARE * c.max_linear_accel_mps2 * free).sqrt();
            speed = speed.min(braking.max(c.min_linear_speed_mps));
        }
        Control::Drive(Twist {
            linear_x: speed.copysign(remaining),
            angular_z: 0.0,
        })
    }

    fn turn_control(&self, remaining_rad: f64) -> Control {
        let c = &self.cfg;
        let tolerance = c.angle_tolerance_deg.to_radians();
        if remaining_rad.abs() <= tolerance {
            return Control::Reached;
        }
        let rate = Self::profile(
            remaining_rad.abs(),
            tolerance,
            c.max_angular_accel_radps2,
            c.min_angular_speed_radps,
            c.max_angular_speed_radps,
        );
        Control::Drive(Twist {
            linear_x: 0.0,
            angular_z: rate.copysign(remaining_rad),
        })
    }

    /// Applies the acceleration and speed limits relative to the last command.
    fn limit(&mut self, desired: Twist, dt: f64) -> Twist {
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
    fn move_timeout(&self, distance_m: f64) -> f64 {
        let c = &self.cfg;
        let ideal = distance_m.abs() / c.max_linear_speed_mps
            + c.max_linear_speed_mps / c.max_linear_accel_mps2
            + c.distance_tolerance_m / c.min_linear_speed_mps;
        c.step_timeout_factor * ideal + c.step_timeout_margin_s
    }

    /// Time limit in s for a turn of `angle_rad`.
    fn turn_timeout(&self, angle_rad: f64) -> f64 {
        let c = &self.cfg;
        let ideal = angle_rad.abs() / c.max_angular_speed_radps
            + c.max_angular_speed_radps / c.max_angular_accel_radps2
            + c.angle_tolerance_deg.to_radians() / c.min_angular_speed_radps;
        c.step_timeout_factor * ideal + c.step_timeout_margin_s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_check_names_the_field() {
        let cfg = PlannerConfig {
            max_linear_accel_mps2: -1.0,
            ..PlannerConfig::default()
        };
        assert!(matches!(
            cfg.check(),
            Err(AgentError::InvalidConfig {
                field: "max_linear_accel_mps2",
                ..
            })
        ));
        let cfg = PlannerConfig {
            min_linear_speed_mps: 0.6,
            ..PlannerConfig::default()
        };
        assert!(matches!(
            cfg.check(),
            Err(AgentError::InvalidConfig {
                field: "min_linear_speed_mps",
                ..
            })
        ));
        let cfg = PlannerConfig {
            max_scan_age_s: Some(f64::INFINITY),
            ..PlannerConfig::default()
        };
        assert!(cfg.check().is_err());
        assert!(PlannerConfig::default().check().is_ok());
    }

    #[test]
    fn idle_planner_sends_nothing_and_stop_sends_one_zero() {
        let mut p = Planner::new(PlannerConfig::default()).unwrap();
        let world = WorldState::default();
        assert_eq!(p.step(&world, Duration::ZERO, None), PlannerOutput::default());
        p.stop(Duration::from_millis(10));
        let out = p.step(&world, Duration::from_millis(20), None);
        assert_eq!(out.twist, Some(Twist::ZERO));
        assert_eq!(out.event, Some(PlanEvent::Stopped));
        assert_eq!(p.step(&world, Duration::from_millis(40), None).twist, None);
    }
}
