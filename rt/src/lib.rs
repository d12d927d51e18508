//! bora-rt: the real-time core. Bounded lock-free queues, latest-value slots, token
//! budgets and the generation driver that enforces them, stage threads with real-time
//! settings, periodic loops (and the wake that runs one early), liveness, latency metrics
//! and traces. No model, no ROS.

pub mod budget;
pub mod clock;
pub mod error;
pub mod generation;
pub mod liveness;
pub mod metrics;
pub mod periodic;
pub mod pulse;
pub mod queue;
pub mod rt;
pub mod slot;
pub mod stage;
mod sync;
pub mod wake;

pub use error::{Error, Result};
