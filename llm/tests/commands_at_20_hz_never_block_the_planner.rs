//! Load: voice commands at 20 Hz, with the real model preempted over and over, while the
//! simulated robot runs. Bounded queues drop and count instead of growing or blocking,
//! every queued command gets exactly one report and no rejected one gets any, the model's
//! generations are preempted (counted, and reported as such), the planner keeps its rate
//! and its jitter within a bound stated in ticks, and the last command's plan is the one
//! that runs.
//!
//! `BORA_LOAD_SECS` sets the duration (default 20 s in CI; the 60 s by hand).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bora_agent::Limits;
use bora_llm::{LlmConfig, LlmPlanModel};
use bora_models::registry::resolve_model;
use bora_models::DeviceSpec;
use bora_pipeline::{
    Agent, AgentConfig, AgentOutput, CommandAccepted, Interpreter, SimLoop, SimRates,
};
use bora_rt::budget::{MissPolicy, TokenBudget};
use bora_rt::clock::{Clock, SystemClock};
use bora_rt::metrics::Quantity;
use bora_sim::{DriveConfig, LidarConfig, Sim, World};
use serde_json::Value;

/// The planner's period (50 Hz), µs.
const TICK_US: f64 = 20_000.0;
/// Model generations cut off by a newer command, per second of load. Measured 4.9-7.9 a
/// second (98-157 in 20 s, four runs) on a shared 2-core Xeon: most prefills outlast the
/// 50 ms between commands.
const MIN_CUT_PER_SEC: f64 = 2.0;
/// Planner jitter bounds, in ticks. Measured on a shared 2-core Xeon with the model
/// generating on both cores (four runs, one beside a busy loop): p50 76-88 us, p99
/// 4.0-9.7 ms, max 51-206 ms. A planner that waited on the language stage (a prefill is
/// 100-400 ms here) on more than one tick in a hundred would trip the p99 bound; the max
/// is printed, not bounded: the OS sometimes starves the planner thread that long.
const MAX_P50_TICKS: f64 = 0.25;
const MAX_P99_TICKS: f64 = 1.0;

/// Every report on agent/plan, parsed, collected from the outputs.
#[derive(Default)]
struct Reports(Vec<Value>);

impl Reports {
    fn take(&mut self, o: &AgentOutput) -> Option<&Value> {
        let AgentOutput::Plan(p) = o else { return None };
        self.0
            .push(serde_json::from_str(p).expect("plan reports are JSON"));
        self.0.last()
    }

    /// How many reports name command `seq`, and whether the planner enforced one of them.
    fn for_seq(&self, seq: u64) -> (usize, bool) {
        let of: Vec<&Value> = self.0.iter().filter(|r| r["seq"] == seq).collect();
        let enforced = of.iter().any(|r| r["enforced_by"] == "planner");
        (of.len(), enforced)
    }

    /// Reports of a command a newer one preempted (mid-generation or its plan dropped).
    fn preempted(&self) -> usize {
        self.0
            .iter()
            .filter(|r| {
                r["reasons"]
                    .to_string()
                    .contains("preempted by a newer command")
            })
            .count()
    }

    /// Reports whose model generation was cut off by a newer command.
    fn cut_mid_generation(&self) -> usize {
        self.0
            .iter()
            .filter(|r| r["budget"]["outcome"] == "preempted")
            .count()
    }
}

/// 20 commands a second for `BORA_LOAD_SECS` into a queue of 4, the real model
/// interpreting: see the module doc for what is checked.
#[test]
fn twenty_commands_a_second_are_bounded_counted_and_never_stall_the_planner() {
    let secs: u64 = std::env::var("BORA_LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let path = resolve_model("smollm2-135m-instruct")
        .unwrap_or_else(|e| panic!("{e} (run scripts/setup.sh)"));
    let limits = Limits::default();
    let budget = TokenBudget {
        first_token: Some(Duration::from_secs(2)),
        token_gap: Some(Duration::from_millis(500)),
        total: Some(Duration::from_secs(6)),
    };
    let cfg = LlmConfig {
        path,
        device: DeviceSpec::Cpu,
        threads: 0,
        context: 1024,
        max_tokens: 64,
        prefill_chunk: 16,
        budget,
        policy: MissPolicy::Fallback,
        limits: Some(limits.clone()),
        adapter: None,
        draft: true,
        forced_draft: false,
    };
    let model = LlmPlanModel::load(cfg).expect("model loads");
    let interpreter = Interpreter::new(Some(Box::new(model)), limits, MissPolicy::Fallback);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let config = AgentConfig {
        command_queue_capacity: 4,
        ..AgentConfig::default()
    };
    let (mut agent, input, outputs) =
        Agent::start(config, interpreter, clock).expect("agent starts");
    let sim = Sim::new(
        World::default_room(),
        DriveConfig::default(),
        LidarConfig::default(),
    )
    .expect("sim");
    let mut rig = SimLoop::new(sim, input, outputs, SimRates::default());
    rig.run_for(Duration::from_millis(300), |_, _| {});

    // Alternate small turns so the robot stays in the room whatever gets through.
    let commands = [
        "turn left 10 degrees",
        "turn right 10 degrees",
        "wait 1 second",
        "move forward 5 centimeters",
    ];
    // What became of each command sent: its sequence number is its index + 1 (the agent
    // numbers every command it is handed, and only this test hands it any).
    let mut accepted: Vec<CommandAccepted> = Vec::new();
    let mut reports = Reports::default();
    let start = Instant::now();
    let mut next = start;
    let mut next_collect = start;
    while start.elapsed() < Duration::from_secs(secs) {
        // Collect the stages' histograms once a second, as the node's diagnostics do
        // (a recorder keeps only a couple of unpublished seconds).
        if Instant::now() >= next_collect {
            let _ = agent.report();
            next_collect += Duration::from_secs(1);
        }
        if Instant::now() >= next {
            let text = commands[accepted.len() % commands.len()];
            accepted.push(rig.input().command(text));
            next += Duration::from_millis(50);
        }
        rig.run_for(Duration::from_millis(5), |o, _| {
            reports.take(o);
        });
    }
    let last = "turn right 45 degrees";
    accepted.push(rig.input().command(last));
    let mut last_plan = None;
    let _ = agent.report();
    let done = rig.run_until(Instant::now() + Duration::from_secs(8), |o, _| {
        if let Some(v) = reports.take(o) {
            if v["command"] == last {
                last_plan = Some(v.clone());
            }
        }
        last_plan.is_some()
    });
    assert!(done, "no report for the last command");
    for _ in 0..3 {
        let _ = agent.report();
        rig.run_for(Duration::from_secs(1), |o, _| {
            reports.take(o);
        });
    }
    let report = agent.report();
    let elapsed = start.elapsed().as_secs_f64();

    // Every queued command got exactly one report (a plan, superseded or preempted; a
    // second only when the planner enforced the budget), every rejected one none.
    let count = |a: CommandAccepted| accepted.iter().filter(|x| **x == a).count();
    let (queued, rejected, sent) = (
        count(CommandAccepted::Queued),
        count(CommandAccepted::Rejected),
        accepted.len(),
    );
    let commands_q = report
        .metrics
        .queues
        .iter()
        .find(|q| q.name == "commands")
        .expect("commands queue");
    println!("{sent} commands in {secs} s: {queued} queued, {rejected} rejected; queue counters {commands_q:?}");
    for (i, a) in accepted.iter().enumerate() {
        let seq = i as u64 + 1;
        let (n, enforced) = reports.for_seq(seq);
        match a {
            CommandAccepted::Queued => assert!(
                n == 1 || (n == 2 && enforced),
                "command {seq} ({a:?}) has {n} reports"
            ),
            CommandAccepted::Rejected => assert_eq!(n, 0, "rejected command {seq} was reported"),
            other => panic!("command {seq}: {other:?} (no stop words, all short)"),
        }
    }
    // Whether the queue fills depends on how fast the language stage drains it (it takes
    // the newest and supersedes the rest): on an idle machine it never fills, so that is
    // printed, not asserted; what is asserted is that rejects are exactly the ones counted.
    println!("{rejected} commands rejected by the full queue");
    assert_eq!(rejected as u64, commands_q.rejects, "rejects are counted");
    // The real model ran and was cut off mid-generation, over and over; preemptions are
    // reported and counted alike.
    let (preempted, cut) = (reports.preempted(), reports.cut_mid_generation());
    let counted = report.metrics.counter("generations_preempted").unwrap_or(0);
    println!("{preempted} commands preempted, {cut} of them mid-generation (counter {counted})");
    assert!(
        cut as f64 >= MIN_CUT_PER_SEC * secs as f64,
        "only {cut} generations of the model were cut off by a newer command in {secs} s"
    );
    assert_eq!(counted, preempted as u64, "preemptions counted vs reported");
    // The newest command wins.
    let plan = last_plan.expect("last plan");
    assert_eq!(
        plan["plan"],
        serde_json::json!([{"action": "turn", "angle_deg": -45.0}]),
        "{plan}"
    );

    // The planner kept its 50 Hz through it all.
    let jitter = report
        .metrics
        .latency(Quantity::LoopJitter, "planning")
        .expect("planner jitter recorded");
    println!(
        "planner: {} ticks in {elapsed:.1} s; jitter p50 {:.0} us, p99 {:.0} us, max {:.0} us; overruns {:?}",
        jitter.count,
        jitter.p50_us,
        jitter.p99_us,
        jitter.max_us,
        report.metrics.counter("planning_overruns")
    );
    assert!(
        jitter.count as f64 >= 0.8 * 50.0 * elapsed,
        "planner ran {} ticks in {elapsed:.1} s",
        jitter.count
    );
    assert!(
        jitter.p50_us <= MAX_P50_TICKS * TICK_US && jitter.p99_us <= MAX_P99_TICKS * TICK_US,
        "planner jitter p50 {:.0} us, p99 {:.0} us: over {MAX_P50_TICKS} / {MAX_P99_TICKS} ticks",
        jitter.p50_us,
        jitter.p99_us
    );
    assert!(rig.max_linear_seen <= 0.5 + 1e-9 && rig.max_angular_seen <= 1.0 + 1e-9);
    agent.stop(Duration::from_secs(10)).expect("stages stop");
}
