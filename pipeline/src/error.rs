//! The pipeline's error type: the real-time core's and the agent logic's errors, and
//! the pipeline's own configuration checks. Each names the field or stage at fault.

/// Everything that can go wrong configuring, starting or stopping the agent pipeline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A queue, slot, stage thread or histogram of the real-time core failed.
    #[error(transparent)]
    Runtime(#[from] bora_rt::Error),
    /// The agent's model-free logic rejected a configuration or a plan.
    #[error(transparent)]
    Agent(#[from] bora_agent::AgentError),
    /// A pipeline configuration value is out of range.
    #[error("agent configuration `{field}` = {value}: {reason}")]
    InvalidConfig {
        /// The field at fault.
        field: &'static str,
        /// Its value.
        value: String,
        /// What it must be.
        reason: &'static str,
    },
}

/// Result with the pipeline's error type.
pub type Result<T> = std::result::Result<T, Error>;
