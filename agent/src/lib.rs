//! The agent pipeline's model-free logic: the intent schema (one source of truth for
//! the constrained decoder, the parser, validation and the docs), the deterministic
//! fallback parser, the reflex-stop detector, perception and the closed-loop planner.
//!
//! Everything here is plain data and pure functions or plain structs: no threads, no
//! ROS, no clocks of its own (time comes in as a [`msg::Stamp`], the runtime clock's
//! time since its origin). The stage threads wrap these pieces:
//!
//! - command text: [`is_reflex_stop`] first (then [`Planner::stop`], no model); else the
//!   model, constrained by [`Limits::json_schema`], its output read by [`Limits::parse`];
//!   on a budget miss or an invalid plan, [`parse_command`]. All three yield a
//!   [`ValidPlan`], the only thing [`Planner::set_plan`] takes.
//! - sensors: [`Perception::update_scan`] / [`Perception::update_odom`] -> [`WorldState`]
//!   (Copy, for a latest-value slot).
//! - motors: [`Planner::step`] every tick -> [`PlannerOutput`] (twist, say, event).
//! - docs and prompts: [`Limits::markdown_table`].

pub mod bounded;
pub mod error;
pub mod fallback;
pub mod intent;
pub mod msg;
pub mod perception;
pub mod planner;
pub mod reflex;
pub mod short;

pub use bounded::{say_text, SayText, MAX_PLAN_STEPS, MAX_SAY_CHARS};
pub use error::{AgentError, NotUnderstood};
pub use fallback::parse_command;
pub use intent::{same_steps, Action, Field, Limits, Plan, Step, Steps, ValidPlan};
pub use msg::{LaserScan, Odometry, Pose2D, Stamp, Twist};
pub use perception::{Perception, PerceptionConfig, WorldState};
pub use planner::{PlanEvent, Planner, PlannerConfig, PlannerOutput, WatchdogReason};
pub use reflex::is_reflex_stop;
pub use short::{
    expand_short, reply_error, short_from_plan, short_from_plan_spoken, short_written, PlanForm,
};
