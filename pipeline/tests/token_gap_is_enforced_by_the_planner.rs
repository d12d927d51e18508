//! The token-gap limit is enforced from outside the language stage: a model that stops
//! producing tokens inside one long forward pass (here a double that sleeps 1.5 s after
//! two tokens, not checking anything meanwhile) gets the miss policy from the planner
//! thread, which watches the model's token pulse. The deterministic parse runs, and its
//! report (`enforced_by: planner`, limit `token_gap`) comes out before the model's own
//! late answer, which is then dropped.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bora_agent::Limits;
use bora_pipeline::{
    Agent, AgentConfig, AgentOutput, BudgetOutcome, Interpreter, LatencyBreakdown, ModelAttempt,
    PlanModel, SimLoop, SimRates,
};
use bora_rt::budget::{MissPolicy, TokenBudget};
use bora_rt::clock::{Clock, SystemClock};
use bora_rt::pulse::TokenPulse;
use bora_sim::{DriveConfig, LidarConfig, Sim, World};
use serde_json::Value;

/// Two tokens, then one forward pass that takes `stall`.
struct StallingModel {
    clock: Arc<dyn Clock>,
    pulse: TokenPulse,
    stall: Duration,
}

impl PlanModel for StallingModel {
    fn generate(
        &mut self,
        _command: &str,
        _cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> ModelAttempt {
        self.pulse.start(self.clock.now());
        for piece in ["{\"plan\":", "["] {
            std::thread::sleep(Duration::from_millis(10));
            self.pulse.token(self.clock.now());
            on_text(piece);
        }
        std::thread::sleep(self.stall);
        self.pulse.end();
        ModelAttempt {
            text: r#"{"plan":[{"action":"turn","angle_deg":90}]}"#.into(),
            budget: BudgetOutcome::Met,
            latency: LatencyBreakdown::default(),
            error: None,
        }
    }
    fn describe(&self) -> String {
        "stalling double".into()
    }
    fn budget(&self) -> TokenBudget {
        TokenBudget {
            first_token: Some(Duration::from_secs(1)),
            token_gap: Some(Duration::from_millis(100)),
            total: Some(Duration::from_secs(10)),
        }
    }
    fn use_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = clock;
    }
    fn use_token_pulse(&mut self, pulse: TokenPulse) {
        self.pulse = pulse;
    }
}

#[test]
fn a_silent_forward_pass_gets_the_miss_policy_from_the_planner() {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let model = StallingModel {
        clock: Arc::clone(&clock),
        pulse: TokenPulse::new(),
        stall: Duration::from_millis(1500),
    };
    let interpreter = Interpreter::new(
        Some(Box::new(model)),
        Limits::default(),
        MissPolicy::Fallback,
    );
    let (agent, input, outputs) =
        Agent::start(AgentConfig::default(), interpreter, clock).expect("agent starts");
    let sim = Sim::new(
        World::default_room(),
        DriveConfig::default(),
        LidarConfig::default(),
    )
    .expect("sim");
    let mut rig = SimLoop::new(sim, input, outputs, SimRates::default());
    rig.run_for(Duration::from_millis(200), |_, _| {});
    let text = "move forward half a meter";
    rig.input().command(text);
    let mut reports: Vec<Value> = Vec::new();
    let mut done = false;
    rig.run_until(Instant::now() + Duration::from_secs(15), |o, _| {
        if let AgentOutput::Plan(p) = o {
            let v: Value = serde_json::from_str(p).expect("plan JSON");
            if v["command"] == text {
                reports.push(v);
            }
        }
        done |= o.event_json().is_some_and(|e| e.contains("plan_done"));
        done && reports.len() >= 2
    });
    let first = reports.first().expect("no report for the command");
    assert_eq!(first["enforced_by"], "planner", "{first}");
    assert_eq!(first["budget"]["limit"], "token_gap", "{first}");
    assert_eq!(first["source"], "fallback", "{first}");
    assert!(
        first["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("since the last token")),
        "{first}"
    );
    // The model's own answer came later and was dropped: the parse's move ran.
    let late = reports.get(1).expect("the language stage's late answer");
    assert!(late["plan"].is_null(), "{late}");
    assert!(done, "the fallback plan never finished");
    let x = rig.pose().x;
    assert!((x - 0.5).abs() < 0.05, "ended at x = {x}");
    agent.stop(Duration::from_secs(3)).expect("stages stop");
}
