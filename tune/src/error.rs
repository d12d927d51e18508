//! The one error type of bora-tune: each variant says what was wrong with what (file,
//! tensor, setting) and what to change.

use std::path::PathBuf;

/// Everything that can go wrong loading weights, training or reading an adapter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Opening the GGUF, reading its metadata or tokenizing failed in bora-models.
    #[error(transparent)]
    Model(#[from] bora_models::Error),
    /// A tensor operation failed (shape mismatch, out of memory).
    #[error("tensor operation failed: {0}")]
    Tensor(#[from] candle_core::Error),
    /// The model's architecture has no training forward pass here.
    #[error("{path}: architecture `{architecture}` cannot be fine-tuned yet (supported: llama)")]
    UnsupportedArchitecture {
        /// The model file.
        path: PathBuf,
        /// Its `general.architecture`.
        architecture: String,
    },
    /// A training or adapter setting is out of range.
    #[error("setting `{name}` = {value}: {reason}")]
    InvalidSetting {
        /// The setting's name, as the user spells it.
        name: &'static str,
        /// The value given.
        value: String,
        /// The allowed range, and what to change.
        reason: String,
    },
    /// A training example cannot be used (empty completion, longer than the context).
    #[error("training example {index}: {reason}")]
    InvalidExample {
        /// Position of the example in the list given (0-based).
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// An adapter file or its config could not be read or written.
    #[error("adapter {path}: {source}")]
    AdapterIo {
        /// The file at fault.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An adapter does not fit the model (bad config, missing or mis-shaped tensor).
    #[error("adapter {path}: {reason}")]
    InvalidAdapter {
        /// The adapter directory or file.
        path: PathBuf,
        /// What does not fit, and what to do.
        reason: String,
    },
}

/// bora-tune's result type.
pub type Result<T> = std::result::Result<T, Error>;
