//! The cost of the agent's per-message operations: one planner tick, one perception
//! update from a 360-beam scan, the reflex-stop check, and a fallback parse of a typical
//! command (the fallback runs only on a budget miss; the others run on hot paths).

use std::hint::black_box;
use std::time::Duration;

use bora_agent::{
    is_reflex_stop, parse_command, LaserScan, Limits, Perception, PerceptionConfig, Plan, Planner,
    PlannerConfig, Step, WorldState,
};
use criterion::{criterion_group, criterion_main, Criterion};

const COMMAND: &str = "move forward one meter then turn left and wait two seconds";

fn agent(c: &mut Criterion) {
    c.bench_function("agent/reflex_check", |b| {
        b.iter(|| is_reflex_stop(black_box(COMMAND)))
    });
    let limits = Limits::default();
    c.bench_function("agent/fallback_parse", |b| {
        b.iter(|| parse_command(black_box(COMMAND), &limits))
    });
    let scan = LaserScan {
        angle_min: -std::f32::consts::PI,
        angle_increment: 1f32.to_radians(),
        range_min: 0.1,
        range_max: 10.0,
        ranges: (0..360).map(|i| 1.0 + (i % 17) as f32 * 0.3).collect(),
        stamp: Duration::ZERO,
    };
    let mut perception = Perception::new(PerceptionConfig::default()).expect("config");
    c.bench_function("agent/perception_scan_360", |b| {
        b.iter(|| perception.update_scan(black_box(&scan)))
    });
    // A 5 m move never finishes in the benchmark (the pose does not change), so every
    // iteration is a full control tick: watchdog, progress, profile, limits.
    let mut planner = Planner::new(PlannerConfig::default()).expect("config");
    let plan = limits
        .validate(Plan::new(vec![Step::Move { distance_m: 5.0 }]).unwrap())
        .expect("valid plan");
    planner.set_plan(plan, Duration::ZERO);
    let mut now = Duration::ZERO;
    c.bench_function("agent/planner_tick", |b| {
        b.iter(|| {
            now += Duration::from_micros(1);
            let world = WorldState {
                odom_stamp: Some(now),
                scan_stamp: Some(now),
                nearest_obstacle_ahead: Some(3.0),
                ..WorldState::default()
            };
            planner.step(black_box(&world), now, None)
        })
    });
}

// criterion_group! generates an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, agent);
}
criterion_main!(group::benches);
