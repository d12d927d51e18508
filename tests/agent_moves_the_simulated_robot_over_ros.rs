//! End to end over real ROS 2: `bora sim` and `bora agent` as separate processes, an
//! rclpy peer speaking commands on voice_command and reading /odom and /cmd_vel.
//!
//! The scenarios run one at a time (a lock below): each starts its own processes in its
//! own ROS domain, and timing-sensitive ones must not compete for the 2 CI cores.

use std::sync::Mutex;
use std::time::Duration;

use bora_tests::rig::Rig;

static SERIAL: Mutex<()> = Mutex::new(());

/// The agent's default limits (launch/params/cpu.yaml uses the same).
const MAX_LINEAR: f64 = 0.5;
const MAX_ANGULAR: f64 = 1.0;
/// Planner tick (50 Hz) and sim step (100 Hz), s.
const PLANNER_TICK: f64 = 0.02;
const SIM_STEP: f64 = 0.01;

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn assert_within_limits(rig: &mut Rig) -> anyhow::Result<()> {
    let log = rig.cmd_vel_log(0.0)?;
    assert!(!log.is_empty(), "no cmd_vel observed");
    for (t, v, w) in &log {
        assert!(
            v.is_finite() && w.is_finite(),
            "non-finite cmd_vel at {t}: {v} {w}"
        );
        assert!(
            v.abs() <= MAX_LINEAR + 1e-9,
            "linear.x {v} over the limit {MAX_LINEAR} at {t}"
        );
        assert!(
            w.abs() <= MAX_ANGULAR + 1e-9,
            "angular.z {w} over the limit {MAX_ANGULAR} at {t}"
        );
    }
    Ok(())
}

/// Waits until the robot moves forward faster than `speed` m/s; returns the peer time.
fn wait_moving(rig: &mut Rig, since: f64, speed: f64) -> anyhow::Result<f64> {
    for _ in 0..300 {
        if let Some(o) = rig.odom_log(since)?.iter().find(|o| o[4] > speed) {
            return Ok(o[0]);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("the robot never reached {speed} m/s{}", rig.logs())
}

/// The agent ran the real model for a report (its budget outcome is met, missed or
/// preempted; `not_run` is the degraded, parser-only mode a missing or broken model file
/// leaves it in); the plan is the model's or, where they disagree, the parser's.
fn assert_model_ran(report: &serde_json::Value) {
    let outcome = &report["budget"]["outcome"];
    assert!(
        ["met", "missed", "preempted"].iter().any(|o| outcome == o),
        "the model did not run (degraded?): {report}"
    );
    assert!(
        report["source"] == "model" || report["source"] == "fallback",
        "{report}"
    );
}

/// With the real model loaded (the test fails if the agent runs degraded), spoken "move
/// forward one meter" and "turn left" run through the model first, plan one step each,
/// and the simulated robot ends within 5 cm and 3 degrees of the commanded pose, never
/// over the speed limits.
#[test]
fn spoken_move_and_turn_end_at_the_commanded_pose_with_the_real_model() -> anyhow::Result<()> {
    let _g = serial();
    let mut rig = Rig::start(&[], &[])?;
    let t = rig.say("move forward one meter")?;
    let plan = rig.wait_plan("move forward one meter", 60.0)?;
    assert_model_ran(&plan);
    assert_eq!(
        plan["plan"],
        serde_json::json!([{"action": "move", "distance_m": 1.0}]),
        "{plan}"
    );
    rig.wait_event("plan_done", t, 30.0)?;
    let pose = rig.wait_still(0.5, 30.0)?;
    let (x, y) = (
        pose["x"].as_f64().unwrap_or(f64::NAN),
        pose["y"].as_f64().unwrap_or(f64::NAN),
    );
    assert!(
        ((x - 1.0).powi(2) + y.powi(2)).sqrt() < 0.05,
        "ended at ({x}, {y}), not within 5 cm of (1, 0)"
    );

    let t = rig.say("turn left")?;
    let plan = rig.wait_plan("turn left", 60.0)?;
    assert_model_ran(&plan);
    assert_eq!(
        plan["plan"],
        serde_json::json!([{"action": "turn", "angle_deg": 90.0}]),
        "{plan}"
    );
    rig.wait_event("plan_done", t, 30.0)?;
    let pose = rig.wait_still(0.5, 30.0)?;
    let yaw = pose["yaw"].as_f64().unwrap_or(f64::NAN).to_degrees();
    assert!(
        (yaw - 90.0).abs() < 3.0,
        "yaw {yaw} deg, not within 3 deg of +90"
    );
    assert_within_limits(&mut rig)
}

#[test]
fn stop_during_a_move_zeroes_cmd_vel_within_a_planner_tick() -> anyhow::Result<()> {
    let _g = serial();
    let mut rig = Rig::start(&[], &["model:=none"])?;
    let t0 = rig.say("drive forward 3 meters")?;
    wait_moving(&mut rig, t0, 0.2)?;
    let t_stop = rig.say("stop")?;
    let plan = rig.wait_plan("stop", 10.0)?;
    assert_eq!(plan["source"], "reflex", "{plan}");
    rig.wait_event("stopped", t_stop, 5.0)?;
    // The zero twist leaves in the same planner tick as the event; let it arrive.
    std::thread::sleep(Duration::from_millis(100));
    let log = rig.cmd_vel_log(t_stop)?;
    let first_zero = log
        .iter()
        .find(|(_, v, w)| *v == 0.0 && *w == 0.0)
        .map(|(t, _, _)| t - t_stop);
    let latency =
        first_zero.ok_or_else(|| anyhow::anyhow!("no zero cmd_vel after stop{}", rig.logs()))?;
    // One planner tick plus one sim step, plus two loopback DDS hops measured by the peer.
    let transport = 0.05;
    println!(
        "stop -> zero cmd_vel: {:.1} ms (limit {:.0} ms + {:.0} ms transport)",
        latency * 1e3,
        (PLANNER_TICK + SIM_STEP) * 1e3,
        transport * 1e3
    );
    assert!(
        latency <= PLANNER_TICK + SIM_STEP + transport,
        "zero cmd_vel {latency:.3} s after the stop"
    );
    let pose = rig.wait_still(0.3, 10.0)?;
    assert!(
        pose["x"].as_f64().unwrap_or(9.0) < 2.9,
        "robot went on to {pose}"
    );
    assert_within_limits(&mut rig)
}

#[test]
fn a_box_ahead_stops_a_two_meter_move_before_contact() -> anyhow::Result<()> {
    let _g = serial();
    let world = bora_tests::repo_root().join("launch/worlds/box_ahead.yaml");
    let world = world.to_string_lossy().into_owned();
    let mut rig = Rig::start(&["--world", &world], &["model:=none"])?;
    let t = rig.say("move forward 2 meters")?;
    rig.wait_event("obstacle", t, 30.0)?;
    let pose = rig.wait_still(0.5, 10.0)?;
    let x = pose["x"].as_f64().unwrap_or(f64::NAN);
    // The box's near face is at x = 0.8 and the robot's radius 0.2 m: contact at x = 0.6.
    assert!(x < 0.6 - 0.02, "robot centre at x = {x}: touching the box");
    assert!(x > 0.3, "robot stopped far too early, at x = {x}");
    assert_within_limits(&mut rig)
}

#[test]
fn killing_the_agent_mid_move_lets_the_sim_timeout_stop_the_robot() -> anyhow::Result<()> {
    let _g = serial();
    let mut rig = Rig::start(&["--cmd-timeout", "0.5"], &["model:=none"])?;
    let t0 = rig.say("drive forward 3 meters")?;
    wait_moving(&mut rig, t0, 0.2)?;
    let t_kill = rig.pose()?["t"].as_f64().unwrap_or(0.0);
    rig.kill_agent()?;
    let log = rig
        .wait_still(0.3, 5.0)
        .map(|_| ())
        .and_then(|_| rig.odom_log(t_kill))?;
    let stopped_at = log.iter().find(|o| o[4] == 0.0).map(|o| o[0] - t_kill);
    let after = stopped_at.ok_or_else(|| anyhow::anyhow!("the robot never stopped"))?;
    assert!(
        after < 0.5 + 0.3,
        "the sim stopped the robot {after:.3} s after the agent died (timeout 0.5 s)"
    );
    Ok(())
}

#[test]
fn a_stalled_language_stage_trips_the_watchdog_within_its_period() -> anyhow::Result<()> {
    let _g = serial();
    let mut rig = Rig::start(
        &[],
        &[
            "model:=none",
            "enable_fault_injection:=true",
            "stages.stall_after_s:=0.5",
        ],
    )?;
    let t0 = rig.say("drive forward 3 meters")?;
    wait_moving(&mut rig, t0, 0.2)?;
    let t_fault = rig.call(serde_json::json!({"op": "fault", "text": "stall_language 10"}))?
        ["t_pub"]
        .as_f64()
        .unwrap_or(0.0);
    let ev = rig.wait_event("watchdog", t_fault, 5.0)?;
    assert!(
        ev["event"].as_str().unwrap_or("").contains("language"),
        "{ev}"
    );
    let log = rig.cmd_vel_log(t_fault)?;
    let zero = log
        .iter()
        .find(|(_, v, w)| *v == 0.0 && *w == 0.0)
        .map(|(t, _, _)| t - t_fault);
    let after = zero.ok_or_else(|| anyhow::anyhow!("no zero cmd_vel after the stall"))?;
    assert!(
        after <= 0.5 + PLANNER_TICK + 0.1,
        "zero cmd_vel {after:.3} s after the stall (watchdog 0.5 s)"
    );
    Ok(())
}

#[test]
fn sigterm_publishes_a_zero_twist_before_the_agent_exits() -> anyhow::Result<()> {
    let _g = serial();
    let mut rig = Rig::start(&[], &["model:=none"])?;
    let t0 = rig.say("drive forward 3 meters")?;
    wait_moving(&mut rig, t0, 0.2)?;
    let t_term = rig.pose()?["t"].as_f64().unwrap_or(0.0);
    assert!(
        rig.terminate_agent(Duration::from_secs(10))?,
        "agent did not exit cleanly on SIGTERM"
    );
    std::thread::sleep(Duration::from_millis(200));
    let log = rig.cmd_vel_log(t_term)?;
    let last = log
        .last()
        .ok_or_else(|| anyhow::anyhow!("no cmd_vel after SIGTERM"))?;
    assert!(
        last.1 == 0.0 && last.2 == 0.0,
        "last cmd_vel before exit was {last:?}, not zero"
    );
    Ok(())
}

#[test]
fn a_corrupt_model_file_starts_the_agent_degraded_on_the_fallback_parser() -> anyhow::Result<()> {
    let _g = serial();
    let dir = std::env::temp_dir().join(format!("bora-corrupt-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let bad = dir.join("broken.gguf");
    std::fs::write(&bad, b"GGUF\x03\x00\x00\x00 this is not a model")?;
    let param = format!("model:={}", bad.display());
    let mut rig = Rig::start(&[], &[param.as_str()])?;
    let t = rig.say("move forward half a meter")?;
    let plan = rig.wait_plan("move forward half a meter", 30.0)?;
    assert_eq!(plan["source"], "fallback", "{plan}");
    assert!(
        plan["reasons"].to_string().contains("no model loaded"),
        "{plan}"
    );
    rig.wait_event("plan_done", t, 30.0)?;
    let pose = rig.wait_still(0.5, 30.0)?;
    assert!(
        (pose["x"].as_f64().unwrap_or(f64::NAN) - 0.5).abs() < 0.05,
        "{pose}"
    );
    std::fs::remove_dir_all(&dir).ok();
    assert_within_limits(&mut rig)
}
