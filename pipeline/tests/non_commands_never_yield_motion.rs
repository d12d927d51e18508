//! Issue #20: a sentence nobody understood never moves the robot.
//!
//! The non-commands of `tests/data/non_commands.txt` (questions, chit-chat, thanks,
//! system-prompt requests, injections) against the worst model there is for them: a
//! double that answers every command with a valid 1 m drive, the plan SmolLM2-135M
//! produced for "thank you". The deterministic parser must not read motion into any of
//! them, the interpreter must drop the model's motion as "not understood", and the
//! running agent must publish a `not_understood` event and no motion for each, while a
//! command the parser understands still moves the robot. The real model goes through the
//! same sentences in nodes/tests/non_commands_get_no_motion_from_bora_intent.rs and over
//! ROS in tests/non_commands_never_move_the_robot_over_ros.rs.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bora_agent::{parse_command, Limits};
use bora_pipeline::{
    Agent, AgentConfig, AgentOutput, BudgetOutcome, Interpreter, LatencyBreakdown, ModelAttempt,
    PlanModel, SimLoop, SimRates, Source,
};
use bora_rt::budget::MissPolicy;
use bora_rt::clock::{Clock, SystemClock};
use bora_sim::{DriveConfig, LidarConfig, Sim, World};
use serde_json::Value;

/// A model that proposes a 1 m drive for anything.
struct AlwaysDrive;

impl PlanModel for AlwaysDrive {
    fn generate(
        &mut self,
        _: &str,
        _: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> ModelAttempt {
        let text = r#"{"plan":[{"action":"move","distance_m":1.0}]}"#;
        on_text(text);
        ModelAttempt {
            text: text.into(),
            budget: BudgetOutcome::Met,
            latency: LatencyBreakdown::default(),
            error: None,
        }
    }
    fn describe(&self) -> String {
        "always drives 1 m".into()
    }
}

#[test]
fn the_parser_reads_no_motion_into_any_non_command() {
    let limits = Limits::default();
    for s in bora_testkit::non_commands() {
        if let Ok(plan) = parse_command(&s, &limits) {
            assert!(
                !plan.has_motion(),
                "parser moves the robot for {s:?}: {plan:?}"
            );
        }
    }
}

#[test]
fn an_always_driving_model_gets_no_motion_for_any_non_command() {
    let mut interp = Interpreter::new(
        Some(Box::new(AlwaysDrive)),
        Limits::default(),
        MissPolicy::Fallback,
    );
    let cancel = Arc::new(AtomicBool::new(false));
    for s in bora_testkit::non_commands() {
        let out = interp.interpret(&s, &cancel, &mut |_| {});
        assert!(out.plan.is_none(), "{s:?} -> {:?}", out.plan);
        assert_eq!(out.source, Source::None, "{s:?}");
        assert!(!out.understood, "{s:?}");
        assert!(
            out.reasons
                .iter()
                .any(bora_pipeline::Reason::is_not_understood),
            "{s:?}: {:?}",
            out.reasons
        );
    }
    // The same model on a command the parser understands: its plan agrees, so it runs.
    let out = interp.interpret("move forward one meter", &cancel, &mut |_| {});
    assert_eq!((out.source, out.understood), (Source::Model, true));
    assert!(out.plan.is_some_and(|p| p.has_motion()));
}

#[test]
fn the_running_agent_reports_each_non_command_and_never_moves_the_simulated_robot() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let interpreter = Interpreter::new(
        Some(Box::new(AlwaysDrive)),
        Limits::default(),
        MissPolicy::Fallback,
    );
    let (mut agent, input, outputs) =
        Agent::start(AgentConfig::default(), interpreter, clock).expect("agent starts");
    let sim = Sim::new(
        World::default_room(),
        DriveConfig::default(),
        LidarConfig::default(),
    )
    .expect("sim");
    let mut rig = SimLoop::new(sim, input, outputs, SimRates::default());
    rig.run_for(Duration::from_millis(200), |_, _| {});
    let sentences = bora_testkit::non_commands();
    let (mut events, mut plans) = (Vec::new(), Vec::new());
    for s in &sentences {
        rig.input().command(s);
        // One at a time, so no sentence preempts another: wait for its report.
        let got = rig.run_until(Instant::now() + Duration::from_secs(10), |out, _| {
            match out {
                AgentOutput::Event(e) if e.contains("not_understood") => {
                    events.push(serde_json::from_str::<Value>(e).expect("event JSON"));
                }
                AgentOutput::Plan(p) => {
                    plans.push(serde_json::from_str::<Value>(p).expect("plan JSON"));
                    return true;
                }
                _ => {}
            }
            false
        });
        assert!(got, "no agent/plan report for {s:?}");
    }
    // Planner ticks in which a wrongly accepted plan would have started.
    rig.run_for(Duration::from_millis(300), |_, _| {});
    let (pose, top_speed) = (rig.pose(), rig.max_linear_seen.max(rig.max_angular_seen));
    assert_eq!(top_speed, 0.0, "motion commanded; robot at {pose:?}");
    assert_eq!(plans.len(), sentences.len());
    for (p, s) in plans.iter().zip(&sentences) {
        assert_eq!(p["command"], s.as_str());
        assert!(p["plan"].is_null(), "{p}");
        assert_eq!(p["understood"], false, "{p}");
        // The model drove, the parser found no command: only the model decided.
        assert_eq!(p["agreement"], "model_only", "{p}");
    }
    let reported: Vec<&str> = events
        .iter()
        .filter_map(|e| e["command"].as_str())
        .collect();
    let expected: Vec<&str> = sentences.iter().map(String::as_str).collect();
    assert_eq!(reported, expected, "one not_understood event per sentence");

    // Control: the same rig and model move the robot for a command the parser understands.
    rig.input().command("move forward half a meter");
    let done = rig.run_until(Instant::now() + Duration::from_secs(15), |o, _| {
        o.event_json().is_some_and(|e| e.contains("plan_done"))
    });
    let pose = rig.pose();
    assert!(done && (pose.x - 0.5).abs() < 0.03, "ended at {pose:?}");
    // Diagnostics count the comparisons: every sentence model-only, the control (1 m
    // proposed for half a meter) a disagreement the parser settled.
    let metrics = agent.report().metrics;
    let count = |name: &str| metrics.counter(name);
    assert_eq!(count("model_only_decided"), Some(sentences.len() as u64));
    assert_eq!(count("model_parser_disagreed"), Some(1));
    assert_eq!(count("model_parser_agreed"), Some(0));
    agent.stop(Duration::from_secs(5)).expect("agent stops");
}
