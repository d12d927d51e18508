//! The agent pipeline: spoken command -> validated plan -> closed-loop motion, on
//! three stage threads under a token budget. Built from the real-time core
//! ([`bora_rt`]: queues, slots, budgets, metrics) and the model-free agent logic
//! ([`bora_agent`]); the language model comes in as a [`PlanModel`] (bora-llm's
//! `LlmPlanModel`) and the speech recogniser as a [`Transcriber`] (bora-nodes' Whisper),
//! so this crate builds without a model stack.

pub mod agent;
pub mod agreement;
mod command_path;
pub mod config;
mod deadline;
pub mod error;
pub mod hearing;
pub mod inprocess;
pub mod interpret;
mod output;
pub mod reason;
pub mod report;
mod stages;

pub use agent::{Agent, AgentInput, AgentOutput, AgentOutputs, AgentReport, CommandAccepted};
pub use agreement::Agreement;
pub use config::{AgentConfig, StageRt};
pub use error::{Error, Result};
pub use hearing::{
    AudioError, AudioInput, Heard, HearingConfig, HearingEvent, HearingReport, Transcriber,
};
pub use inprocess::{SimLoop, SimRates};
pub use interpret::{
    BudgetOutcome, Interpretation, Interpreter, LatencyBreakdown, ModelAttempt, MotionTrust,
    PlanModel, Source,
};
pub use reason::Reason;
pub use report::{Event, EventReport, PlanReport};
pub use stages::MAX_COMMAND_CHARS;

// The unit tests count allocations on their own thread (stages/planning/no_alloc.rs).
#[cfg(test)]
#[global_allocator]
static GLOBAL: bora_testkit::CountingAlloc = bora_testkit::CountingAlloc;
