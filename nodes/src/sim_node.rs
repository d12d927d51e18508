//! `bora sim` as a ROS 2 node: a simulated differential-drive robot
//! ([`bora_sim::Sim`]) that follows `cmd_vel` (geometry_msgs/Twist) and
//! publishes `odom` (nav_msgs/Odometry) and `scan` (sensor_msgs/LaserScan, sensor-data
//! QoS).
//!
//! One thread does everything: it owns the r2r node and the simulator, and runs the
//! simulation at a fixed rate without drift (tick k is due at start + k * step). Between
//! ticks it spins the node until the next deadline, so a command is taken as soon as it
//! arrives and drives the robot from the next step on. Ticks missed because the thread
//! was late are caught up (at most [`MAX_CATCH_UP`] at once; the rest are skipped and
//! counted), so simulated time keeps pace with the wall clock. The schedule is
//! [`bora_sim::SimSchedule`], the same one the in-process runner uses.
//!
//! Settings come from, in order: the command line, ROS parameters (`--ros-args -p
//! name:=value` or `--params-file`), built-in defaults (see [`crate::sim_params`]). An
//! invalid value stops the node at start with the setting named.

use std::time::{Duration, Instant};

use anyhow::Context;
use bora_sim::{CommandOutcome, Sim, SimSchedule, StepOutcome};
use r2r::geometry_msgs::msg::Twist;
use r2r::nav_msgs::msg::Odometry;
use r2r::sensor_msgs::msg::LaserScan;
use r2r::QosProfile;

use crate::ros::convert::{twist_parts, yaw_to_quaternion};
use crate::ros::{drain, given_params, params_file};
use crate::signals;
use crate::sim_params::{SimSettings, SIM_PARAMS};

/// Most ticks run back to back to catch up after the thread was late; later ones are skipped.
pub const MAX_CATCH_UP: u64 = 5;

/// The node's name (parameters in a params file go under it, or under `/**`).
pub const NODE_NAME: &str = crate::ros::SIM_NODE_NAME;

/// Runs the simulator node until SIGINT or SIGTERM. `cli` holds the settings given on
/// the command line; ROS parameters and defaults fill the rest.
pub fn run(cli: SimSettings) -> anyhow::Result<()> {
    signals::install().context("cannot install the SIGINT/SIGTERM handler")?;
    let files = params_file::preflight()?;
    let ctx = r2r::Context::create()
        .context("cannot initialise ROS 2 (source scripts/env.sh, or your ROS 2 setup)")?;
    let mut node = r2r::Node::create(ctx, NODE_NAME, "")
        .with_context(|| format!("cannot create the ROS 2 node `{NODE_NAME}`"))?;
    let declared = SIM_PARAMS.names();
    let policy = params_file::Policy {
        other_nodes: &[crate::ros::AGENT_NODE_NAME],
        node_cmd: "sim",
        unknown_key_is_error: false,
        undeclared_is_error: false,
    };
    let warned = params_file::report(&node, &files, &declared, policy)?;
    let given = given_params(&node)?;
    let mut settings = cli;
    let unknown = settings
        .fill_from_params(given.iter().map(|(n, v)| (n.as_str(), v)))
        .context("invalid parameter for bora sim")?;
    for name in unknown.into_iter().filter(|n| !warned.contains(n)) {
        let known = SIM_PARAMS.names();
        tracing::warn!(parameter = %name, ?known, "not a bora sim parameter: ignored");
    }
    let plan = settings.resolve().context("invalid setting for bora sim")?;
    let (world, world_label) = plan.load_world()?;
    let mut sim = Sim::new(world, plan.drive, plan.lidar)
        .with_context(|| format!("cannot start the simulation in {world_label}"))?;

    let mut cmd_vel = node.subscribe::<Twist>("cmd_vel", QosProfile::default())?;
    let odom_pub = node.create_publisher::<Odometry>("odom", QosProfile::default())?;
    let scan_pub = node.create_publisher::<LaserScan>("scan", QosProfile::sensor_data())?;
    let mut clock = r2r::Clock::create(r2r::ClockType::RosTime)?;

    let start = sim.pose();
    println!(
        "bora sim: node {}, world {} ({} walls, {} boxes), start ({:.2}, {:.2}, {:.1} deg); step {} Hz; \
         publishing odom at {} Hz ({} -> {}) and scan at {} Hz ({} beams, best effort); \
         following cmd_vel (timeout {} s)",
        node.fully_qualified_name().unwrap_or_else(|_| NODE_NAME.into()),
        world_label,
        sim.world().walls().len(),
        sim.world().boxes().len(),
        start.x,
        start.y,
        start.yaw.to_degrees(),
        plan.rate,
        plan.odom_rate,
        plan.odom_frame,
        plan.base_frame,
        plan.scan_rate,
        plan.lidar.beams,
        plan.drive.cmd_timeout.as_secs_f64(),
    );

    let mut odom = Odometry::default();
    odom.header.frame_id = plan.odom_frame.clone();
    odom.child_frame_id = plan.base_frame.clone();
    let mut scan = LaserScan::default();
    scan.header.frame_id = plan.base_frame.clone();
    scan.angle_min = plan.lidar.angle_min as f32;
    scan.angle_max = plan.lidar.angle_max as f32;
    scan.angle_increment = plan.lidar.angle_increment() as f32;
    scan.scan_time = (1.0 / plan.scan_rate) as f32;
    scan.range_min = plan.lidar.range_min as f32;
    scan.range_max = plan.lidar.range_max as f32;
    scan.ranges.reserve(plan.lidar.beams);

    let periods = (
        Duration::from_secs_f64(1.0 / plan.odom_rate),
        Duration::from_secs_f64(1.0 / plan.scan_rate),
    );
    let mut schedule = SimSchedule::new(plan.drive.step, periods, MAX_CATCH_UP);
    let (mut was_blocked, mut timeouts_seen) = (false, 0);
    let origin = Instant::now();
    while !signals::stop_requested() {
        let deadline = origin + schedule.next_deadline();
        follow_cmd_vel_until(&mut node, &mut cmd_vel, &mut sim, deadline);
        let skipped = schedule.catch_up(&mut sim, origin.elapsed(), |sim, outcome, due| {
            let timeouts = sim.drive().stats().timeouts;
            if timeouts > timeouts_seen {
                tracing::info!(timeout = ?plan.drive.cmd_timeout, "no fresh cmd_vel: robot stopped");
            }
            timeouts_seen = timeouts;
            was_blocked = warn_when_blocked(sim, outcome, was_blocked);
            if due.odom {
                fill_odom(&mut odom, sim, stamp(&mut clock));
                if let Err(e) = odom_pub.publish(&odom) {
                    tracing::warn!(error = %e, "cannot publish odom");
                }
            }
            if due.scan {
                scan.header.stamp = stamp(&mut clock);
                sim.scan_into(&mut scan.ranges);
                if let Err(e) = scan_pub.publish(&scan) {
                    tracing::warn!(error = %e, "cannot publish scan");
                }
            }
        });
        if skipped > 0 {
            tracing::warn!(
                skipped,
                "the simulation fell behind the wall clock: ticks skipped"
            );
        }
    }
    let skipped = schedule.skipped();
    let stats = sim.drive().stats();
    eprintln!(
        "bora sim: stopped after {:.1} s simulated; {} cmd_vel taken ({} clamped, {} rejected), {} timeouts, \
         {} blocked steps, {} ticks skipped",
        sim.time().as_secs_f64(),
        stats.commands,
        stats.clamped,
        stats.rejected,
        stats.timeouts,
        stats.blocked_steps,
        skipped,
    );
    Ok(())
}

/// Spins the node until `deadline` (or a stop request), handing every cmd_vel to the
/// simulator; a non-finite one is refused with a warning.
fn follow_cmd_vel_until(
    node: &mut r2r::Node,
    cmd_vel: &mut (impl futures::Stream<Item = Twist> + Unpin),
    sim: &mut Sim,
    deadline: Instant,
) {
    loop {
        let now = Instant::now();
        if now >= deadline || signals::stop_requested() {
            return;
        }
        node.spin_once((deadline - now).min(Duration::from_millis(20)));
        drain(cmd_vel, |t| {
            let (v, w) = twist_parts(&t);
            if sim.command(bora_geom::Twist::new(v, w)) == CommandOutcome::Rejected {
                tracing::warn!(
                    linear_x = v,
                    angular_z = w,
                    "cmd_vel with a non-finite value ignored"
                );
            }
        });
    }
}

/// Warns once when the footprint starts touching an obstacle; returns whether it does.
fn warn_when_blocked(sim: &Sim, outcome: StepOutcome, was_blocked: bool) -> bool {
    let blocked = outcome == StepOutcome::Blocked;
    if blocked && !was_blocked {
        let p = sim.pose();
        tracing::warn!(
            x = p.x,
            y = p.y,
            "the robot's footprint touches an obstacle: it stays put"
        );
    }
    blocked
}

/// The ROS clock's time now, as a message stamp (zero if the clock fails).
fn stamp(clock: &mut r2r::Clock) -> r2r::builtin_interfaces::msg::Time {
    let now = clock.get_now().unwrap_or_default();
    crate::ros::convert::time_from_duration(now)
}

/// Writes the simulator's pose and velocity into `msg` (frames are already set).
fn fill_odom(msg: &mut Odometry, sim: &Sim, stamp: r2r::builtin_interfaces::msg::Time) {
    let pose = sim.pose();
    let vel = sim.velocity();
    msg.header.stamp = stamp;
    msg.pose.pose.position.x = pose.x;
    msg.pose.pose.position.y = pose.y;
    msg.pose.pose.position.z = 0.0;
    msg.pose.pose.orientation = yaw_to_quaternion(pose.yaw);
    msg.twist.twist.linear.x = vel.linear_x;
    msg.twist.twist.angular.z = vel.angular_z;
}
