//! CPU contention (issue #9, item 5): busy threads on every core while the real model
//! interprets commands under a tight token budget, in process (agent pipeline + SimLoop).
//!
//! - Every budget miss is detected and reported (`budget.outcome = missed`, source
//!   `fallback`), seen at most one planner tick and a scheduling margin after its
//!   deadline (`over_by_us`), and the fallback plan starts within the missed limit plus
//!   that margin, measured on the agent clock from the command's hand-in to the planner's
//!   `step_started` event, and printed. A token-gap deadline runs from the last token,
//!   which this test does not see: its fallback is bounded by the total limit instead.
//!   The starved language thread alone noticed misses 0.6-1.8 s late here; the planner
//!   enforces the deadline itself (`enforced_by: planner`).
//! - A stale plan never executes: a move followed at once by a turn runs only the turn,
//!   and a move followed by "stop" never starts.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bora_agent::Limits;
use bora_llm::{LlmConfig, LlmPlanModel};
use bora_models::registry::resolve_model;
use bora_models::DeviceSpec;
use bora_pipeline::{Agent, AgentConfig, AgentOutput, Interpreter, SimLoop, SimRates};
use bora_rt::budget::{MissPolicy, TokenBudget};
use bora_rt::clock::{Clock, SystemClock};
use bora_sim::{DriveConfig, LidarConfig, Sim, World};
use serde_json::Value;

/// The budget: far below what a 135M model's prefill takes on a starved core (the
/// command's prefill took 120-145 ms there on a 2-core AMD EPYC Zen 4, 2026-12-04; with
/// 150 ms both commands sometimes met it and nothing was measured).
const FIRST_TOKEN: Duration = Duration::from_millis(40);
const TOKEN_GAP: Duration = Duration::from_millis(100);
const TOTAL: Duration = Duration::from_millis(1000);
/// The planner's tick at its default 50 Hz.
const TICK: Duration = Duration::from_millis(20);
/// Waking the planner and the language thread on a machine whose every core is busy.
const SCHEDULING: Duration = Duration::from_millis(60);

/// Spins on every core until dropped.
struct Burners {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<u64>>,
}

impl Burners {
    fn start() -> Self {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get());
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..n)
            .map(|i| {
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || {
                    let mut x = i as u64 + 1;
                    while !stop.load(Ordering::Relaxed) {
                        for _ in 0..10_000 {
                            x = std::hint::black_box(x.wrapping_mul(6364136223846793005) + 1);
                        }
                    }
                    x
                })
            })
            .collect();
        Burners { stop, threads }
    }
}

impl Drop for Burners {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[test]
fn budget_misses_under_cpu_contention_fall_back_in_time_and_stale_plans_never_run() {
    let path = resolve_model("smollm2-135m-instruct")
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"));
    let limits = Limits::default();
    let cfg = LlmConfig {
        path,
        device: DeviceSpec::Cpu,
        threads: 0,
        context: 1024,
        max_tokens: 64,
        prefill_chunk: 4,
        budget: TokenBudget {
            first_token: Some(FIRST_TOKEN),
            token_gap: Some(TOKEN_GAP),
            total: Some(TOTAL),
        },
        policy: MissPolicy::Fallback,
        limits: Some(limits.clone()),
        adapter: None,
        draft: true,
        forced_draft: false,
    };
    let model = LlmPlanModel::load(cfg).expect("model loads");
    let interpreter = Interpreter::new(Some(Box::new(model)), limits, MissPolicy::Fallback);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let (mut agent, input, outputs) =
        Agent::start(AgentConfig::default(), interpreter, Arc::clone(&clock))
            .expect("agent starts");
    let sim = Sim::new(
        World::default_room(),
        DriveConfig::default(),
        LidarConfig::default(),
    )
    .expect("sim");
    let mut rig = SimLoop::new(sim, input, outputs, SimRates::default());
    rig.run_for(Duration::from_millis(300), |_, _| {});
    let burners = Burners::start();
    rig.run_for(Duration::from_millis(200), |_, _| {});

    // 1. Misses detected; the fallback applies within the limit + detection + one tick.
    let mut misses = 0;
    for text in ["turn left 20 degrees", "turn right 20 degrees"] {
        let sent = rig.input().now();
        rig.input().command(text);
        let (mut report, mut started): (Option<Value>, Option<f64>) = (None, None);
        // The planner may start the plan before the report leaves the language stage:
        // take the first step_started after the command, and end at its plan_done.
        let ok = rig.run_until(Instant::now() + Duration::from_secs(20), |o, _| {
            match o {
                AgentOutput::Plan(p) => {
                    let v: Value = serde_json::from_str(p).unwrap_or_default();
                    // The planner's report, when it enforced the deadline, comes first;
                    // the starved language stage's late answer for it is not the outcome.
                    let planner = v["enforced_by"] == "planner";
                    if v["command"] == text && (report.is_none() || planner) {
                        report = Some(v);
                    }
                }
                AgentOutput::Event(_) | AgentOutput::PlanEvent { .. } => {
                    let v: Value = serde_json::from_str(&o.event_json().unwrap_or_default())
                        .unwrap_or_default();
                    if v["event"] == "step_started" && started.is_none() {
                        started = v["t_s"].as_f64();
                    }
                    if v["event"] != "step_started" && v["event"] != "step_finished" {
                        println!("{text:?}: {v}");
                    }
                    return v["event"] == "plan_done" && started.is_some() && report.is_some();
                }
                _ => {}
            }
            false
        });
        let report = report.unwrap_or_else(|| panic!("no report for {text:?}"));
        assert!(ok, "{text:?} did not run to the end: {report}");
        let budget = &report["budget"];
        if budget["outcome"] != "missed" {
            println!("{text:?}: the model met the budget under contention: {report}");
            continue;
        }
        misses += 1;
        assert_eq!(report["source"], "fallback", "{report}");
        assert!(report["reasons"].to_string().contains("budget"), "{report}");
        let limit = Duration::from_micros(budget["limit_us"].as_u64().unwrap_or(0));
        let over = Duration::from_micros(budget["over_by_us"].as_u64().unwrap_or(0));
        let applied = Duration::from_secs_f64(started.unwrap_or(f64::MAX) - sent.as_secs_f64());
        // A gap counts from the last token (first token in time, then a stall): the
        // whole plan's limit bounds when its fallback can start.
        let since_command = if budget["limit"] == "token_gap" {
            TOTAL
        } else {
            limit
        };
        let bound = since_command + TICK + SCHEDULING;
        println!(
            "{text:?}: {} limit {:.0} ms missed, seen {:.0} ms over by {}; fallback applied {:.0} ms after the command (bound {:.0} ms = {:.0} + tick {:.0} + scheduling {:.0})",
            budget["limit"],
            ms(limit),
            ms(over),
            report["enforced_by"].as_str().unwrap_or("the language stage"),
            ms(applied),
            ms(bound),
            ms(since_command),
            ms(TICK),
            ms(SCHEDULING)
        );
        assert!(over <= TICK + SCHEDULING, "{text:?}: seen late: {report}");
        assert!(applied <= bound, "{text:?}: {report}");
    }
    assert!(
        misses > 0,
        "no budget miss under contention: nothing measured"
    );

    // 2. A stale plan never executes: a move, then at once a turn; then a move and a stop.
    let x0 = rig.pose().x;
    rig.input().command("move forward 1 meter");
    rig.input().command("turn right 10 degrees");
    let mut moves_started = 0;
    let mut turn_done = false;
    rig.run_until(Instant::now() + Duration::from_secs(20), |o, _| {
        if let Some(e) = o.event_json() {
            let v: Value = serde_json::from_str(&e).unwrap_or_default();
            if v["event"] == "step_started" && v["action"] == "move" {
                moves_started += 1;
            }
            if v["event"] == "plan_done" {
                turn_done = true;
            }
        }
        turn_done
    });
    rig.run_for(Duration::from_millis(500), |o, _| {
        if let Some(e) = o.event_json() {
            if e.contains("\"move\"") {
                moves_started += 1;
            }
        }
    });
    assert!(turn_done, "the newer turn never finished");
    assert_eq!(moves_started, 0, "the superseded move started");
    rig.input().command("move forward 1 meter");
    rig.input().command("stop");
    rig.run_for(Duration::from_secs(2), |o, _| {
        if let Some(e) = o.event_json() {
            if e.contains("\"move\"") {
                moves_started += 1;
            }
        }
    });
    assert_eq!(moves_started, 0, "a move started after the stop");
    let moved = (rig.pose().x - x0).abs();
    assert!(moved < 0.05, "the robot moved {moved} m forward");
    drop(burners);

    let report = agent.report();
    println!(
        "counters: budget_misses {:?}, budget_misses_enforced_by_planner {:?}, fallback_plans {:?}, generations_preempted {:?}, stale_plans_dropped {:?}, watchdog_stops {:?}, planning_overruns {:?}",
        report.metrics.counter("budget_misses"),
        report.metrics.counter("budget_misses_enforced_by_planner"),
        report.metrics.counter("fallback_plans"),
        report.metrics.counter("generations_preempted"),
        report.metrics.counter("stale_plans_dropped"),
        report.metrics.counter("watchdog_stops"),
        report.metrics.counter("planning_overruns"),
    );
    let counted = report.metrics.counter("budget_misses").unwrap_or(0)
        + report
            .metrics
            .counter("budget_misses_enforced_by_planner")
            .unwrap_or(0);
    assert!(counted >= misses, "{counted} misses counted, {misses} seen");
    assert!(rig.max_linear_seen <= 0.5 + 1e-9 && rig.max_angular_seen <= 1.0 + 1e-9);
    agent.stop(Duration::from_secs(10)).expect("stages stop");
}
