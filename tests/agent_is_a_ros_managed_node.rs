//! `bora agent -p lifecycle.managed:=true` over real ROS 2, driven by an rclpy client
//! of the standard lifecycle services (as `ros2 lifecycle set` does): it starts
//! unconfigured and refuses commands; configured and activated it moves the robot;
//! deactivated mid-move it stops the robot and refuses commands again; shut down it
//! exits 0.

use std::time::Duration;

use bora_tests::rig::Rig;
use serde_json::{json, Value};

fn lifecycle(rig: &mut Rig, transition: &str) -> anyhow::Result<()> {
    let r = rig.call(json!({"op": "lifecycle", "transition": transition, "timeout": 10.0}))?;
    anyhow::ensure!(
        r["ok"] == true,
        "lifecycle {transition} failed: {r}{}",
        rig.logs()
    );
    Ok(())
}

fn state(rig: &mut Rig) -> anyhow::Result<String> {
    let r = rig.call(json!({"op": "lifecycle_state", "timeout": 10.0}))?;
    Ok(r["label"].as_str().unwrap_or("").to_owned())
}

/// The command's report is a refusal naming the lifecycle `state`; the robot stays put.
fn assert_refused(rig: &mut Rig, state: &str) -> anyhow::Result<()> {
    let x0 = rig.pose()?["x"].as_f64().unwrap_or(f64::NAN);
    let t = rig.say("move forward half a meter")?;
    let report = rig.wait_plan_since("move forward half a meter", t, 10.0)?;
    let reason = report["reasons"][0].as_str().unwrap_or("");
    anyhow::ensure!(
        report["plan"].is_null() && reason.contains(state) && reason.contains("activate"),
        "not refused as {state}: {report}"
    );
    std::thread::sleep(Duration::from_millis(500));
    let x = rig.pose()?["x"].as_f64().unwrap_or(f64::NAN);
    anyhow::ensure!((x - x0).abs() < 0.01, "the robot moved from {x0} to {x}");
    Ok(())
}

#[test]
fn the_agent_moves_the_robot_only_while_active() -> anyhow::Result<()> {
    let mut rig = Rig::start(&[], &["model:=none", "lifecycle.managed:=true"])?;
    assert_eq!(state(&mut rig)?, "unconfigured");
    assert_refused(&mut rig, "unconfigured")?;

    lifecycle(&mut rig, "configure")?;
    assert_eq!(state(&mut rig)?, "inactive");
    assert_refused(&mut rig, "inactive")?;

    lifecycle(&mut rig, "activate")?;
    assert_eq!(state(&mut rig)?, "active");
    let t = rig.say("move forward half a meter")?;
    rig.wait_event("plan_done", t, 20.0)?;
    let pose = rig.wait_still(0.3, 10.0)?;
    let x = pose["x"].as_f64().unwrap_or(f64::NAN);
    assert!((x - 0.5).abs() < 0.05, "ended at {pose}");

    // Deactivating mid-move stops the robot.
    let t = rig.say("drive forward 3 meters")?;
    rig.wait_event("step_started", t, 10.0)?;
    std::thread::sleep(Duration::from_millis(500));
    let moving: Value = rig.pose()?;
    assert!(
        moving["vx"].as_f64().unwrap_or(0.0) > 0.05,
        "not moving: {moving}"
    );
    let x_before = moving["x"].as_f64().unwrap_or(f64::NAN);
    lifecycle(&mut rig, "deactivate")?;
    let pose = rig.wait_still(0.3, 5.0)?;
    let x = pose["x"].as_f64().unwrap_or(f64::NAN);
    // Braking from at most 0.5 m/s, plus the service round trip: well short of 3 m.
    assert!(
        x - x_before < 0.4,
        "drove on after deactivate: {x_before} -> {pose}"
    );
    assert_eq!(state(&mut rig)?, "inactive");
    assert_refused(&mut rig, "inactive")?;

    lifecycle(&mut rig, "shutdown")?;
    assert!(
        rig.wait_agent_exit(Duration::from_secs(10))?,
        "the agent did not exit 0 after shutdown{}",
        rig.logs()
    );
    Ok(())
}
