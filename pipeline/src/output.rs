//! What the running agent hands the outside world to publish.

use std::time::Duration;

use crate::report::EventReport;
use bora_agent::{PlanEvent, Twist};

/// Something the agent asks the outside world (the ROS node) to publish.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentOutput {
    /// A velocity command for `cmd_vel`.
    CmdVel(Twist),
    /// A finished interpretation, JSON, for `agent/plan`.
    Plan(String),
    /// A piece of streamed model text, for `agent/text`.
    Text(String),
    /// A say step's text, for `agent/say`. A `String`, not the plan's inline text, so
    /// that every slot of the output queue stays small (a twist's size, not 800 bytes):
    /// one allocation per say step, none per tick.
    Say(String),
    /// A planner event (step started/finished, watchdog, obstacle...) at `at` on the agent
    /// clock, for `agent/events`. Typed, so the planning loop never formats JSON or
    /// allocates: the publisher calls [`AgentOutput::event_json`].
    PlanEvent {
        /// What happened.
        event: PlanEvent,
        /// When, agent clock.
        at: Duration,
    },
    /// An event of the language stage (a command nobody understood), JSON, for
    /// `agent/events`.
    Event(String),
}

impl AgentOutput {
    /// The `agent/events` JSON of an event output ([`AgentOutput::PlanEvent`] or
    /// [`AgentOutput::Event`]); `None` for any other output.
    pub fn event_json(&self) -> Option<String> {
        match self {
            AgentOutput::PlanEvent { event, at } => {
                Some(EventReport::planner(event, *at).to_json())
            }
            AgentOutput::Event(json) => Some(json.clone()),
            _ => None,
        }
    }
}
