//! bora-runtime: the real-time core (bounded lock-free queues, token budgets, stage
//! threads, latency metrics and traces) and the agent pipeline built on it. No ROS.

pub mod agent;
pub mod budget;
pub mod clock;
pub mod error;
pub mod generation;
pub mod liveness;
pub mod metrics;
pub mod periodic;
pub mod pipeline;
pub mod queue;
pub mod rt;
pub mod sim;
pub mod slot;
pub mod stage;
mod sync;

pub use error::{Error, Result};
