//! The one error type of bora-models. Each variant says what was wrong with what
//! (file, tensor, metadata key) so the message a user sees tells them what to do.

use std::path::PathBuf;

/// Everything that can go wrong loading or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model file could not be opened or read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid GGUF (wrong magic, version, truncated, corrupt).
    #[error("{path} is not a valid GGUF file: {reason}")]
    InvalidGguf {
        /// The file at fault.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A metadata key is missing or has the wrong type.
    #[error("{path}: metadata key `{key}` {reason}")]
    Metadata {
        /// The file at fault.
        path: PathBuf,
        /// The GGUF metadata key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The tokenizer could not be built or used.
    #[error("tokenizer for {path}: {reason}")]
    Tokenizer {
        /// The model file (or tokenizer.json) the tokenizer comes from.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// An error from candle while running the model.
    #[error("model computation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

/// Result with bora-models' [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
