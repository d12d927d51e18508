//! `bora agent` as a ROS 2 managed node (`-p lifecycle.managed:=true`): the standard
//! lifecycle services `~/get_state`, `~/change_state`, `~/get_available_transitions` and
//! the topic `~/transition_event`, with lifecycle_msgs types, so `ros2 lifecycle`,
//! launch_ros's lifecycle events and nav2's lifecycle manager drive it. r2r 0.9.7 has no
//! lifecycle node; these are plain r2r services over the state machine below.
//!
//! Only `active` lets the agent move the robot: unconfigured and inactive refuse every
//! command (its `agent/plan` report says why), and leaving `active` stops the robot.
//! Configuring does no work of its own: the model is loaded when the process starts.

use futures::Stream;
use r2r::lifecycle_msgs::msg::{State, Transition, TransitionDescription, TransitionEvent};
use r2r::lifecycle_msgs::srv::{ChangeState, GetAvailableTransitions, GetState};
use r2r::{QosProfile, ServiceRequest};

use super::drain;

/// A primary lifecycle state (lifecycle_msgs/State ids 1 to 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Primary {
    /// Created, not configured: no motion.
    Unconfigured,
    /// Configured, not running: no motion.
    Inactive,
    /// Running: commands move the robot.
    Active,
    /// Shut down: the node exits.
    Finalized,
}

impl Primary {
    /// The lifecycle_msgs/State id.
    pub fn id(self) -> u8 {
        match self {
            Primary::Unconfigured => 1,
            Primary::Inactive => 2,
            Primary::Active => 3,
            Primary::Finalized => 4,
        }
    }

    /// The label `ros2 lifecycle get` prints.
    pub fn label(self) -> &'static str {
        match self {
            Primary::Unconfigured => "unconfigured",
            Primary::Inactive => "inactive",
            Primary::Active => "active",
            Primary::Finalized => "finalized",
        }
    }

    fn msg(self) -> State {
        State {
            id: self.id(),
            label: self.label().to_owned(),
        }
    }
}

/// The transitions a client may request: (lifecycle_msgs/Transition id, label, from, to).
const TRANSITIONS: [(u8, &str, Primary, Primary); 7] = [
    (1, "configure", Primary::Unconfigured, Primary::Inactive),
    (2, "cleanup", Primary::Inactive, Primary::Unconfigured),
    (3, "activate", Primary::Inactive, Primary::Active),
    (4, "deactivate", Primary::Active, Primary::Inactive),
    (5, "shutdown", Primary::Unconfigured, Primary::Finalized),
    (6, "shutdown", Primary::Inactive, Primary::Finalized),
    (7, "shutdown", Primary::Active, Primary::Finalized),
];

/// The lifecycle state machine, without ROS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    state: Primary,
}

impl Machine {
    /// A machine in `unconfigured`, as a managed node starts.
    pub fn new() -> Self {
        Machine {
            state: Primary::Unconfigured,
        }
    }

    /// The current state.
    pub fn state(&self) -> Primary {
        self.state
    }

    /// Applies transition `id` (or, when `id` is 0, the one labelled `label`, as some
    /// clients send only the label); returns `(from, to)`, or `None` when the current
    /// state has no such transition (the state is unchanged).
    pub fn apply(&mut self, id: u8, label: &str) -> Option<(Primary, Primary)> {
        let from = self.state;
        let &(_, _, _, to) = TRANSITIONS.iter().find(|(tid, tlabel, start, _)| {
            *start == from && (*tid == id || (id == 0 && *tlabel == label))
        })?;
        self.state = to;
        Some((from, to))
    }

    /// The transitions available from the current state.
    pub fn available(&self) -> impl Iterator<Item = (u8, &'static str, Primary, Primary)> + '_ {
        TRANSITIONS.into_iter().filter(|t| t.2 == self.state)
    }
}

impl Default for Machine {
    fn default() -> Self {
        Self::new()
    }
}

type Requests<T> = Box<dyn Stream<Item = ServiceRequest<T>> + Unpin>;

/// The lifecycle services of one node, answered from [`LifecycleServer::poll`].
pub struct LifecycleServer {
    machine: Machine,
    change: Requests<ChangeState::Service>,
    get: Requests<GetState::Service>,
    transitions: Requests<GetAvailableTransitions::Service>,
    events: r2r::Publisher<TransitionEvent>,
}

impl LifecycleServer {
    /// Serves the lifecycle interface on `node`, starting `unconfigured`.
    pub fn serve(node: &mut r2r::Node) -> anyhow::Result<Self> {
        let qos = QosProfile::services_default;
        Ok(LifecycleServer {
            machine: Machine::new(),
            change: Box::new(node.create_service::<ChangeState::Service>("~/change_state", qos())?),
            get: Box::new(node.create_service::<GetState::Service>("~/get_state", qos())?),
            transitions: Box::new(node.create_service::<GetAvailableTransitions::Service>(
                "~/get_available_transitions",
                qos(),
            )?),
            events: node
                .create_publisher::<TransitionEvent>("~/transition_event", QosProfile::default())?,
        })
    }

    /// The current state.
    pub fn state(&self) -> Primary {
        self.machine.state()
    }

    /// Answers every pending request (after `spin_once`); returns the state changes made,
    /// in order, for the node to act on. `now_ns` stamps the transition events.
    pub fn poll(&mut self, now_ns: u64) -> Vec<(Primary, Primary)> {
        let machine = &mut self.machine;
        let events = &self.events;
        let mut changes = Vec::new();
        drain(&mut self.change, |req| {
            let t = &req.message.transition;
            let done = machine.apply(t.id, &t.label);
            if let Some((from, to)) = done {
                tracing::info!(from = from.label(), to = to.label(), "lifecycle transition");
                let event = TransitionEvent {
                    timestamp: now_ns,
                    transition: t.clone(),
                    start_state: from.msg(),
                    goal_state: to.msg(),
                };
                let _ = events.publish(&event);
                changes.push((from, to));
            } else {
                tracing::warn!(
                    id = t.id,
                    label = t.label.as_str(),
                    state = machine.state().label(),
                    "lifecycle transition refused: not available in this state"
                );
            }
            let _ = req.respond(ChangeState::Response {
                success: done.is_some(),
            });
        });
        drain(&mut self.get, |req| {
            let _ = req.respond(GetState::Response {
                current_state: machine.state().msg(),
            });
        });
        drain(&mut self.transitions, |req| {
            let available = machine
                .available()
                .map(|(id, label, from, to)| TransitionDescription {
                    transition: Transition {
                        id,
                        label: label.to_owned(),
                    },
                    start_state: from.msg(),
                    goal_state: to.msg(),
                })
                .collect();
            let _ = req.respond(GetAvailableTransitions::Response {
                available_transitions: available,
            });
        });
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_transitions_and_nothing_else() {
        let mut m = Machine::new();
        assert_eq!(m.apply(3, "activate"), None, "cannot activate unconfigured");
        assert_eq!(m.state(), Primary::Unconfigured);
        assert_eq!(
            m.apply(1, "configure"),
            Some((Primary::Unconfigured, Primary::Inactive))
        );
        assert_eq!(
            m.apply(0, "activate"),
            Some((Primary::Inactive, Primary::Active)),
            "by label"
        );
        let from_active: Vec<u8> = m.available().map(|t| t.0).collect();
        assert_eq!(from_active, [4, 7]);
        assert_eq!(m.apply(4, ""), Some((Primary::Active, Primary::Inactive)));
        assert_eq!(
            m.apply(2, ""),
            Some((Primary::Inactive, Primary::Unconfigured))
        );
        assert_eq!(
            m.apply(5, ""),
            Some((Primary::Unconfigured, Primary::Finalized))
        );
        assert_eq!(m.available().count(), 0, "finalized is final");
        assert_eq!(m.apply(1, "configure"), None);
    }
}
