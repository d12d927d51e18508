//! What the planner reports: its per-tick output and the events in it.

use std::time::Duration;

use crate::bounded::SayText;
use crate::intent::Action;
use crate::msg::Twist;

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
    /// [`Planner::stop`](super::Planner::stop) was called; the plan (if any) is dropped.
    Stopped,
    /// Move step `index` waits for a fresh scan before it drives (the robot stands);
    /// it runs when one arrives, or the watchdog refuses it after `scan_wait_s`.
    WaitingForScan {
        /// The step's index in the plan.
        index: usize,
        /// What is wrong with the scan now.
        reason: WatchdogReason,
    },
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
    pub say: Option<SayText>,
    /// What happened this tick, if anything.
    pub event: Option<PlanEvent>,
}
