//! The agent pipeline: spoken command -> validated plan -> closed-loop motion, on
//! three stage threads under a token budget. Built from the real-time core (queues,
//! slots, budgets, metrics) and the model-free agent logic in [`crate::agent`].

pub mod agent;
pub mod config;
mod deadline;
pub mod inprocess;
pub mod interpret;
pub mod llm;
pub mod report;

pub use agent::{Agent, AgentInput, AgentOutput, AgentOutputs, AgentReport, CommandAccepted};
pub use config::{AgentConfig, StageRt};
pub use inprocess::{SimLoop, SimRates};
pub use interpret::{
    BudgetOutcome, Interpretation, Interpreter, LatencyBreakdown, ModelAttempt, MotionTrust,
    PlanModel, Source,
};
pub use llm::{LlmConfig, LlmPlanModel};
