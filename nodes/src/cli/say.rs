//! `bora say`: publish a voice command, as a speech recogniser would, and optionally wait
//! for the plan the agent makes of it.

use clap::Args;

/// Arguments of `bora say`.
#[derive(Args, Debug)]
pub struct SayArgs {
    /// The command text, e.g. "move forward one meter then turn left".
    #[arg(required_unless_present = "wav")]
    pub text: Option<String>,
    /// Speak instead: play this WAV file on `audio` in real time (the agent needs
    /// `-p audio.enable:=true`); with --wait, print what it heard and the plan.
    #[arg(long, value_name = "FILE.wav", conflicts_with = "text")]
    pub wav: Option<std::path::PathBuf>,
    /// Wait for the agent's plan on agent/plan and print it.
    #[arg(long)]
    pub wait: bool,
    /// Print the plan as one JSON line (with --wait).
    #[arg(long, requires = "wait")]
    pub json: bool,
    /// Seconds to wait for a subscriber, and for the plan with --wait.
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    /// ROS arguments (remapping, e.g. `--ros-args -r voice_command:=/robot/voice`).
    #[arg(long = "ros-args", num_args = 0.., allow_hyphen_values = true, value_name = "ROS_ARGS")]
    pub ros_args: Vec<String>,
}

/// Runs `bora say`.
#[cfg(feature = "ros")]
pub fn run(args: SayArgs) -> anyhow::Result<()> {
    use std::time::{Duration, Instant};

    use anyhow::{bail, Context};
    use bora_nodes::ros::{drain, r2r};

    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!(
            "--timeout must be a positive number of seconds, got {}",
            args.timeout
        );
    }
    let timeout = Duration::from_secs_f64(args.timeout.min(3600.0));
    let text = match (&args.text, &args.wav) {
        (_, Some(wav)) => return super::say_audio::run(wav, args.wait, args.json, timeout),
        (Some(text), None) => text.clone(),
        (None, None) => bail!("give the command text, or --wav FILE.wav"),
    };
    let ctx = r2r::Context::create().context("cannot initialise ROS 2 (rcl)")?;
    let mut node = r2r::Node::create(ctx, "bora_say", "")?;
    let publisher = node.create_publisher::<r2r::std_msgs::msg::String>(
        "voice_command",
        r2r::QosProfile::default(),
    )?;
    let mut plans =
        node.subscribe::<r2r::std_msgs::msg::String>("agent/plan", r2r::QosProfile::default())?;
    let deadline = Instant::now() + timeout;
    // A message published before discovery completes is lost: wait for the agent.
    while publisher.get_inter_process_subscription_count()? == 0 {
        if Instant::now() > deadline {
            bail!("nobody subscribes to voice_command after {:.0} s: is `bora agent` running with the same ROS_DOMAIN_ID?", args.timeout);
        }
        node.spin_once(Duration::from_millis(20));
    }
    {
        // The agent must match our publisher too (discovery runs both ways), and with
        // --wait our agent/plan subscription must be matched: give both a moment.
        let until = Instant::now() + Duration::from_millis(500);
        while Instant::now() < until {
            node.spin_once(Duration::from_millis(20));
        }
    }
    publisher.publish(&r2r::std_msgs::msg::String { data: text.clone() })?;
    if !args.wait {
        // Let the message leave before the node goes away.
        node.spin_once(Duration::from_millis(50));
        return Ok(());
    }
    while Instant::now() < deadline {
        node.spin_once(Duration::from_millis(20));
        let mut messages = Vec::new();
        drain(&mut plans, |m| messages.push(m.data));
        if let Some((report, raw)) = super::plan_line::report_for(messages, &text) {
            super::plan_line::print_report(&report, &raw, args.json);
            return Ok(());
        }
    }
    bail!(
        "no plan for {:?} on agent/plan within {:.0} s",
        text,
        args.timeout
    )
}

/// Without the `ros` feature there is no ROS 2 to publish on.
#[cfg(not(feature = "ros"))]
pub fn run(_args: SayArgs) -> anyhow::Result<()> {
    Err(super::common::without_ros("`bora say` publishes on ROS 2"))
}
