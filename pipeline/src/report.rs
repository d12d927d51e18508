//! The JSON the agent publishes besides full interpretations: reflex stops, commands
//! superseded before they were interpreted, commands not understood, and planner events.

use std::time::Duration;

use serde_json::json;

use crate::interpret::Interpretation;
use bora_agent::{PlanEvent, WatchdogReason};

/// `agent/plan` JSON for a reflex stop (the model was bypassed).
pub fn reflex_json(command: &str, seq: u64) -> String {
    json!({
        "plan": [{"action": "stop"}],
        "source": "reflex",
        "command": command,
        "seq": seq,
        "reasons": [],
    })
    .to_string()
}

/// `agent/plan` JSON for a command that a newer one replaced before it was interpreted.
pub fn superseded_json(command: &str, seq: u64) -> String {
    json!({
        "plan": null,
        "source": "none",
        "command": command,
        "seq": seq,
        "reasons": ["superseded by a newer command before interpretation"],
    })
    .to_string()
}

/// `agent/plan` JSON for a command refused before interpretation (e.g. bytes that are
/// not text): no plan, and `reason`.
pub fn rejected_json(command: &str, seq: u64, reason: &str) -> String {
    json!({
        "plan": null,
        "source": "none",
        "command": command,
        "seq": seq,
        "reasons": [reason],
    })
    .to_string()
}

/// `agent/events` JSON for a command that no path trusted for motion understood, at
/// `now` (agent clock): whatever the model proposed, the robot does not move for it.
/// `plan` is what still runs (say or wait steps), or null.
pub fn not_understood_json(interp: &Interpretation, seq: u64, now: Duration) -> String {
    let plan = interp.to_json()["plan"].take();
    json!({
        "event": "not_understood",
        "command": interp.command,
        "seq": seq,
        "model_text": interp.model_text,
        "plan": plan,
        "reasons": interp.reasons,
        "t_s": now.as_secs_f64(),
    })
    .to_string()
}

/// `agent/plan`-side JSON for a planner event at `now` (agent clock).
pub fn event_json(event: &PlanEvent, now: Duration) -> String {
    let t = now.as_secs_f64();
    match *event {
        PlanEvent::StepStarted { index, action } => json!({"event": "step_started", "index": index, "action": action.name(), "t_s": t}),
        PlanEvent::StepFinished { index } => json!({"event": "step_finished", "index": index, "t_s": t}),
        PlanEvent::PlanDone { steps } => json!({"event": "plan_done", "steps": steps, "t_s": t}),
        PlanEvent::Stopped => json!({"event": "stopped", "t_s": t}),
        PlanEvent::Watchdog { reason } => json!({"event": "watchdog", "reason": watchdog_text(reason), "t_s": t}),
        PlanEvent::Obstacle { index, distance_m } => json!({"event": "obstacle", "index": index, "distance_m": distance_m, "t_s": t}),
        PlanEvent::StepTimeout { index, elapsed } => json!({"event": "step_timeout", "index": index, "elapsed_s": elapsed.as_secs_f64(), "t_s": t}),
    }
    .to_string()
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
