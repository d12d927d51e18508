//! Unit tests of the planner that need its private state.

use super::*;

#[test]
fn huge_configured_wait_does_not_overflow_the_clock() {
    use crate::intent::{Limits, Plan};
    let limits = Limits {
        max_wait_s: 1e300,
        ..Limits::default()
    }
    .check()
    .unwrap();
    let plan = limits
        .validate(Plan::new(vec![Step::Wait { seconds: 1e300 }]).unwrap())
        .unwrap();
    let mut p = Planner::new(PlannerConfig::default()).unwrap();
    let now = Duration::from_secs(5);
    p.set_plan(plan, now);
    let world = WorldState {
        odom_stamp: Some(now),
        ..WorldState::default()
    };
    let out = p.step(&world, now, None);
    assert_eq!(out.twist, Some(Twist::ZERO));
    assert!(p.step(&world, now, None).twist.is_some(), "still waiting");
    assert!(p.is_active());
}

#[test]
fn idle_planner_sends_nothing_and_stop_sends_one_zero() {
    let mut p = Planner::new(PlannerConfig::default()).unwrap();
    let world = WorldState::default();
    assert_eq!(
        p.step(&world, Duration::ZERO, None),
        PlannerOutput::default()
    );
    p.stop(Duration::from_millis(10));
    let out = p.step(&world, Duration::from_millis(20), None);
    assert_eq!(out.twist, Some(Twist::ZERO));
    assert_eq!(out.event, Some(PlanEvent::Stopped));
    assert_eq!(p.step(&world, Duration::from_millis(40), None).twist, None);
}
