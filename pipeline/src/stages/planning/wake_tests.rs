//! A plan does not wait for the planner's next tick: on the agent's real threads and the
//! real clock, with a planner period of 1 s, a command's first motion command goes out
//! long before that second is up (the language stage wakes the planning loop), and the
//! extra step is not counted as a planning overrun; a reflex stop wakes it the same way.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Agent, AgentConfig, AgentOutput, CommandAccepted, Interpreter, SimLoop, SimRates};
use bora_agent::Limits;
use bora_rt::budget::MissPolicy;
use bora_rt::clock::{Clock, SystemClock};
use bora_rt::metrics::Quantity;
use bora_sim::{DriveConfig, LidarConfig, Sim, World};

/// The planner's period: long, so that waiting for a tick would show.
const PERIOD: Duration = Duration::from_secs(1);
/// Generous for a loaded 2-core machine: the point is "well before the tick", not a
/// latency figure (unloaded, the wait is the fallback parse plus a thread wake-up).
const BOUND: Duration = Duration::from_millis(500);

/// The agent (parser only, planner period [`PERIOD`]) on the real clock, fed by the
/// simulated robot.
fn start() -> (Agent, SimLoop) {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let interpreter = Interpreter::new(None, Limits::default(), MissPolicy::Fallback);
    let mut config = AgentConfig::default();
    config.planner.rate_hz = 1.0 / PERIOD.as_secs_f64();
    let (agent, input, outputs) = Agent::start(config, interpreter, clock).expect("agent starts");
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

#[test]
fn a_plan_moves_the_robot_long_before_the_next_planner_tick() {
    let (mut agent, mut rig) = start();
    // Tick 0 ran at start; the next is about 1 s after it. Sensors flow meanwhile.
    rig.run_for(Duration::from_millis(300), |_, _| {});
    let sent = Instant::now();
    assert_eq!(
        rig.input().command("move forward one meter"),
        CommandAccepted::Queued
    );
    let mut first = None;
    rig.run_until(sent + 2 * PERIOD, |o, _| {
        if matches!(o, AgentOutput::CmdVel(_)) {
            first = Some(sent.elapsed());
        }
        first.is_some()
    });
    let first = first.expect("no cmd_vel within two planner periods");
    rig.run_for(Duration::from_millis(50), |_, _| {});
    let report = agent.report().metrics;
    if let Some(t) = report.latency(Quantity::QueueTransit, "plans") {
        println!(
            "first cmd_vel {first:?} after the command; plans transit p50 {} µs",
            t.p50_us
        );
    }
    assert!(first < BOUND, "first cmd_vel {first:?} after the command");
    assert_eq!(report.counter("planning_overruns"), Some(0));
    agent.stop(3 * PERIOD).expect("stages stop");
}

#[test]
fn a_reflex_stop_halts_the_robot_long_before_the_next_planner_tick() {
    let (agent, mut rig) = start();
    rig.run_for(Duration::from_millis(300), |_, _| {});
    rig.input().command("move forward one meter");
    let mut moving = false;
    rig.run_until(Instant::now() + 2 * PERIOD, |o, _| {
        moving |= matches!(o, AgentOutput::CmdVel(t) if t.linear_x != 0.0);
        moving
    });
    assert!(moving, "the robot never moved");
    let sent = Instant::now();
    assert_eq!(rig.input().command("stop"), CommandAccepted::ReflexStop);
    let mut halted = None;
    rig.run_until(sent + 2 * PERIOD, |o, _| {
        if matches!(o, AgentOutput::CmdVel(t) if t.linear_x == 0.0 && t.angular_z == 0.0) {
            halted = Some(sent.elapsed());
        }
        halted.is_some()
    });
    let halted = halted.expect("no zero cmd_vel within two planner periods");
    println!("zero cmd_vel {halted:?} after the stop");
    assert!(halted < BOUND, "zero cmd_vel {halted:?} after the stop");
    agent.stop(3 * PERIOD).expect("stages stop");
}
