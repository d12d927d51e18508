//! After warm-up, a command, its plan and every planner tick that drives the robot
//! through the plan (twists and typed events) cross the pipeline without touching the
//! allocator, counted on this thread by bora-testkit's counting allocator. Interpreting
//! the text (the parser, the `agent/plan` report JSON) is the one part of the path that
//! allocates; its count is printed here, not hidden.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::tests::stage;
use super::{PlanningStage, Watches};
use crate::interpret::Interpreter;
use crate::output::AgentOutput;
use crate::stages::language::LanguageStage;
use crate::stages::tests::links;
use crate::stages::{CommandMsg, Links};
use bora_agent::{Limits, PlanEvent, Pose2D, Twist, WorldState};
use bora_rt::budget::MissPolicy;
use bora_rt::clock::ManualClock;
use bora_rt::liveness::Heartbeat;
use bora_rt::metrics::Metrics;
use bora_rt::slot::{latest_slot, SlotWriter};
use bora_testkit::allocations_in;

const PERIOD: Duration = Duration::from_millis(20);

/// A point robot on a line: it moves by the twists it is sent.
#[derive(Default)]
struct Robot {
    t: Duration,
    x: f64,
    twist: Twist,
}

/// What the planner did for one command.
#[derive(Default)]
struct Run {
    moving_ticks: u32,
    done: bool,
}

/// Ticks the planner until its plan is done (20 s at most), feeding the robot's pose back
/// as fresh odometry and scans and draining every output without keeping it.
fn drive(
    (planning, watches): (&mut PlanningStage, &mut Watches),
    links: &Links,
    world: &mut SlotWriter<WorldState>,
    robot: &mut Robot,
) -> Run {
    let mut run = Run::default();
    for _ in 0..1000 {
        robot.t += PERIOD;
        world.write(WorldState {
            pose: Pose2D {
                x: robot.x,
                y: 0.0,
                yaw: 0.0,
            },
            velocity: robot.twist,
            odom_stamp: Some(robot.t),
            scan_stamp: Some(robot.t),
            ..WorldState::default()
        });
        planning.tick(watches, robot.t);
        while let Some(out) = links.outputs.pop() {
            match out {
                AgentOutput::CmdVel(twist) => {
                    robot.twist = twist;
                    robot.x += twist.linear_x * PERIOD.as_secs_f64();
                    run.moving_ticks += u32::from(twist.linear_x > 0.0);
                }
                AgentOutput::PlanEvent {
                    event: PlanEvent::PlanDone { .. },
                    ..
                } => run.done = true,
                _ => {}
            }
        }
        if run.done {
            break;
        }
    }
    run
}

#[test]
fn a_command_its_plan_and_the_twists_do_not_allocate_after_warm_up() {
    let links = links();
    let mut world = latest_slot("world", WorldState::default(), 1).expect("slot");
    let (mut planning, mut watches) = stage(&links, &world);
    let interpreter = Interpreter::new(None, Limits::default(), MissPolicy::Fallback);
    let clock = Arc::new(ManualClock::new());
    let mut language =
        LanguageStage::new(interpreter, links.clone(), clock, &mut Metrics::new()).expect("stage");
    let beat = Heartbeat::new();
    let mut robot = Robot::default();
    // Round 1 warms up (recorders, spare buffers); rounds 2 and 3 are counted.
    for seq in 1..=3u64 {
        let mut queued = false;
        let command = allocations_in(|| {
            let msg = CommandMsg::new(seq, "move forward half a meter", robot.t).expect("short");
            links.shared.latest_seq.store(seq, Ordering::SeqCst);
            queued = links.commands.push(msg).is_queued();
        });
        assert!(queued, "command {seq} was not queued");
        let interpret = allocations_in(|| assert!(language.step(&beat), "no command to read"));
        let x0 = robot.x;
        let mut run = Run::default();
        let ticks = allocations_in(|| {
            run = drive(
                (&mut planning, &mut watches),
                &links,
                &mut world,
                &mut robot,
            );
        });
        assert!(run.done, "round {seq}: the plan never finished");
        assert!(run.moving_ticks > 10, "round {seq}: the robot hardly moved");
        assert!(
            (robot.x - x0 - 0.5).abs() < 0.05,
            "round {seq}: moved {}",
            robot.x - x0
        );
        println!(
            "round {seq}: command -> queue {command} allocations, interpretation (parser and \
             agent/plan report) {interpret}, plan -> {} moving ticks and events {ticks}",
            run.moving_ticks
        );
        // The counter is live in this binary: it sees the parser's allocations.
        assert!(interpret > 0, "the counting allocator saw nothing");
        if seq > 1 {
            assert_eq!(command, 0, "queueing a command allocated");
            assert_eq!(ticks, 0, "the planner's ticks allocated");
        }
    }
}
