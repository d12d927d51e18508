//! Load: voice commands at 20 Hz, with the real model preempted over and over, while the
//! simulated robot runs. Bounded queues drop and count instead of growing or blocking,
//! every command is accounted for, the planner keeps its rate, and the last command's
//! plan is the one that runs. Prints the planner's jitter percentiles.
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
        schema: Some(limits.json_schema()),
        adapter: None,
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
    let (mut queued, mut rejected, mut sent) = (0u32, 0u32, 0u32);
    let mut reports = 0u32;
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
            match rig
                .input()
                .command(commands[sent as usize % commands.len()])
            {
                CommandAccepted::Queued => queued += 1,
                CommandAccepted::Rejected => rejected += 1,
                CommandAccepted::ReflexStop => unreachable!("no stop words in the load"),
                CommandAccepted::TooLong => unreachable!("the load's commands are short"),
            }
            sent += 1;
            next += Duration::from_millis(50);
        }
        rig.run_for(Duration::from_millis(5), |o, _| {
            if matches!(o, AgentOutput::Plan(_)) {
                reports += 1;
            }
        });
    }
    let last = "turn right 45 degrees";
    rig.input().command(last);
    let mut last_plan = None;
    let _ = agent.report();
    let done = rig.run_until(Instant::now() + Duration::from_secs(8), |o, _| {
        if let AgentOutput::Plan(p) = o {
            reports += 1;
            let v: serde_json::Value = serde_json::from_str(p).unwrap_or_default();
            if v["command"] == last {
                last_plan = Some(v);
            }
        }
        last_plan.is_some()
    });
    assert!(done, "no report for the last command");
    for _ in 0..3 {
        let _ = agent.report();
        rig.run_for(Duration::from_secs(1), |o, _| {
            if matches!(o, AgentOutput::Plan(_)) {
                reports += 1;
            }
        });
    }
    let report = agent.report();
    let elapsed = start.elapsed().as_secs_f64();

    // Every command was queued or rejected, and every queued one got a report (a plan,
    // superseded or preempted): nothing vanished.
    assert_eq!(queued + rejected, sent);
    let commands_q = report
        .metrics
        .queues
        .iter()
        .find(|q| q.name == "commands")
        .expect("commands queue");
    println!("{sent} commands in {secs} s: {queued} queued, {rejected} rejected; queue counters {commands_q:?}");
    assert_eq!(
        u64::from(rejected),
        commands_q.rejects,
        "rejects are counted"
    );
    assert!(
        u64::from(reports) > u64::from(queued),
        "{reports} reports for {queued} queued commands"
    );
    assert!(
        report.metrics.counter("commands_superseded").unwrap_or(0)
            + report.metrics.counter("generations_preempted").unwrap_or(0)
            > 0
    );
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
    assert!(rig.max_linear_seen <= 0.5 + 1e-9 && rig.max_angular_seen <= 1.0 + 1e-9);
    agent.stop(Duration::from_secs(10)).expect("stages stop");
}
