//! Every kind of `agent/plan` and `agent/events` message the running pipeline publishes
//! is valid against its JSON Schema file (nodes/schema/plan.schema.json,
//! event.schema.json), and reads back into the same typed report. The pipeline runs on
//! its real threads and clock, closing the loop through the in-process simulator; a slow
//! model double stands in for the language model where a budget must be missed.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bora_agent::Limits;
use bora_pipeline::{
    Agent, AgentConfig, AgentOutput, BudgetOutcome, EventReport, Interpreter, LatencyBreakdown,
    ModelAttempt, PlanModel, PlanReport, SimLoop, SimRates,
};
use bora_rt::budget::{MissPolicy, TokenBudget};
use bora_rt::clock::{Clock, SystemClock};
use bora_sim::{DriveConfig, LidarConfig, Sim, World};
use serde_json::Value;

const PLAN_ID: &str = "https://bora.invalid/schema/plan.schema.json";

fn schema(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("schema file in the repository");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn validators() -> (jsonschema::Validator, jsonschema::Validator) {
    let plan = jsonschema::validator_for(&schema("plan.schema.json")).expect("plan schema");
    let resource = jsonschema::Resource::from_contents(schema("plan.schema.json")).expect("res");
    let event = jsonschema::options()
        .with_resource(PLAN_ID, resource)
        .build(&schema("event.schema.json"))
        .expect("event schema");
    (plan, event)
}

/// Streams one dot per `per_token` and answers "thank you" with a plan that would drive
/// 1 m; never trusted (declares no accuracy).
struct SlowModel {
    per_token: Duration,
    tokens: u32,
    budget: TokenBudget,
}

impl PlanModel for SlowModel {
    fn generate(
        &mut self,
        _: &str,
        cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> ModelAttempt {
        for _ in 0..self.tokens {
            if cancel.load(Ordering::SeqCst) {
                return attempt(String::new(), BudgetOutcome::Preempted);
            }
            std::thread::sleep(self.per_token);
            on_text(".");
        }
        attempt(
            r#"{"plan":[{"action":"move","distance_m":1.0}]}"#.into(),
            BudgetOutcome::Met,
        )
    }
    fn describe(&self) -> String {
        "slow double".into()
    }
    fn budget(&self) -> TokenBudget {
        self.budget
    }
}

fn attempt(text: String, budget: BudgetOutcome) -> ModelAttempt {
    ModelAttempt {
        text,
        budget,
        latency: LatencyBreakdown::default(),
        error: None,
    }
}

fn start(model: Option<Box<dyn PlanModel>>) -> (Agent, SimLoop) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let interpreter = Interpreter::new(model, Limits::default(), MissPolicy::Fallback);
    let (agent, input, outputs) =
        Agent::start(AgentConfig::default(), interpreter, clock).expect("agent starts");
    let sim = Sim::new(
        World::default_room(),
        DriveConfig::default(),
        LidarConfig::default(),
    )
    .expect("sim");
    (
        agent,
        SimLoop::new(sim, input, outputs, SimRates::default()),
    )
}

/// Checks one output against its schema and its typed round trip; returns its kind.
fn check(
    out: &AgentOutput,
    plan: &jsonschema::Validator,
    event: &jsonschema::Validator,
) -> Option<String> {
    let (json, validator, is_plan) = match out {
        AgentOutput::Plan(j) => (j.clone(), plan, true),
        _ => (out.event_json()?, event, false),
    };
    let json = json.as_str();
    let v: Value = serde_json::from_str(json).expect("published JSON parses");
    let errors: Vec<String> = validator
        .iter_errors(&v)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{json}: {errors:#?}");
    let again = if is_plan {
        serde_json::to_value(serde_json::from_str::<PlanReport>(json).expect("reads as PlanReport"))
    } else {
        serde_json::to_value(
            serde_json::from_str::<EventReport>(json).expect("reads as EventReport"),
        )
    };
    assert_eq!(
        again.expect("serialises"),
        v,
        "typed round trip changed {json}"
    );
    let kind = if is_plan {
        let enforced = v.get("enforced_by").is_some();
        format!(
            "plan:{}{}",
            v["source"].as_str().unwrap_or("?"),
            if enforced { ":enforced" } else { "" }
        )
    } else {
        format!("event:{}", v["event"].as_str().unwrap_or("?"))
    };
    Some(kind)
}

#[test]
fn every_published_report_is_schema_valid_and_round_trips() {
    let (plan_v, event_v) = validators();
    let mut kinds = BTreeSet::new();
    let collect = |rig: &mut SimLoop, d: Duration| {
        let mut seen = Vec::new();
        rig.run_for(d, |o, _| seen.extend(check(o, &plan_v, &event_v)));
        seen
    };
    // Runs until a report of `kind` is published (at most 15 s: a loaded machine).
    let until = |rig: &mut SimLoop, kinds: &mut BTreeSet<String>, kind: &str| {
        let end = Instant::now() + Duration::from_secs(15);
        while !kinds.contains(kind) && Instant::now() < end {
            kinds.extend(collect(rig, Duration::from_millis(100)));
        }
    };

    // The parser alone: a plan that runs to the end, an unparsable command, a refused
    // one, a reflex stop in the middle of a move, two commands where the first is
    // superseded before interpretation.
    let (agent, mut rig) = start(None);
    collect(&mut rig, Duration::from_millis(200));
    rig.input().command("turn left then say done");
    until(&mut rig, &mut kinds, "event:plan_done");
    rig.input().command("sing me a song");
    rig.input().reject("\u{fffd}", "command is not UTF-8");
    rig.input().command("move forward two meters");
    kinds.extend(collect(&mut rig, Duration::from_millis(600)));
    rig.input().command("stop");
    until(&mut rig, &mut kinds, "event:stopped");
    rig.input().command("turn right");
    rig.input().command("move back half a meter");
    kinds.extend(collect(&mut rig, Duration::from_secs(3)));
    agent.stop(Duration::from_secs(2)).expect("stages stop");

    // A model too slow for its first-token budget: the planner enforces it; then a
    // model answer nobody trusted for motion.
    let slow = SlowModel {
        per_token: Duration::from_millis(30),
        tokens: 20,
        budget: TokenBudget {
            first_token: Some(Duration::from_millis(5)),
            ..TokenBudget::UNLIMITED
        },
    };
    let (agent, mut rig) = start(Some(Box::new(slow)));
    collect(&mut rig, Duration::from_millis(200));
    rig.input().command("move forward one meter");
    until(&mut rig, &mut kinds, "plan:fallback:enforced");
    agent.stop(Duration::from_secs(2)).expect("stages stop");
    let quick = SlowModel {
        per_token: Duration::from_millis(1),
        tokens: 3,
        budget: TokenBudget::UNLIMITED,
    };
    let (agent, mut rig) = start(Some(Box::new(quick)));
    collect(&mut rig, Duration::from_millis(200));
    rig.input().command("thank you");
    until(&mut rig, &mut kinds, "event:not_understood");
    agent.stop(Duration::from_secs(2)).expect("stages stop");

    for kind in [
        "plan:fallback",
        "plan:none",
        "plan:reflex",
        "plan:fallback:enforced",
        "event:step_started",
        "event:step_finished",
        "event:plan_done",
        "event:stopped",
        "event:not_understood",
    ] {
        assert!(
            kinds.contains(kind),
            "no {kind} report was published; saw {kinds:?}"
        );
    }
}
