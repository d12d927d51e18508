//! What the running agent hands the outside world to publish.

use bora_agent::Twist;

/// Something the agent asks the outside world (the ROS node) to publish.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentOutput {
    /// A velocity command for `cmd_vel`.
    CmdVel(Twist),
    /// A finished interpretation, JSON, for `agent/plan`.
    Plan(String),
    /// A piece of streamed model text, for `agent/text`.
    Text(String),
    /// A say step's text, for `agent/say`.
    Say(String),
    /// A planner event (step started/finished, watchdog, obstacle...), JSON.
    Event(String),
}
