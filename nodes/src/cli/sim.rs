//! `bora sim`: a simulated differential-drive robot as a ROS 2 node. It follows
//! `cmd_vel` and publishes `odom` and `scan` computed in a 2D world of walls and boxes
//! (see bora_sim for the model and the world file format).

use std::path::PathBuf;

use bora_nodes::sim_params::{SimSettings, SIM_PARAMS};

/// Arguments of `bora sim`. Each flag overrides the ROS parameter of the same name
/// (snake_case); both override the defaults (`bora sim --list-params`).
#[derive(clap::Args, Debug)]
pub struct SimArgs {
    /// Print the declared parameters (name, type, default, meaning, allowed range) and exit.
    #[arg(long)]
    pub list_params: bool,
    /// With --list-params: print JSON instead of a table.
    #[arg(long, requires = "list_params")]
    pub json: bool,
    /// World YAML file (walls, boxes, start pose); default: a 10 m x 10 m room with the
    /// robot at its centre facing +x. Parameter `world`.
    #[arg(long, value_name = "FILE")]
    pub world: Option<PathBuf>,
    /// Simulation steps per second [default: 100]. Parameter `rate`.
    #[arg(long, value_name = "HZ")]
    pub rate: Option<f64>,
    /// Odometry messages per second, at most --rate [default: 50]. Parameter `odom_rate`.
    #[arg(long, value_name = "HZ")]
    pub odom_rate: Option<f64>,
    /// Laser scans per second, at most --rate [default: 10]. Parameter `scan_rate`.
    #[arg(long, value_name = "HZ")]
    pub scan_rate: Option<f64>,
    /// Stop the robot when no cmd_vel came for this long [default: 0.5]. Parameter `cmd_timeout`.
    #[arg(long, value_name = "SECONDS")]
    pub cmd_timeout: Option<f64>,
    /// Clamp |linear.x| to this; 0 = no clamp [default: 0]. Parameter `max_linear_x`.
    #[arg(long, value_name = "M_PER_S")]
    pub max_linear_x: Option<f64>,
    /// Clamp |angular.z| to this; 0 = no clamp [default: 0]. Parameter `max_angular_z`.
    #[arg(long, value_name = "RAD_PER_S")]
    pub max_angular_z: Option<f64>,
    /// Robot footprint radius; walls and boxes stop it, 0 lets it pass [default: 0.2].
    /// Parameter `footprint_radius`.
    #[arg(long, value_name = "M")]
    pub footprint_radius: Option<f64>,
    /// Laser beams per scan [default: 360]. Parameter `beams`.
    #[arg(long, value_name = "N")]
    pub beams: Option<i64>,
    /// Angle of the first beam, 0 = ahead, positive = left [default: -pi]. Parameter `angle_min`.
    #[arg(long, value_name = "RAD", allow_negative_numbers = true)]
    pub angle_min: Option<f64>,
    /// Angle of the last beam [default: pi - 1 degree]. Parameter `angle_max`.
    #[arg(long, value_name = "RAD", allow_negative_numbers = true)]
    pub angle_max: Option<f64>,
    /// Shortest range reported; closer hits read -inf [default: 0.05]. Parameter `range_min`.
    #[arg(long, value_name = "M")]
    pub range_min: Option<f64>,
    /// Longest range reported; nothing within it reads +inf [default: 10]. Parameter `range_max`.
    #[arg(long, value_name = "M")]
    pub range_max: Option<f64>,
    /// Frame of the odometry pose [default: odom]. Parameter `odom_frame`.
    #[arg(long, value_name = "FRAME")]
    pub odom_frame: Option<String>,
    /// Frame of the robot, for odometry and scans [default: base_link]. Parameter `base_frame`.
    #[arg(long, value_name = "FRAME")]
    pub base_frame: Option<String>,
    /// ROS 2 arguments, passed to ROS untouched (remapping `-r cmd_vel:=/x`, parameters
    /// `-p rate:=50`, `--params-file FILE`). Put them last.
    #[arg(long = "ros-args", num_args = 0.., allow_hyphen_values = true, value_name = "ROS_ARGS")]
    pub ros_args: Vec<String>,
}

/// Runs `bora sim` until SIGINT or SIGTERM (or lists its parameters).
pub fn run(args: SimArgs) -> anyhow::Result<()> {
    if args.list_params {
        println!("{}", SIM_PARAMS.listing(args.json, (18, 20))?);
        return Ok(());
    }
    // ROS reads `--ros-args ...` itself, from the process's arguments.
    let _ = &args.ros_args;
    run_node(SimSettings {
        world: args.world,
        rate: args.rate,
        odom_rate: args.odom_rate,
        scan_rate: args.scan_rate,
        cmd_timeout: args.cmd_timeout,
        max_linear_x: args.max_linear_x,
        max_angular_z: args.max_angular_z,
        footprint_radius: args.footprint_radius,
        beams: args.beams,
        angle_min: args.angle_min,
        angle_max: args.angle_max,
        range_min: args.range_min,
        range_max: args.range_max,
        odom_frame: args.odom_frame,
        base_frame: args.base_frame,
    })
}

#[cfg(feature = "ros")]
fn run_node(settings: SimSettings) -> anyhow::Result<()> {
    bora_nodes::sim_node::run(settings)
}

#[cfg(not(feature = "ros"))]
fn run_node(settings: SimSettings) -> anyhow::Result<()> {
    // Check the settings anyway, so a typo is reported before the missing ROS.
    settings.resolve()?;
    Err(super::common::without_ros("`bora sim` is a ROS 2 node"))
}
