//! The one error type of bora-rt. Each variant names the queue, slot or stage at
//! fault and the value that was wrong, so the message tells the user what to change.

use std::time::Duration;

/// Everything that can go wrong setting up or stopping the runtime's building blocks.
///
/// Hot-path operations (push, pop, record) never return this: a full queue hands the
/// item back instead, and a budget miss is an outcome, not an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A queue or slot was asked for a capacity it cannot have.
    #[error("queue `{queue}`: capacity {capacity} is invalid: {reason}")]
    InvalidCapacity {
        /// The queue's name.
        queue: String,
        /// The capacity that was asked for.
        capacity: usize,
        /// Why it is invalid and what to use instead.
        reason: &'static str,
    },
    /// A latest-value slot already has as many readers as it was built for.
    #[error(
        "slot `{slot}` already has its {max_readers} readers: build it with a larger max_readers"
    )]
    TooManyReaders {
        /// The slot's name.
        slot: String,
        /// The reader limit it was built with.
        max_readers: usize,
    },
    /// A periodic loop was given a period it cannot keep.
    #[error("periodic loop `{stage}`: period {period:?} is invalid: it must be above zero")]
    InvalidPeriod {
        /// The stage the loop belongs to.
        stage: String,
        /// The period that was asked for.
        period: Duration,
    },
    /// The OS refused to start a stage thread.
    #[error("cannot spawn stage thread `{stage}`: {source}")]
    StageSpawn {
        /// The stage's name.
        stage: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A stage did not report back after it was started (its setup hung).
    #[error("stage `{stage}` did not report its setup within {waited:?}")]
    StageSetupTimeout {
        /// The stage's name.
        stage: String,
        /// How long the caller waited.
        waited: Duration,
    },
    /// A stage did not stop within the time it was given after shutdown was requested.
    /// Its thread is left running detached; the process should exit soon after.
    #[error("stage `{stage}` did not stop within {waited:?} of the shutdown request; its loop must check the shutdown flag between steps")]
    StageDidNotStop {
        /// The stage's name.
        stage: String,
        /// How long the caller waited.
        waited: Duration,
    },
    /// A stage's thread panicked.
    #[error("stage `{stage}` panicked: {message}")]
    StagePanicked {
        /// The stage's name.
        stage: String,
        /// The panic payload, when it was a string.
        message: String,
    },
    /// A histogram could not be created with the requested bounds.
    #[error("histogram `{label}`: {reason}")]
    Histogram {
        /// The metric's label.
        label: String,
        /// What hdrhistogram rejected.
        reason: String,
    },
}

/// Result with the runtime's error type.
pub type Result<T> = std::result::Result<T, Error>;
