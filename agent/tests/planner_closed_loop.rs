//! The planner in closed loop against a kinematic differential-drive robot at 50 Hz:
//! moves and turns end within tolerance, obstacles stop a move before contact, the
//! watchdog zeroes the velocity on stale odometry or a stalled stage, a stop halts within
//! one tick, and every command stays within the speed and acceleration limits.

use std::time::Duration;

use bora_agent::{
    Limits, Plan, PlanEvent, Planner, PlannerConfig, PlannerOutput, Pose2D, Step, Twist,
    WatchdogReason, WorldState,
};

const TICK: Duration = Duration::from_millis(20);

/// A perfect kinematic diff-drive robot in front of an optional wall at `x = wall_x`
/// (perpendicular to the x axis), seen by a laser with a ±20 deg cone ahead and behind.
struct Sim {
    planner: Planner,
    pose: Pose2D,
    velocity: Twist,
    now: Duration,
    wall_x: Option<f64>,
    /// Odometry stops updating after this time (a dead odometry source).
    odom_frozen_after: Option<Duration>,
    /// The robot does not move (stuck wheels), whatever it is told.
    stuck: bool,
    /// Commands slower than this (m/s or rad/s) do not move the robot (static friction).
    deadband: f64,
    outputs: Vec<PlannerOutput>,
}

impl Sim {
    fn new(config: PlannerConfig) -> Self {
        Sim {
            planner: Planner::new(config).unwrap(),
            pose: Pose2D::default(),
            velocity: Twist::ZERO,
            now: Duration::from_secs(1),
            wall_x: None,
            odom_frozen_after: None,
            stuck: false,
            deadband: 0.0,
            outputs: Vec::new(),
        }
    }

    fn plan(&mut self, steps: Vec<Step>) {
        let plan = Limits::default()
            .validate(Plan::new(steps).unwrap())
            .unwrap();
        self.planner.set_plan(plan, self.now);
    }

    /// Distance along `heading` to the wall, if the wall is inside the ±20 deg cone.
    fn wall_distance(&self, heading: f64) -> Option<f32> {
        let wall = self.wall_x?;
        let c = heading.cos();
        if c.abs() < 20f64.to_radians().cos() {
            return None;
        }
        let d = (wall - self.pose.x) / c;
        (d > 0.0).then_some(d as f32)
    }

    fn world(&self) -> WorldState {
        let odom_stamp = match self.odom_frozen_after {
            Some(t) if self.now > t => t,
            _ => self.now,
        };
        WorldState {
            pose: self.pose,
            velocity: self.velocity,
            nearest_obstacle_ahead: self.wall_distance(self.pose.yaw),
            nearest_obstacle_behind: self.wall_distance(self.pose.yaw + std::f64::consts::PI),
            odom_stamp: Some(odom_stamp),
            scan_stamp: Some(self.now),
        }
    }

    fn tick_with(&mut self, stalled: Option<&'static str>, dt: Duration) -> PlannerOutput {
        let out = self.planner.step(&self.world(), self.now, stalled);
        if let Some(twist) = out.twist {
            let friction = |v: f64| if v.abs() < self.deadband { 0.0 } else { v };
            self.velocity = if self.stuck {
                Twist::ZERO
            } else {
                Twist {
                    linear_x: friction(twist.linear_x),
                    angular_z: friction(twist.angular_z),
                }
            };
        }
        let h = dt.as_secs_f64();
        let yaw_mid = self.pose.yaw + self.velocity.angular_z * h / 2.0;
        self.pose.x += self.velocity.linear_x * yaw_mid.cos() * h;
        self.pose.y += self.velocity.linear_x * yaw_mid.sin() * h;
        self.pose.yaw += self.velocity.angular_z * h;
        self.now += dt;
        self.outputs.push(out.clone());
        out
    }

    fn tick(&mut self) -> PlannerOutput {
        self.tick_with(None, TICK)
    }

    /// Ticks until the planner goes idle; returns the final event.
    fn run(&mut self, max_ticks: usize) -> PlanEvent {
        for _ in 0..max_ticks {
            let out = self.tick();
            if !self.planner.is_active() {
                assert_eq!(
                    out.twist,
                    Some(Twist::ZERO),
                    "the last command must be zero"
                );
                let event = out.event.expect("the final tick reports why it ended");
                let idle = self.tick();
                assert_eq!(idle.twist, None, "idle planner must not command");
                return event;
            }
        }
        panic!("plan did not finish within {max_ticks} ticks");
    }

    fn events(&self) -> Vec<PlanEvent> {
        self.outputs.iter().filter_map(|o| o.event).collect()
    }
}

fn deg(rad: f64) -> f64 {
    rad.to_degrees()
}

#[test]
fn one_meter_move_ends_within_two_centimeters() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.plan(vec![Step::Move { distance_m: 1.0 }]);
    assert_eq!(sim.run(1000), PlanEvent::PlanDone { steps: 1 });
    assert!((sim.pose.x - 1.0).abs() < 0.02, "x = {}", sim.pose.x);
    // It aims at the target itself, not the edge of the tolerance band.
    assert!((sim.pose.x - 1.0).abs() < 0.002, "x = {}", sim.pose.x);
    assert!(sim.pose.y.abs() < 1e-9 && sim.pose.yaw.abs() < 1e-9);
    // Ideal time: 1 s up, 1 s at 0.5 m/s, 1 s down; allow for the gentle slow-down.
    let secs = sim.outputs.len() as f64 * TICK.as_secs_f64();
    assert!(secs < 4.5, "took {secs} s");
}

#[test]
fn ninety_degree_turn_ends_within_two_degrees() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.pose.yaw = 3.0; // start near the wrap point to exercise unwrapping
    sim.plan(vec![Step::Turn { angle_deg: 90.0 }]);
    assert_eq!(sim.run(1000), PlanEvent::PlanDone { steps: 1 });
    let turned = deg(sim.pose.yaw - 3.0);
    assert!((turned - 90.0).abs() < 2.0, "turned {turned} deg");
    assert!(sim.pose.x.abs() < 1e-9, "a turn is in place");
}

#[test]
fn right_turn_of_270_degrees_goes_clockwise() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.plan(vec![Step::Turn { angle_deg: -270.0 }]);
    sim.run(2000);
    assert!(
        (deg(sim.pose.yaw) + 270.0).abs() < 2.0,
        "yaw {}",
        deg(sim.pose.yaw)
    );
    assert!(sim
        .outputs
        .iter()
        .filter_map(|o| o.twist)
        .all(|t| t.angular_z <= 0.0));
}

#[test]
fn backwards_move_ends_within_two_centimeters() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.plan(vec![Step::Move { distance_m: -0.5 }]);
    sim.run(1000);
    assert!((sim.pose.x + 0.5).abs() < 0.02, "x = {}", sim.pose.x);
    assert!(sim
        .outputs
        .iter()
        .filter_map(|o| o.twist)
        .all(|t| t.linear_x <= 0.0));
}

#[test]
fn obstacle_stops_a_move_before_contact() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.wall_x = Some(0.6);
    sim.plan(vec![
        Step::Move { distance_m: 2.0 },
        Step::say("arrived").unwrap(),
    ]);
    let end = sim.run(1000);
    let PlanEvent::Obstacle { index, distance_m } = end else {
        panic!("expected an obstacle stop, got {end:?}");
    };
    assert_eq!(index, 0);
    assert!(distance_m <= 0.3, "reported {distance_m} m");
    let gap = 0.6 - sim.pose.x;
    assert!(gap > 0.25, "stopped {gap} m from the wall");
    assert!(
        sim.outputs.iter().all(|o| o.say.is_none()),
        "the rest of the plan is dropped"
    );
}

#[test]
fn wall_behind_stops_a_backwards_move() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.wall_x = Some(-0.8);
    sim.plan(vec![Step::Move { distance_m: -2.0 }]);
    let end = sim.run(1000);
    assert!(
        matches!(end, PlanEvent::Obstacle { index: 0, .. }),
        "{end:?}"
    );
    let gap = sim.pose.x + 0.8;
    assert!(
        gap > 0.25 && gap < 0.35,
        "stopped {gap} m from the wall behind"
    );
}

#[test]
fn stale_odometry_trips_the_watchdog_to_zero() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.plan(vec![Step::Move { distance_m: 3.0 }]);
    for _ in 0..50 {
        assert!(sim.tick().twist.is_some_and(|t| t.linear_x > 0.0));
    }
    sim.odom_frozen_after = Some(sim.now);
    let mut ticks = 0;
    let end = loop {
        ticks += 1;
        let out = sim.tick();
        if !sim.planner.is_active() {
            assert_eq!(out.twist, Some(Twist::ZERO));
            break out.event;
        }
        assert!(ticks < 100);
    };
    // The first tick is at the freeze instant (age 0); with a 0.2 s limit at 20 ms ticks
    // the 12th sees an age of 0.22 s and trips.
    assert_eq!(ticks, 12, "took {ticks} ticks");
    assert!(matches!(
        end,
        Some(PlanEvent::Watchdog {
            reason: WatchdogReason::OdometryStale { age }
        }) if age > Duration::from_millis(200)
    ));
    assert_eq!(sim.tick().twist, None);
}

#[test]
fn missing_odometry_never_moves() {
    let mut planner = Planner::new(PlannerConfig::default()).unwrap();
    let plan = Limits::default()
        .validate(Plan::new(vec![Step::Move { distance_m: 1.0 }]).unwrap())
        .unwrap();
    planner.set_plan(plan, Duration::ZERO);
    let out = planner.step(&WorldState::default(), Duration::from_millis(20), None);
    assert_eq!(out.twist, Some(Twist::ZERO));
    assert_eq!(
        out.event,
        Some(PlanEvent::Watchdog {
            reason: WatchdogReason::OdometryMissing
        })
    );
}

#[test]
fn stalled_stage_trips_the_watchdog_in_one_tick() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.plan(vec![Step::Turn { angle_deg: 180.0 }]);
    for _ in 0..20 {
        sim.tick();
    }
    let out = sim.tick_with(Some("perception"), TICK);
    assert_eq!(out.twist, Some(Twist::ZERO));
    assert_eq!(
        out.event,
        Some(PlanEvent::Watchdog {
            reason: WatchdogReason::StageStalled {
                stage: "perception"
            }
        })
    );
    assert!(!sim.planner.is_active());
}

#[test]
fn stale_scan_blocks_moves_but_not_turns() {
    let mut sim = Sim::new(PlannerConfig {
        scan_wait_s: 0.0,
        ..PlannerConfig::default()
    });
    let mut world = sim.world();
    world.scan_stamp = Some(sim.now - Duration::from_millis(900));
    sim.plan(vec![Step::Move { distance_m: 1.0 }]);
    let out = sim.planner.step(&world, sim.now, None);
    assert!(matches!(
        out.event,
        Some(PlanEvent::Watchdog {
            reason: WatchdogReason::ScanStale { .. }
        })
    ));
    sim.plan(vec![Step::Turn { angle_deg: 90.0 }]);
    let out = sim.planner.step(&world, sim.now + TICK, None);
    assert!(out.twist.is_some_and(|t| t.angular_z > 0.0), "{out:?}");
}

#[test]
fn a_move_waits_for_a_fresh_scan_then_drives_or_is_refused() {
    // The scan is 900 ms old (max_scan_age_s 0.5): the move stands and says why once.
    let mut sim = Sim::new(PlannerConfig::default());
    let stale_since = sim.now - Duration::from_millis(900);
    sim.plan(vec![Step::Move { distance_m: 0.5 }]);
    let mut events = Vec::new();
    for _ in 0..50 {
        let mut world = sim.world();
        world.scan_stamp = Some(stale_since);
        let out = sim.planner.step(&world, sim.now, None);
        assert_eq!(out.twist, Some(Twist::ZERO), "moved without a fresh scan");
        events.extend(out.event);
        sim.now += TICK;
    }
    assert!(matches!(events[0], PlanEvent::StepStarted { index: 0, .. }));
    assert!(
        matches!(
            events[1..],
            [PlanEvent::WaitingForScan {
                index: 0,
                reason: WatchdogReason::ScanStale { .. }
            }]
        ),
        "{events:?}"
    );
    // A fresh scan arrives (1 s later, within scan_wait_s): the move runs to the end.
    assert_eq!(sim.run(500), PlanEvent::PlanDone { steps: 1 });
    assert!((sim.pose.x - 0.5).abs() < 0.02, "{:?}", sim.pose);

    // No scan ever comes back: refused after scan_wait_s, never having moved.
    let mut sim = Sim::new(PlannerConfig {
        scan_wait_s: 0.5,
        ..PlannerConfig::default()
    });
    sim.plan(vec![Step::Move { distance_m: 0.5 }]);
    let start = sim.now;
    let end = loop {
        let mut world = sim.world();
        world.scan_stamp = None;
        let out = sim.planner.step(&world, sim.now, None);
        assert_eq!(out.twist, Some(Twist::ZERO));
        sim.now += TICK;
        if !sim.planner.is_active() {
            break out.event;
        }
        assert!(sim.now - start < Duration::from_secs(2), "still waiting");
    };
    assert_eq!(
        end,
        Some(PlanEvent::Watchdog {
            reason: WatchdogReason::ScanMissing
        })
    );
    let waited = sim.now - start;
    assert!(waited >= Duration::from_millis(500) && waited < Duration::from_millis(600));
}

#[test]
fn stop_halts_within_one_tick() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.plan(vec![Step::Move { distance_m: 5.0 }]);
    for _ in 0..100 {
        sim.tick();
    }
    assert!(sim.velocity.linear_x > 0.4);
    sim.planner.stop(sim.now);
    let out = sim.tick();
    assert_eq!(out.twist, Some(Twist::ZERO));
    assert_eq!(out.event, Some(PlanEvent::Stopped));
    assert_eq!(sim.tick().twist, None);
}

#[test]
fn sequence_move_turn_move_ends_at_the_right_pose() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.plan(vec![
        Step::Move { distance_m: 1.0 },
        Step::Turn { angle_deg: 90.0 },
        Step::Move { distance_m: 1.0 },
    ]);
    assert_eq!(sim.run(3000), PlanEvent::PlanDone { steps: 3 });
    assert!((sim.pose.x - 1.0).abs() < 0.04, "x = {}", sim.pose.x);
    assert!((sim.pose.y - 1.0).abs() < 0.03, "y = {}", sim.pose.y);
    assert!((deg(sim.pose.yaw) - 90.0).abs() < 2.0);
    let events = sim.events();
    let started: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            PlanEvent::StepStarted { index, .. } => Some(*index),
            _ => None,
        })
        .collect();
    assert_eq!(started, [0, 1, 2]);
    assert!(events.contains(&PlanEvent::StepFinished { index: 1 }));
}

#[test]
fn wait_and_say_steps() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.plan(vec![
        Step::say("waiting").unwrap(),
        Step::Wait { seconds: 1.0 },
        Step::Stop {},
    ]);
    let start = sim.now;
    assert_eq!(sim.run(500), PlanEvent::PlanDone { steps: 3 });
    let says: Vec<&str> = sim
        .outputs
        .iter()
        .filter_map(|o| o.say.as_deref())
        .collect();
    assert_eq!(says, ["waiting"]);
    let elapsed = sim.now - start;
    assert!(elapsed >= Duration::from_secs(1) && elapsed < Duration::from_millis(1200));
    assert!(sim
        .outputs
        .iter()
        .filter_map(|o| o.twist)
        .all(|t| t.is_zero()));
    assert_eq!(sim.pose, Pose2D::default());
}

#[test]
fn robot_too_sticky_to_creep_still_arrives_within_tolerance() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.deadband = 0.06; // above both creep speeds
    sim.plan(vec![
        Step::Move { distance_m: 1.0 },
        Step::Turn { angle_deg: -90.0 },
    ]);
    assert_eq!(sim.run(2000), PlanEvent::PlanDone { steps: 2 });
    assert!((sim.pose.x - 1.0).abs() <= 0.01, "x = {}", sim.pose.x);
    assert!(
        (deg(sim.pose.yaw) + 90.0).abs() <= 1.0,
        "yaw = {}",
        deg(sim.pose.yaw)
    );
}

#[test]
fn stuck_robot_times_out() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.stuck = true;
    sim.plan(vec![Step::Move { distance_m: 1.0 }]);
    let end = sim.run(2000);
    assert!(
        matches!(end, PlanEvent::StepTimeout { index: 0, .. }),
        "{end:?}"
    );
}

#[test]
fn preemption_ramps_from_the_current_speed() {
    let mut sim = Sim::new(PlannerConfig::default());
    sim.plan(vec![Step::Move { distance_m: 5.0 }]);
    for _ in 0..100 {
        sim.tick();
    }
    let v = sim.velocity.linear_x;
    sim.plan(vec![Step::Turn { angle_deg: 90.0 }]);
    let out = sim.tick();
    let t = out.twist.unwrap();
    assert!(
        (t.linear_x - (v - 0.5 * 0.02)).abs() < 1e-9,
        "{t:?} after {v}"
    );
    assert!(matches!(
        out.event,
        Some(PlanEvent::StepStarted { index: 0, .. })
    ));
    sim.run(1000);
    assert!((deg(sim.pose.yaw) - 90.0).abs() < 2.0);
}

/// A small deterministic PRNG (xorshift64*), so the property test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
}

fn random_step(rng: &mut Rng) -> Step {
    match rng.next() % 5 {
        0 | 1 => Step::Move {
            distance_m: rng.range(-5.0, 5.0),
        },
        2 => Step::Turn {
            angle_deg: rng.range(-360.0, 360.0),
        },
        3 => Step::Wait {
            seconds: rng.range(0.0, 0.5),
        },
        _ => Step::Stop {},
    }
}

#[test]
fn every_command_stays_within_limits_over_random_plans() {
    let config = PlannerConfig::default();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut ends = [0usize; 2];
    for _ in 0..150 {
        let mut sim = Sim::new(config.clone());
        sim.wall_x = (rng.unit() < 0.4).then(|| rng.range(0.2, 4.0));
        let steps: Vec<Step> = (0..1 + rng.next() % 8)
            .map(|_| random_step(&mut rng))
            .collect();
        let turns = steps.iter().any(|s| matches!(s, Step::Turn { .. }));
        sim.plan(steps);
        let mut last = Twist::ZERO;
        // The planner measures its time step from the previous call (the first is nominal).
        let mut planner_dt = 0.02;
        let mut ended = false;
        for _ in 0..20_000 {
            // Jittered ticks: 10 to 40 ms.
            let dt = Duration::from_micros(10_000 + rng.next() % 30_000);
            let out = sim.tick_with(None, dt);
            let Some(t) = out.twist else {
                assert!(ended, "no command while active");
                break;
            };
            assert!(
                t.linear_x.abs() <= config.max_linear_speed_mps + 1e-12,
                "{t:?}"
            );
            assert!(
                t.angular_z.abs() <= config.max_angular_speed_radps + 1e-12,
                "{t:?}"
            );
            if !t.is_zero() {
                let dv = (t.linear_x - last.linear_x).abs();
                let dw = (t.angular_z - last.angular_z).abs();
                assert!(
                    dv <= config.max_linear_accel_mps2 * planner_dt + 1e-9,
                    "dv {dv}"
                );
                assert!(
                    dw <= config.max_angular_accel_radps2 * planner_dt + 1e-9,
                    "dw {dw}"
                );
            }
            last = t;
            planner_dt = dt.as_secs_f64();
            if !sim.planner.is_active() {
                ended = true;
                match out.event {
                    Some(PlanEvent::PlanDone { .. }) => ends[0] += 1,
                    Some(PlanEvent::Obstacle { .. }) => ends[1] += 1,
                    other => panic!("unexpected end {other:?}"),
                }
            }
        }
        assert!(ended, "plan never ended");
        // With no turns the wall stays square to the heading, inside the laser's cone.
        if let (Some(wall), false) = (sim.wall_x, turns) {
            assert!(
                sim.pose.x < wall - 0.2,
                "too close to the wall at {wall}: x = {}",
                sim.pose.x
            );
        }
    }
    assert!(
        ends[0] > 30 && ends[1] > 5,
        "too few of each ending: {ends:?}"
    );
}
