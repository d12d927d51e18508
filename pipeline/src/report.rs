//! What the agent publishes about commands and plans, as types: [`PlanReport`] for every
//! message on `agent/plan` (interpretations, reflex stops, superseded and refused
//! commands, deadlines the planner enforced) and [`EventReport`] for every message on
//! `agent/events`. Both serialise to the JSON documented by `nodes/schema/plan.schema.json`
//! and `nodes/schema/event.schema.json`, and read back from it (`bora say`, tests).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::agreement::Agreement;
use crate::interpret::{BudgetOutcome, Interpretation, LatencyBreakdown, Source};
use bora_agent::{PlanEvent, Step, ValidPlan, WatchdogReason};

/// One message on `agent/plan`: what became of one command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanReport {
    /// The steps that run, or None (JSON null): no motion.
    pub plan: Option<Vec<Step>>,
    /// Which path produced the plan.
    pub source: Source,
    /// Whether a path trusted for motion understood the command.
    pub understood: bool,
    /// The command as received (or what can be shown of it).
    pub command: String,
    /// The command's sequence number (1, 2, ... per agent).
    pub seq: u64,
    /// Where the interpretation's time went, µs; absent when nothing was interpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_us: Option<LatencyBreakdown>,
    /// The model's budget outcome; absent when nothing was interpreted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetOutcome>,
    /// What the model generated, if it ran.
    #[serde(default)]
    pub model_text: Option<String>,
    /// "planner" when the planner enforced the token budget for this command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforced_by: Option<String>,
    /// Why earlier paths were not used, or why there is no plan, in order.
    pub reasons: Vec<String>,
    /// Whether the model's own decision and the parser's were the same.
    #[serde(default = "not_compared")]
    pub agreement: Agreement,
}

/// The agreement of a report that carries none (written before the field existed).
fn not_compared() -> Agreement {
    Agreement::NotCompared
}

impl PlanReport {
    /// A report with no plan and no interpretation: `source` none, not understood.
    fn without_plan(command: &str, seq: u64, reason: String) -> Self {
        Self {
            plan: None,
            source: Source::None,
            understood: false,
            command: command.to_owned(),
            seq,
            latency_us: None,
            budget: None,
            model_text: None,
            enforced_by: None,
            reasons: vec![reason],
            agreement: Agreement::NotCompared,
        }
    }

    /// The report of an interpretation of command `seq`.
    pub fn interpreted(interp: &Interpretation, seq: u64) -> Self {
        Self {
            plan: interp.plan.as_ref().map(steps),
            source: interp.source,
            understood: interp.understood,
            command: interp.command.clone(),
            seq,
            latency_us: Some(interp.latency),
            budget: Some(interp.budget),
            model_text: interp.model_text.clone(),
            enforced_by: None,
            reasons: interp.reasons.iter().map(ToString::to_string).collect(),
            agreement: interp.agreement,
        }
    }

    /// A reflex stop: the model was bypassed.
    pub fn reflex(command: &str, seq: u64) -> Self {
        Self {
            plan: Some(vec![Step::Stop {}]),
            source: Source::Reflex,
            understood: true,
            reasons: Vec::new(),
            ..Self::without_plan(command, seq, String::new())
        }
    }

    /// A command a newer one replaced before it was interpreted.
    pub fn superseded(command: &str, seq: u64) -> Self {
        Self::without_plan(command, seq, crate::Reason::Superseded.to_string())
    }

    /// A command refused before interpretation (e.g. bytes that are not text).
    pub fn refused(command: &str, seq: u64, reason: &str) -> Self {
        Self::without_plan(command, seq, reason.to_owned())
    }

    /// The compact JSON published on `agent/plan`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Interpretation {
    /// The JSON printed by `bora intent --json`: the [`PlanReport`] of `agent/plan`
    /// without its sequence number.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(PlanReport::interpreted(self, 0)).unwrap_or_default();
        if let Some(obj) = v.as_object_mut() {
            obj.remove("seq");
        }
        v
    }
}

/// The steps of a validated plan.
pub(crate) fn steps(plan: &ValidPlan) -> Vec<Step> {
    plan.steps().to_vec()
}

/// One message on `agent/events`: what happened, and when on the agent clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventReport {
    /// What happened (JSON key `event` names it).
    #[serde(flatten)]
    pub event: Event,
    /// When, in s since the agent started.
    pub t_s: f64,
}

/// The kinds of [`EventReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A plan's step began.
    StepStarted {
        /// The step's index in its plan, from 0.
        index: usize,
        /// Its action's name (move, turn, wait, stop, say).
        action: String,
    },
    /// A plan's step ended.
    StepFinished {
        /// The step's index in its plan, from 0.
        index: usize,
    },
    /// Every step of the plan ran.
    PlanDone {
        /// How many steps it had.
        steps: usize,
    },
    /// The robot was stopped (reflex, policy or a new plan).
    Stopped,
    /// A move waits for a fresh scan before it drives (the robot stands); it runs when
    /// one arrives, or the watchdog refuses it after `planner.scan_wait_s`.
    WaitingForScan {
        /// The step's index.
        index: usize,
        /// What is wrong with the scan, in words.
        reason: String,
    },
    /// The planner stopped the robot because an input or a stage went quiet.
    Watchdog {
        /// What went quiet, in words.
        reason: String,
    },
    /// An obstacle ended a move step early.
    Obstacle {
        /// The step's index.
        index: usize,
        /// Distance to the obstacle ahead, m.
        distance_m: f32,
    },
    /// A step ran past its time limit.
    StepTimeout {
        /// The step's index.
        index: usize,
        /// How long it ran, s.
        elapsed_s: f64,
    },
    /// No path trusted for motion understood the command: the robot does not move for it.
    NotUnderstood {
        /// The command.
        command: String,
        /// Its sequence number.
        seq: u64,
        /// What the model generated, if it ran.
        model_text: Option<String>,
        /// What still runs (say or wait steps), or None.
        plan: Option<Vec<Step>>,
        /// Why, in order.
        reasons: Vec<String>,
    },
}

impl EventReport {
    /// The event for a planner event at `now` (agent clock).
    pub fn planner(event: &PlanEvent, now: Duration) -> Self {
        let event = match *event {
            PlanEvent::StepStarted { index, action } => Event::StepStarted {
                index,
                action: action.name().to_owned(),
            },
            PlanEvent::StepFinished { index } => Event::StepFinished { index },
            PlanEvent::PlanDone { steps } => Event::PlanDone { steps },
            PlanEvent::Stopped => Event::Stopped,
            PlanEvent::WaitingForScan { index, reason } => Event::WaitingForScan {
                index,
                reason: format!(
                    "{}: waiting for a fresh scan before moving (the sensor restarted or stopped?)",
                    watchdog_text(reason)
                ),
            },
            PlanEvent::Watchdog { reason } => Event::Watchdog {
                reason: watchdog_text(reason),
            },
            PlanEvent::Obstacle { index, distance_m } => Event::Obstacle { index, distance_m },
            PlanEvent::StepTimeout { index, elapsed } => Event::StepTimeout {
                index,
                elapsed_s: elapsed.as_secs_f64(),
            },
        };
        Self {
            event,
            t_s: now.as_secs_f64(),
        }
    }

    /// The event for command `seq`, which no path trusted for motion understood, at `now`.
    pub fn not_understood(interp: &Interpretation, seq: u64, now: Duration) -> Self {
        Self {
            event: Event::NotUnderstood {
                command: interp.command.clone(),
                seq,
                model_text: interp.model_text.clone(),
                plan: interp.plan.as_ref().map(steps),
                reasons: interp.reasons.iter().map(ToString::to_string).collect(),
            },
            t_s: now.as_secs_f64(),
        }
    }

    /// The compact JSON published on `agent/events`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn watchdog_text(reason: WatchdogReason) -> String {
    match reason {
        WatchdogReason::StageStalled { stage } => format!("stage {stage} stalled"),
        WatchdogReason::OdometryMissing => "no odometry".into(),
        WatchdogReason::OdometryStale { age } => {
            format!("odometry {:.0} ms old", age.as_secs_f64() * 1e3)
        }
        WatchdogReason::ScanMissing => "no scan".into(),
        WatchdogReason::ScanStale { age } => format!("scan {:.0} ms old", age.as_secs_f64() * 1e3),
    }
}
