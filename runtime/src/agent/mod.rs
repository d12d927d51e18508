//! The agent pipeline's model-free logic: the intent schema (one source of truth for
//! the constrained decoder, the parser, validation and the docs), the deterministic
//! fallback parser, the reflex-stop detector, perception and the closed-loop planner.
//!
//! Everything here is plain data and pure functions or plain structs: no threads, no
//! ROS, no clocks of its own (time comes in as a [`msg::Stamp`]). The stage threads
//! wrap these pieces.

pub mod error;
pub mod fallback;
pub mod intent;
pub mod msg;
pub mod perception;
pub mod planner;
pub mod reflex;

pub use error::{AgentError, NotUnderstood};
pub use fallback::parse_command;
pub use intent::{Action, Field, Limits, Plan, Step, ValidPlan};
pub use msg::{LaserScan, Odometry, Pose2D, Stamp, Twist};
pub use perception::{Perception, PerceptionConfig, WorldState};
pub use planner::{PlanEvent, Planner, PlannerConfig, PlannerOutput, WatchdogReason};
pub use reflex::is_reflex_stop;
