//! `bora agent`: run the agent as a ROS 2 node (see `bora agent --help`).

use clap::Args;

use bora_nodes::params::AGENT_PARAMS;

/// Arguments of `bora agent`. ROS arguments follow `--ros-args` as usual, e.g.
/// `bora agent --ros-args --params-file launch/params/cpu.yaml -p model:=gemma3-270m -r cmd_vel:=/robot/cmd_vel`.
#[derive(Args, Debug)]
pub struct AgentArgs {
    /// Print the declared parameters (name, type, default, meaning, allowed range) and exit.
    #[arg(long)]
    pub list_params: bool,
    /// With --list-params: print JSON instead of a table.
    #[arg(long, requires = "list_params")]
    pub json: bool,
    /// Read and check the ROS parameters (`--ros-args --params-file FILE -p name:=value`),
    /// print the value in force of every parameter as JSON, and exit: 0 when all are
    /// valid, non-zero with a message naming the bad one. Loads no model.
    #[arg(long, conflicts_with = "list_params")]
    pub check_params: bool,
    /// ROS arguments: `--ros-args --params-file FILE -p name:=value -r from:=to`.
    #[arg(long = "ros-args", num_args = 0.., allow_hyphen_values = true, value_name = "ROS_ARGS")]
    pub ros_args: Vec<String>,
}

/// Runs `bora agent`.
pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    if args.list_params {
        println!("{}", AGENT_PARAMS.listing(args.json, (36, 24))?);
        return Ok(());
    }
    if args.check_params {
        return check_params();
    }
    run_node()
}

#[cfg(feature = "ros")]
fn check_params() -> anyhow::Result<()> {
    let values = bora_nodes::agent_node::check_params()?;
    println!("{}", serde_json::to_string_pretty(&values)?);
    Ok(())
}

#[cfg(not(feature = "ros"))]
fn check_params() -> anyhow::Result<()> {
    Err(super::common::without_ros(
        "--check-params reads ROS parameters",
    ))
}

#[cfg(feature = "ros")]
fn run_node() -> anyhow::Result<()> {
    bora_nodes::agent_node::run(&bora_nodes::model_loader::load_plan_model)
}

#[cfg(not(feature = "ros"))]
fn run_node() -> anyhow::Result<()> {
    Err(super::common::without_ros("`bora agent` is a ROS 2 node"))
}
