//! bora-runtime: the real-time core (bounded lock-free queues, token budgets, stage
//! threads, latency metrics and traces) and the agent pipeline built on it. No ROS.

pub mod agent;
pub mod sim;
