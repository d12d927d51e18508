//! The planner: executes a validated plan step by step, in closed loop on odometry, and
//! turns it into one velocity command per tick. It owns the safety rules: speed and
//! acceleration limits, a slow-down near each target, a stop distance to the nearest
//! obstacle, a step timeout, and a watchdog (odometry or scan too old, or a stage that
//! stopped beating -> zero velocity, plan dropped).
//!
//! A plain struct: call [`Planner::step`] at a fixed rate (default 50 Hz) with the latest
//! [`WorldState`] and the time; no threads, no clock of its own, no allocation per tick
//! (about 60-80 ns per tick, benches/agent.rs).
//!
//! Output contract: while a plan runs, every tick carries a twist (zero between steps, while
//! waiting, and for instant steps); when the plan ends (done, stopped, obstacle, watchdog,
//! timeout) exactly one zero twist goes out with the event; when idle, no twist.
//! Every non-zero twist is within the speed limits and within the acceleration limits
//! relative to the previous twist; stopping (a zero twist) is always allowed.

mod config;
mod control;
mod events;

use std::ops::ControlFlow;
use std::time::Duration;

pub use self::config::PlannerConfig;
pub use self::events::{PlanEvent, PlannerOutput, WatchdogReason};
use super::bounded::SayText;
use super::error::Result;
use super::intent::{Step, Steps, ValidPlan};
use super::msg::{wrap_angle, Pose2D, Stamp, Twist};
use super::perception::WorldState;

#[derive(Debug, Clone, Copy)]
enum Phase {
    Start,
    Move(MovePhase),
    Turn(TurnPhase),
    Wait { until: Stamp },
    Done,
}

/// Progress of a running move step.
#[derive(Debug, Clone, Copy)]
struct MovePhase {
    origin: Pose2D,
    target_m: f64,
    started: Stamp,
    timeout_s: f64,
    band_since: Option<Stamp>,
    /// Since when the step has waited for a fresh scan before driving (None: not waiting).
    scan_wait_since: Option<Stamp>,
    /// The step has passed the scan check once and drives: a stale scan now stops it.
    driving: bool,
}

/// Progress of a running turn step.
#[derive(Debug, Clone, Copy)]
struct TurnPhase {
    prev_yaw: f64,
    turned_rad: f64,
    target_rad: f64,
    started: Stamp,
    timeout_s: f64,
    band_since: Option<Stamp>,
}

/// What one tick of a running step works with: the step, its start event if it started
/// on this tick, the world state, the time and the tick length `dt` (s).
#[derive(Clone, Copy)]
struct Tick<'a> {
    index: usize,
    started: Option<PlanEvent>,
    world: &'a WorldState,
    now: Stamp,
    dt: f64,
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
    steps: Steps,
    state: State,
    last_cmd: Twist,
    last_tick: Option<Stamp>,
    accepted_at: Option<Stamp>,
}

impl Planner {
    /// A planner with a checked configuration, idle.
    pub fn new(config: PlannerConfig) -> Result<Self> {
        Ok(Planner {
            cfg: config.check()?,
            steps: Steps::new(),
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

    fn zero(&mut self, event: Option<PlanEvent>, say: Option<SayText>) -> PlannerOutput {
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
        let Some(step) = self.steps.get(index) else {
            return self.halt(PlanEvent::PlanDone { steps: index });
        };
        let action = step.action();
        let (phase, started) = match phase {
            Phase::Start => {
                let started = PlanEvent::StepStarted { index, action };
                match self.start_step(index, started, world, now) {
                    ControlFlow::Continue(phase) => (phase, Some(started)),
                    ControlFlow::Break(out) => return out,
                }
            }
            other => (other, None),
        };
        let tick = Tick {
            index,
            started,
            world,
            now,
            dt,
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
            Phase::Move(m) => self.tick_move(tick, m),
            Phase::Turn(t) => self.tick_turn(tick, t),
        }
    }

    /// The first phase of step `index` (in range), or, for an instant `say` step, this
    /// tick's whole output (the step is then done).
    fn start_step(
        &mut self,
        index: usize,
        started: PlanEvent,
        world: &WorldState,
        now: Stamp,
    ) -> ControlFlow<PlannerOutput, Phase> {
        let phase = match &mut self.steps[index] {
            Step::Move { distance_m } => {
                let target_m = *distance_m;
                Phase::Move(MovePhase {
                    origin: world.pose,
                    target_m,
                    started: now,
                    timeout_s: self.move_timeout(target_m),
                    band_since: None,
                    scan_wait_since: None,
                    driving: false,
                })
            }
            Step::Turn { angle_deg } => {
                let target_rad = angle_deg.to_radians();
                Phase::Turn(TurnPhase {
                    prev_yaw: world.pose.yaw,
                    turned_rad: 0.0,
                    target_rad,
                    started: now,
                    timeout_s: self.turn_timeout(target_rad),
                    band_since: None,
                })
            }
            Step::Wait { seconds } => Phase::Wait {
                // Validated plans hold finite, non-negative seconds; saturate
                // anyway so no configured limit can make this panic.
                until: now.saturating_add(
                    Duration::try_from_secs_f64(seconds.max(0.0)).unwrap_or(Duration::MAX),
                ),
            },
            Step::Stop {} => Phase::Done,
            Step::Say { text } => {
                let text = std::mem::take(text);
                self.state = State::Run {
                    index,
                    phase: Phase::Done,
                };
                return ControlFlow::Break(self.zero(Some(started), Some(text)));
            }
        };
        ControlFlow::Continue(phase)
    }

    /// One tick of a move: scan watchdog, step timeout, then drive toward the target.
    fn tick_move(&mut self, t: Tick, mut m: MovePhase) -> PlannerOutput {
        if let Some(reason) = self.scan_problem(t.world, t.now) {
            if m.driving {
                return self.halt(PlanEvent::Watchdog { reason });
            }
            return self.wait_for_scan(t, m, reason);
        }
        m.driving = true;
        let elapsed = t.now.saturating_sub(m.started);
        if elapsed.as_secs_f64() > m.timeout_s {
            return self.halt(PlanEvent::StepTimeout {
                index: t.index,
                elapsed,
            });
        }
        let control = self.move_control(m.origin, m.target_m, t.world, &mut m.band_since, t.now);
        self.state = State::Run {
            index: t.index,
            phase: Phase::Move(m),
        };
        self.apply(control, t.index, t.started, t.dt)
    }

    /// A move that has not driven yet and has no fresh scan: stand (zero velocity) for up
    /// to `scan_wait_s`, saying so once, then refuse it. Its step timeout counts from
    /// when it can drive.
    fn wait_for_scan(
        &mut self,
        t: Tick,
        mut m: MovePhase,
        reason: WatchdogReason,
    ) -> PlannerOutput {
        let since = m.scan_wait_since.unwrap_or(t.now);
        if t.now.saturating_sub(since).as_secs_f64() >= self.cfg.scan_wait_s {
            return self.halt(PlanEvent::Watchdog { reason });
        }
        // The start tick reports the step's start; the wait is reported on the next.
        let event = match (t.started, m.scan_wait_since) {
            (Some(started), _) => Some(started),
            (None, None) => Some(PlanEvent::WaitingForScan {
                index: t.index,
                reason,
            }),
            (None, Some(_)) => None,
        };
        if t.started.is_none() {
            m.scan_wait_since = Some(since);
        }
        // The robot stands: the move is measured from where it starts to drive.
        m.started = t.now;
        m.origin = t.world.pose;
        self.state = State::Run {
            index: t.index,
            phase: Phase::Move(m),
        };
        self.zero(event, None)
    }

    /// One tick of a turn: step timeout, then integrate the yaw change and turn on.
    fn tick_turn(&mut self, t: Tick, mut r: TurnPhase) -> PlannerOutput {
        let elapsed = t.now.saturating_sub(r.started);
        if elapsed.as_secs_f64() > r.timeout_s {
            return self.halt(PlanEvent::StepTimeout {
                index: t.index,
                elapsed,
            });
        }
        r.turned_rad += wrap_angle(t.world.pose.yaw - r.prev_yaw);
        let control = self.turn_control(r.target_rad, r.turned_rad, &mut r.band_since, t.now);
        r.prev_yaw = t.world.pose.yaw;
        self.state = State::Run {
            index: t.index,
            phase: Phase::Turn(r),
        };
        self.apply(control, t.index, t.started, t.dt)
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
}

#[cfg(test)]
mod tests;
