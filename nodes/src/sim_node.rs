//! `bora sim` as a ROS 2 node: a simulated differential-drive robot
//! ([`bora_runtime::sim::Sim`]) that follows `cmd_vel` (geometry_msgs/Twist) and
//! publishes `odom` (nav_msgs/Odometry) and `scan` (sensor_msgs/LaserScan, sensor-data
//! QoS).
//!
//! One thread does everything: it owns the r2r node and the simulator, and runs the
//! simulation at a fixed rate without drift (tick k is due at start + k * step). Between
//! ticks it spins the node until the next deadline, so a command is taken as soon as it
//! arrives and drives the robot from the next step on. Ticks missed because the thread
//! was late are caught up (at most [`MAX_CATCH_UP`] at once; the rest are skipped and
//! counted), so simulated time keeps pace with the wall clock.
//!
//! Settings come from, in order: the command line, ROS parameters (`--ros-args -p
//! name:=value` or `--params-file`), built-in defaults. An invalid value stops the node
//! at start with the setting named.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bora_runtime::sim::{
    CommandOutcome, DriveConfig, LidarConfig, Sim, StepOutcome, Velocity, World,
};
use r2r::geometry_msgs::msg::Twist;
use r2r::nav_msgs::msg::Odometry;
use r2r::sensor_msgs::msg::LaserScan;
use r2r::{ParameterValue, QosProfile};

use crate::ros::convert::{twist_parts, yaw_to_quaternion};
use crate::ros::drain;

/// Most ticks run back to back to catch up after the thread was late; later ones are skipped.
pub const MAX_CATCH_UP: u64 = 5;

/// The ROS parameter names `bora sim` reads (also the keys of a `--params-file`).
pub const PARAMETERS: [&str; 15] = [
    "world",
    "rate",
    "odom_rate",
    "scan_rate",
    "cmd_timeout",
    "max_linear_x",
    "max_angular_z",
    "footprint_radius",
    "beams",
    "angle_min",
    "angle_max",
    "range_min",
    "range_max",
    "odom_frame",
    "base_frame",
];

/// Settings of `bora sim`, each optional: what is unset here comes from the ROS
/// parameter of the same name, then from the default given on each field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SimSettings {
    /// World YAML file; unset or empty: the built-in 10 m x 10 m room.
    pub world: Option<PathBuf>,
    /// Simulation steps per second, in Hz. Default 100.
    pub rate: Option<f64>,
    /// Odometry messages per second, in Hz (at most `rate`). Default 50 (or `rate` if lower).
    pub odom_rate: Option<f64>,
    /// Laser scans per second, in Hz (at most `rate`). Default 10 (or `rate` if lower).
    pub scan_rate: Option<f64>,
    /// Stop when no cmd_vel came for this long, in s. Default 0.5.
    pub cmd_timeout: Option<f64>,
    /// Clamp |linear_x| to this, in m/s. Default: no clamp.
    pub max_linear_x: Option<f64>,
    /// Clamp |angular_z| to this, in rad/s. Default: no clamp.
    pub max_angular_z: Option<f64>,
    /// Robot footprint radius in m; walls and boxes block it (0: nothing blocks). Default 0.2.
    pub footprint_radius: Option<f64>,
    /// Laser beams per scan. Default 360.
    pub beams: Option<i64>,
    /// Angle of the first beam in rad (0 = ahead, positive = left). Default -pi.
    pub angle_min: Option<f64>,
    /// Angle of the last beam in rad. Default pi - 1 degree.
    pub angle_max: Option<f64>,
    /// Shortest range reported, in m. Default 0.05.
    pub range_min: Option<f64>,
    /// Longest range reported, in m. Default 10.
    pub range_max: Option<f64>,
    /// Frame of the odometry's pose. Default `odom`.
    pub odom_frame: Option<String>,
    /// Frame of the robot (odometry child frame, scan frame). Default `base_link`.
    pub base_frame: Option<String>,
}

/// Everything `bora sim` runs with, checked.
#[derive(Debug, Clone)]
pub struct SimPlan {
    /// The world to simulate.
    pub world: World,
    /// How the world was chosen, for the start message (a path or "built-in ...").
    pub world_label: String,
    /// Robot settings (its `step` is 1 / rate).
    pub drive: DriveConfig,
    /// Scanner settings.
    pub lidar: LidarConfig,
    /// Simulation rate in Hz.
    pub rate: f64,
    /// Odometry rate in Hz.
    pub odom_rate: f64,
    /// Scan rate in Hz.
    pub scan_rate: f64,
    /// Frame of the odometry's pose.
    pub odom_frame: String,
    /// Frame of the robot.
    pub base_frame: String,
}

impl SimSettings {
    /// Fills every unset setting from the ROS parameter of the same name, as `get`
    /// returns it (None or `NotSet`: leave it unset). A parameter of the wrong type is
    /// an error naming it.
    pub fn fill_from_params(
        &mut self,
        get: impl Fn(&str) -> Option<ParameterValue>,
    ) -> anyhow::Result<()> {
        let number = |name: &str| -> anyhow::Result<Option<f64>> {
            match get(name) {
                None | Some(ParameterValue::NotSet) => Ok(None),
                Some(ParameterValue::Double(x)) => Ok(Some(x)),
                Some(ParameterValue::Integer(i)) => Ok(Some(i as f64)),
                Some(other) => bail!(
                    "ROS parameter `{name}` must be a number, got {} {other:?}",
                    other.type_name()
                ),
            }
        };
        let text = |name: &str| -> anyhow::Result<Option<String>> {
            match get(name) {
                None | Some(ParameterValue::NotSet) => Ok(None),
                Some(ParameterValue::String(s)) => Ok(Some(s)),
                Some(other) => bail!(
                    "ROS parameter `{name}` must be a string, got {} {other:?}",
                    other.type_name()
                ),
            }
        };
        fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
            if slot.is_none() {
                *slot = value;
            }
        }
        fill(&mut self.world, text("world")?.map(PathBuf::from));
        fill(&mut self.rate, number("rate")?);
        fill(&mut self.odom_rate, number("odom_rate")?);
        fill(&mut self.scan_rate, number("scan_rate")?);
        fill(&mut self.cmd_timeout, number("cmd_timeout")?);
        fill(&mut self.max_linear_x, number("max_linear_x")?);
        fill(&mut self.max_angular_z, number("max_angular_z")?);
        fill(&mut self.footprint_radius, number("footprint_radius")?);
        let beams = match get("beams") {
            None | Some(ParameterValue::NotSet) => None,
            Some(ParameterValue::Integer(i)) => Some(i),
            Some(other) => bail!(
                "ROS parameter `beams` must be an integer, got {} {other:?}",
                other.type_name()
            ),
        };
        fill(&mut self.beams, beams);
        fill(&mut self.angle_min, number("angle_min")?);
        fill(&mut self.angle_max, number("angle_max")?);
        fill(&mut self.range_min, number("range_min")?);
        fill(&mut self.range_max, number("range_max")?);
        fill(&mut self.odom_frame, text("odom_frame")?);
        fill(&mut self.base_frame, text("base_frame")?);
        Ok(())
    }

    /// Applies the defaults, loads the world and checks every value.
    pub fn resolve(&self) -> anyhow::Result<SimPlan> {
        let rate = positive("rate", self.rate.unwrap_or(100.0), "Hz")?;
        if rate > 10_000.0 {
            bail!("setting `rate` = {rate} Hz is too fast for a wall-clock simulation: use at most 10000");
        }
        let odom_rate = positive("odom_rate", self.odom_rate.unwrap_or(rate.min(50.0)), "Hz")?;
        let scan_rate = positive("scan_rate", self.scan_rate.unwrap_or(rate.min(10.0)), "Hz")?;
        for (name, r) in [("odom_rate", odom_rate), ("scan_rate", scan_rate)] {
            if r > rate {
                bail!("setting `{name}` = {r} Hz is above the simulation rate {rate} Hz: raise `rate` or lower `{name}`");
            }
        }
        let cmd_timeout = positive("cmd_timeout", self.cmd_timeout.unwrap_or(0.5), "s")?;
        let lidar_default = LidarConfig::default();
        let beams = match self.beams {
            None => lidar_default.beams,
            Some(b) => usize::try_from(b)
                .ok()
                .filter(|&b| b > 0 && b <= 100_000)
                .with_context(|| {
                    format!("setting `beams` = {b} is invalid: use 1 to 100000 beams")
                })?,
        };
        let drive = DriveConfig {
            step: Duration::from_secs_f64(1.0 / rate),
            cmd_timeout: Duration::from_secs_f64(cmd_timeout),
            max_linear_x: self.max_linear_x,
            max_angular_z: self.max_angular_z,
            footprint_radius: Some(self.footprint_radius.unwrap_or(0.2)),
        };
        drive.validate()?;
        let lidar = LidarConfig {
            angle_min: self.angle_min.unwrap_or(lidar_default.angle_min),
            angle_max: self.angle_max.unwrap_or(lidar_default.angle_max),
            beams,
            range_min: self.range_min.unwrap_or(lidar_default.range_min),
            range_max: self.range_max.unwrap_or(lidar_default.range_max),
        };
        lidar.validate()?;
        let (world, world_label) = match self.world.as_deref().filter(|p| !p.as_os_str().is_empty())
        {
            Some(path) => (World::from_yaml_file(path)?, path.display().to_string()),
            None => (
                World::default_room(),
                "built-in 10 m x 10 m room".to_owned(),
            ),
        };
        let frame = |name: &str, value: &Option<String>, default: &str| -> anyhow::Result<String> {
            let v = value.clone().unwrap_or_else(|| default.to_owned());
            if v.is_empty() {
                bail!("setting `{name}` is empty: give a frame name such as `{default}`");
            }
            Ok(v)
        };
        Ok(SimPlan {
            world,
            world_label,
            drive,
            lidar,
            rate,
            odom_rate,
            scan_rate,
            odom_frame: frame("odom_frame", &self.odom_frame, "odom")?,
            base_frame: frame("base_frame", &self.base_frame, "base_link")?,
        })
    }
}

/// `value` if it is a finite number above zero, else an error naming the setting.
fn positive(name: &str, value: f64, unit: &str) -> anyhow::Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        bail!("setting `{name}` = {value} {unit} is invalid: it must be a finite number above zero")
    }
}

/// Runs the simulator node until SIGINT or SIGTERM. `cli` holds the settings given on
/// the command line; ROS parameters and defaults fill the rest.
pub fn run(cli: SimSettings) -> anyhow::Result<()> {
    signals::install().context("cannot install the SIGINT/SIGTERM handler")?;
    let ctx = r2r::Context::create()
        .context("cannot initialise ROS 2 (source scripts/env.sh, or your ROS 2 setup)")?;
    let mut node = r2r::Node::create(ctx, "bora_sim", "")
        .context("cannot create the ROS 2 node `bora_sim`")?;
    let mut settings = cli;
    {
        let params = node
            .params
            .lock()
            .map_err(|_| anyhow::anyhow!("the node's parameter table is poisoned"))?;
        for name in params.keys() {
            if !PARAMETERS.contains(&name.as_str()) && name != "use_sim_time" {
                tracing::warn!(parameter = %name, known = ?PARAMETERS, "unknown ROS parameter for bora sim: ignored");
            }
        }
        settings.fill_from_params(|name| params.get(name).map(|p| p.value.clone()))?;
    }
    let plan = settings.resolve()?;
    let mut sim = Sim::new(plan.world.clone(), plan.drive, plan.lidar)
        .with_context(|| format!("cannot start the simulation in {}", plan.world_label))?;

    let mut cmd_vel = node.subscribe::<Twist>("cmd_vel", QosProfile::default())?;
    let odom_pub = node.create_publisher::<Odometry>("odom", QosProfile::default())?;
    let scan_pub = node.create_publisher::<LaserScan>("scan", QosProfile::sensor_data())?;
    let mut clock = r2r::Clock::create(r2r::ClockType::RosTime)?;

    let start = sim.pose();
    println!(
        "bora sim: node {}, world {} ({} walls, {} boxes), start ({:.2}, {:.2}, {:.1} deg); step {} Hz; \
         publishing odom at {} Hz ({} -> {}) and scan at {} Hz ({} beams, best effort); \
         following cmd_vel (timeout {} s)",
        node.fully_qualified_name().unwrap_or_else(|_| "bora_sim".into()),
        plan.world_label,
        plan.world.walls().len(),
        plan.world.boxes().len(),
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

    let step = plan.drive.step;
    let odom_period = Duration::from_secs_f64(1.0 / plan.odom_rate);
    let scan_period = Duration::from_secs_f64(1.0 / plan.scan_rate);
    let (mut next_odom, mut next_scan) = (Duration::ZERO, Duration::ZERO);
    let mut skipped: u64 = 0;
    let mut was_blocked = false;
    let origin = Instant::now();
    let mut ticks: u64 = 0;
    while !signals::stop_requested() {
        let deadline = origin + nth(step, ticks + 1);
        loop {
            let now = Instant::now();
            if now >= deadline || signals::stop_requested() {
                break;
            }
            node.spin_once((deadline - now).min(Duration::from_millis(20)));
            drain(&mut cmd_vel, |t| {
                let (v, w) = twist_parts(&t);
                if sim.command(Velocity::new(v, w)) == CommandOutcome::Rejected {
                    tracing::warn!(
                        linear_x = v,
                        angular_z = w,
                        "cmd_vel with a non-finite value ignored"
                    );
                }
            });
        }
        let due = ticks_elapsed(origin.elapsed(), step)
            .saturating_sub(ticks)
            .max(1);
        let run = due.min(MAX_CATCH_UP);
        for _ in 0..run {
            let timeouts_before = sim.drive().stats().timeouts;
            let outcome = sim.step();
            if sim.drive().stats().timeouts > timeouts_before {
                tracing::info!(timeout = ?plan.drive.cmd_timeout, "no fresh cmd_vel: robot stopped");
            }
            let blocked = outcome == StepOutcome::Blocked;
            if blocked && !was_blocked {
                let p = sim.pose();
                tracing::warn!(
                    x = p.x,
                    y = p.y,
                    "the robot's footprint touches an obstacle: it stays put"
                );
            }
            was_blocked = blocked;
            let t = sim.time();
            if t >= next_odom {
                next_odom = next_after(next_odom, odom_period, t);
                fill_odom(&mut odom, &sim, stamp(&mut clock));
                if let Err(e) = odom_pub.publish(&odom) {
                    tracing::warn!(error = %e, "cannot publish odom");
                }
            }
            if t >= next_scan {
                next_scan = next_after(next_scan, scan_period, t);
                scan.header.stamp = stamp(&mut clock);
                sim.scan_into(&mut scan.ranges);
                if let Err(e) = scan_pub.publish(&scan) {
                    tracing::warn!(error = %e, "cannot publish scan");
                }
            }
        }
        if due > run {
            skipped += due - run;
            tracing::warn!(
                skipped = due - run,
                "the simulation fell behind the wall clock: ticks skipped"
            );
        }
        ticks += due;
    }
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

/// `n * step`, saturating.
fn nth(step: Duration, n: u64) -> Duration {
    let ns = step.as_nanos().saturating_mul(u128::from(n));
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

/// Whole steps in `elapsed`.
fn ticks_elapsed(elapsed: Duration, step: Duration) -> u64 {
    u64::try_from(elapsed.as_nanos() / step.as_nanos().max(1)).unwrap_or(u64::MAX)
}

/// The next publication time after `now`, on the grid `last + k * period` (no drift).
fn next_after(last: Duration, period: Duration, now: Duration) -> Duration {
    let mut next = last + period;
    while next <= now {
        next += period;
    }
    next
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

/// SIGINT/SIGTERM: the first asks the loop to stop; a second one exits at once.
mod signals {
    use super::{AtomicBool, Ordering};

    static STOP: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_signal(_signal: libc::c_int) {
        if STOP.swap(true, Ordering::SeqCst) {
            // SAFETY: _exit is async-signal-safe; a second signal means "now".
            unsafe { libc::_exit(130) };
        }
    }

    /// Installs the handler for SIGINT and SIGTERM.
    pub fn install() -> std::io::Result<()> {
        for sig in [libc::SIGINT, libc::SIGTERM] {
            let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // SAFETY: the handler only touches an atomic and calls _exit, both
            // async-signal-safe; `signal` has no other preconditions.
            if unsafe { libc::signal(sig, handler) } == libc::SIG_ERR {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// True once SIGINT or SIGTERM arrived.
    pub fn stop_requested() -> bool {
        STOP.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params<'a>(
        pairs: &'a [(&'a str, ParameterValue)],
    ) -> impl Fn(&str) -> Option<ParameterValue> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn the_command_line_wins_over_parameters_which_win_over_defaults() -> anyhow::Result<()> {
        let mut s = SimSettings {
            rate: Some(200.0),
            ..SimSettings::default()
        };
        s.fill_from_params(params(&[
            ("rate", ParameterValue::Double(50.0)),
            ("scan_rate", ParameterValue::Integer(20)),
            ("beams", ParameterValue::Integer(90)),
            (
                "base_frame",
                ParameterValue::String("base_footprint".into()),
            ),
        ]))?;
        let plan = s.resolve()?;
        assert_eq!(plan.rate, 200.0);
        assert_eq!(plan.drive.step, Duration::from_millis(5));
        assert_eq!(plan.scan_rate, 20.0);
        assert_eq!(plan.odom_rate, 50.0);
        assert_eq!(plan.lidar.beams, 90);
        assert_eq!(plan.base_frame, "base_footprint");
        assert_eq!(plan.odom_frame, "odom");
        assert_eq!(plan.drive.cmd_timeout, Duration::from_millis(500));
        assert_eq!(plan.world.walls().len(), 4, "the built-in room");
        Ok(())
    }

    #[test]
    fn wrong_parameter_types_and_values_are_rejected_by_name() {
        let mut s = SimSettings::default();
        let err = s.fill_from_params(params(&[("rate", ParameterValue::String("fast".into()))]));
        assert!(err.is_err_and(|e| e.to_string().contains("`rate`")));
        let mut s = SimSettings::default();
        let err = s.fill_from_params(params(&[("beams", ParameterValue::Double(90.0))]));
        assert!(err.is_err_and(|e| e.to_string().contains("`beams`")));
        let s = SimSettings {
            odom_rate: Some(500.0),
            ..SimSettings::default()
        };
        assert!(s
            .resolve()
            .is_err_and(|e| e.to_string().contains("`odom_rate`")));
        let s = SimSettings {
            cmd_timeout: Some(-1.0),
            ..SimSettings::default()
        };
        assert!(s
            .resolve()
            .is_err_and(|e| e.to_string().contains("`cmd_timeout`")));
        let s = SimSettings {
            beams: Some(0),
            ..SimSettings::default()
        };
        assert!(s
            .resolve()
            .is_err_and(|e| e.to_string().contains("`beams`")));
    }

    #[test]
    fn publication_times_stay_on_their_grid() {
        let p = Duration::from_millis(20);
        assert_eq!(
            next_after(Duration::ZERO, p, Duration::from_millis(10)),
            Duration::from_millis(20)
        );
        assert_eq!(
            next_after(Duration::from_millis(20), p, Duration::from_millis(75)),
            Duration::from_millis(80)
        );
        assert_eq!(
            ticks_elapsed(Duration::from_millis(35), Duration::from_millis(10)),
            3
        );
        assert_eq!(nth(Duration::from_millis(10), 7), Duration::from_millis(70));
    }
}
