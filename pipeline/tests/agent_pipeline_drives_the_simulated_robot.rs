//! The agent pipeline on its real threads, with real clocks, closing the loop through
//! the in-process simulator: a command becomes motion that ends where it should; a new
//! command preempts the one being interpreted so its plan never runs; a reflex stop
//! halts the robot within a planner tick; a stalled language stage trips the watchdog.
//! (The language model itself is exercised in the model tests; here a test double or
//! the fallback parser stands in for it.)

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bora_agent::Limits;
use bora_pipeline::{
    Agent, AgentConfig, AgentOutput, BudgetOutcome, CommandAccepted, Interpreter, LatencyBreakdown,
    ModelAttempt, PlanModel, SimLoop, SimRates,
};
use bora_rt::budget::MissPolicy;
use bora_rt::clock::{Clock, SystemClock};
use bora_sim::{DriveConfig, LidarConfig, Sim, World};

/// The planner's period (50 Hz, the default).
const PLANNER_TICK: Duration = Duration::from_millis(20);
/// Scheduling delay allowed on top of the planner's own timing: this test's thread polls
/// the outputs every millisecond, and on a shared 2-core machine it may wake late.
const SCHEDULING_SLACK: Duration = Duration::from_millis(30);

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

fn plan_json(out: &AgentOutput) -> Option<serde_json::Value> {
    match out {
        AgentOutput::Plan(s) => serde_json::from_str(s).ok(),
        _ => None,
    }
}

fn is_plan_done(out: &AgentOutput) -> bool {
    out.event_json().is_some_and(|e| e.contains("plan_done"))
}

#[test]
fn move_forward_one_meter_ends_at_one_meter() {
    let (agent, mut rig) = start(None);
    rig.run_for(Duration::from_millis(200), |_, _| {});
    assert_eq!(
        rig.input().command("move forward one meter"),
        CommandAccepted::Queued
    );
    let done = rig.run_until(Instant::now() + Duration::from_secs(15), |o, _| {
        is_plan_done(o)
    });
    rig.run_for(Duration::from_millis(200), |_, _| {});
    let pose = rig.pose();
    assert!(done, "plan did not finish; pose {pose:?}");
    assert!(
        (pose.x - 1.0).abs() < 0.03 && pose.y.abs() < 0.03,
        "ended at {pose:?}"
    );
    let limits = bora_agent::PlannerConfig::default();
    assert!(
        rig.max_linear_seen <= limits.max_linear_speed_mps + 1e-9,
        "cmd_vel over the speed limit: {}",
        rig.max_linear_seen
    );
    agent.stop(Duration::from_secs(2)).expect("stages stop");
}

/// A model double that takes its time, checking the cancel flag like the real one.
struct SlowModel {
    per_token: Duration,
    tokens: u32,
    text: String,
}

impl PlanModel for SlowModel {
    fn generate(
        &mut self,
        _command: &str,
        cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> ModelAttempt {
        for _ in 0..self.tokens {
            if cancel.load(Ordering::SeqCst) {
                return ModelAttempt {
                    text: String::new(),
                    budget: BudgetOutcome::Preempted,
                    latency: LatencyBreakdown::default(),
                    error: None,
                };
            }
            std::thread::sleep(self.per_token);
            on_text(".");
        }
        ModelAttempt {
            text: self.text.clone(),
            budget: BudgetOutcome::Met,
            latency: LatencyBreakdown::default(),
            error: None,
        }
    }
    fn describe(&self) -> String {
        "slow double".into()
    }
}

#[test]
fn a_new_command_preempts_the_one_being_interpreted() {
    // Every interpretation takes ~1 s and yields "move 2 m"; the second command's
    // plan must be the only one that runs.
    let model = SlowModel {
        per_token: Duration::from_millis(20),
        tokens: 50,
        text: r#"{"plan":[{"action":"turn","angle_deg":90}]}"#.into(),
    };
    let (agent, mut rig) = start(Some(Box::new(model)));
    rig.run_for(Duration::from_millis(200), |_, _| {});
    rig.input().command("move forward two meters");
    rig.run_for(Duration::from_millis(300), |_, _| {});
    rig.input().command("turn left");
    let mut plans = Vec::new();
    let done = rig.run_until(Instant::now() + Duration::from_secs(15), |o, _| {
        if let Some(p) = plan_json(o) {
            plans.push(p);
        }
        is_plan_done(o)
    });
    assert!(done, "no plan finished; plans seen: {plans:?}");
    assert_eq!(plans.len(), 2, "{plans:?}");
    assert!(
        plans[0]["plan"].is_null(),
        "first command should be preempted: {}",
        plans[0]
    );
    assert!(
        plans[0]["reasons"].to_string().contains("preempted"),
        "{}",
        plans[0]
    );
    assert_eq!(plans[1]["source"], "model");
    let pose = rig.pose();
    assert!(
        pose.x.abs() < 0.01 && pose.y.abs() < 0.01,
        "the preempted plan moved the robot: {pose:?}"
    );
    assert!(
        (pose.yaw.to_degrees() - 90.0).abs() < 2.0,
        "yaw {}",
        pose.yaw.to_degrees()
    );
    agent.stop(Duration::from_secs(3)).expect("stages stop");
}

/// A reflex stop during a move: the planner's next tick sends the zero twist (at most
/// the one non-zero twist of a tick already under way comes before it), and it reaches
/// the simulator within one planner tick plus [`SCHEDULING_SLACK`]; the robot stays put.
#[test]
fn reflex_stop_halts_a_move_within_a_planner_tick() {
    let (mut agent, mut rig) = start(None);
    rig.run_for(Duration::from_millis(200), |_, _| {});
    rig.input().command("drive forward 3 meters");
    // Wait until the robot is moving.
    let moving = rig.run_until(
        Instant::now() + Duration::from_secs(10),
        |o, _| matches!(o, AgentOutput::CmdVel(t) if t.linear_x > 0.1),
    );
    assert!(moving, "robot never started moving");
    let sent = Instant::now();
    assert_eq!(rig.input().command("STOP!"), CommandAccepted::ReflexStop);
    // The zero twist and the reflex's plan report come from two threads (the woken
    // planner and the language stage), in either order: wait for both.
    let mut reflex_reported = false;
    let mut moving_twists = 0;
    let mut stopped_at = None;
    rig.run_until(Instant::now() + Duration::from_secs(2), |o, _| {
        if plan_json(o).is_some_and(|p| p["source"] == "reflex") {
            reflex_reported = true;
        }
        let zero = matches!(o, AgentOutput::CmdVel(t) if t.linear_x == 0.0 && t.angular_z == 0.0);
        if stopped_at.is_none() {
            moving_twists += usize::from(matches!(o, AgentOutput::CmdVel(_)) && !zero);
            if zero {
                stopped_at = Some(Instant::now());
            }
        }
        stopped_at.is_some() && reflex_reported
    });
    let Some(stopped_at) = stopped_at else {
        panic!("no zero cmd_vel after the stop");
    };
    let latency = stopped_at - sent;
    assert!(
        reflex_reported,
        "the stop was not reported as a reflex on agent/plan"
    );
    assert!(
        moving_twists <= 1,
        "{moving_twists} non-zero twists after the stop: it waited for more than a tick"
    );
    // Measured 19-21 ms (the stop lands just after a tick) on a shared 2-core Xeon.
    assert!(
        latency <= PLANNER_TICK + SCHEDULING_SLACK,
        "zero cmd_vel took {latency:?}: over one tick ({PLANNER_TICK:?}) + {SCHEDULING_SLACK:?}"
    );
    let x_at_stop = rig.pose().x;
    rig.run_for(Duration::from_millis(500), |o, _| {
        if let AgentOutput::CmdVel(t) = o {
            assert!(t.linear_x == 0.0, "moving again after the stop: {t:?}");
        }
    });
    assert!(rig.pose().x < 3.0 && (rig.pose().x - x_at_stop).abs() < 0.1);
    let report = agent.report();
    let l = report
        .metrics
        .latency(
            bora_rt::metrics::Quantity::CommandToAction,
            "command_to_first_cmd_vel",
        )
        .expect("recorded");
    assert!(
        l.count >= 2,
        "command to first cmd_vel recorded for the move and the stop: {l:?}"
    );
    agent.stop(Duration::from_secs(2)).expect("stages stop");
}

/// A language stage that stops beating its heartbeat makes the planner send a zero twist
/// and a watchdog event naming the stage: not before `stage_stall_after` (2 s, the
/// default) less a tick, and within a tick plus [`SCHEDULING_SLACK`] after it.
#[test]
fn stalled_language_stage_trips_the_planner_watchdog() {
    let (agent, mut rig) = start(None);
    rig.run_for(Duration::from_millis(200), |_, _| {});
    rig.input().command("move forward 3 meters");
    let moving = rig.run_until(
        Instant::now() + Duration::from_secs(10),
        |o, _| matches!(o, AgentOutput::CmdVel(t) if t.linear_x > 0.1),
    );
    assert!(moving);
    rig.input().inject_language_stall(Duration::from_secs(5));
    let injected = Instant::now();
    // The planner emits the zero twist and the watchdog event in the same tick.
    let mut last_twist = None;
    let zero = rig.run_until(Instant::now() + Duration::from_secs(5), |o, _| {
        if let AgentOutput::CmdVel(t) = o {
            last_twist = Some(*t);
        }
        o.event_json()
            .is_some_and(|e| e.contains("watchdog") && e.contains("language"))
            && last_twist.is_some_and(|t| t.linear_x == 0.0 && t.angular_z == 0.0)
    });
    assert!(zero, "no watchdog stop after the language stage stalled");
    // Measured 2019-2021 ms on a shared 2-core Xeon.
    let after = injected.elapsed();
    let stall_after = AgentConfig::default().stage_stall_after;
    assert!(
        after + PLANNER_TICK >= stall_after,
        "watchdog after {after:?}: before the stall limit {stall_after:?}"
    );
    assert!(
        after <= stall_after + PLANNER_TICK + SCHEDULING_SLACK,
        "watchdog after {after:?}: over {stall_after:?} + one tick + {SCHEDULING_SLACK:?}"
    );
    assert!(rig.pose().x < 3.0);
    agent.stop(Duration::from_secs(6)).ok();
}
