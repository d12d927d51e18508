//! HEARING: audio in -> utterances -> text -> the command path, on a stage thread of its
//! own (recognition takes seconds; the planner and the language stage never wait on it).
//!
//! ```text
//! AudioInput::push ──► audio chunks (MPMC, reject-new) ──► HEARING: endpointer ──► Transcriber
//!                                                              │ (budget)             │
//!          agent/events: heard, nothing_heard, utterance_too_long, ... ◄──────────────┤
//!                                     AgentInput::command's path (one path after recognition)
//! ```
//!
//! The [`endpoint::Endpointer`] finds utterances by energy; each is handed whole to a
//! [`Transcriber`] (bora-nodes' Whisper, doubles in tests) under a recognition budget, as
//! the language model runs under its token budget: a transcript that comes later than
//! the budget is dropped with an event, and nothing moves. A transcript in time enters
//! exactly the path a `voice_command` text takes (reflex stop included).

pub mod endpoint;
mod events;
mod stage;

use std::time::Duration;

pub use endpoint::{EndpointConfig, Endpointer};
pub use events::{HearingEvent, HearingReport};
pub(crate) use stage::HearingStage;
pub use stage::{AudioError, AudioInput};

use crate::config::StageRt;

/// What a [`Transcriber`] heard in one utterance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Heard {
    /// The text (as the recogniser gives it; the stage trims it).
    pub text: String,
    /// Whether the recogniser judged the audio to hold no speech.
    pub no_speech: bool,
}

/// A speech recogniser: one whole utterance in, its text out. Implemented by bora-nodes'
/// Whisper transcriber; tests use doubles.
pub trait Transcriber: Send {
    /// Transcribes `pcm`: mono, `sample_rate_hz`, values in [-1, 1]. An error says what
    /// failed, in words.
    fn transcribe(&mut self, pcm: &[f32], sample_rate_hz: u32) -> Result<Heard, String>;
    /// One line naming the recogniser and device, for diagnostics.
    fn describe(&self) -> String;
}

/// Settings of the hearing stage, with units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HearingConfig {
    /// The endpointer (sample rate, thresholds, utterance lengths).
    pub endpoint: EndpointConfig,
    /// Longest recognition of one utterance; a later transcript is dropped (no motion).
    /// `None`: unchecked.
    pub budget: Option<Duration>,
    /// Audio chunks waiting for the stage; more are rejected (counted, event).
    pub queue_capacity: usize,
    /// Most samples one chunk may carry (a longer message is refused, event).
    pub max_chunk_samples: usize,
    /// Pinning and priority of the hearing stage.
    pub rt: StageRt,
}

impl Default for HearingConfig {
    fn default() -> Self {
        Self {
            endpoint: EndpointConfig::default(),
            budget: Some(Duration::from_secs(8)),
            queue_capacity: 1024,
            max_chunk_samples: 16_000 * 10,
            rt: StageRt::default(),
        }
    }
}

impl HearingConfig {
    /// Checks the settings once; the error names the field at fault.
    pub fn check(self) -> crate::Result<Self> {
        let e = &self.endpoint;
        let bad = |field: &'static str, value: String, reason: &'static str| {
            Err(crate::Error::InvalidConfig {
                field,
                value,
                reason,
            })
        };
        if !(1000..=192_000).contains(&e.sample_rate_hz) {
            return bad(
                "sample_rate_hz",
                e.sample_rate_hz.to_string(),
                "must be 1000 to 192000 Hz",
            );
        }
        if e.max_utterance <= e.min_utterance || e.max_utterance > Duration::from_secs(30) {
            return bad(
                "max_utterance",
                format!("{:?}", e.max_utterance),
                "must be above min_utterance and at most 30 s (Whisper's window)",
            );
        }
        if !(e.threshold_dbfs.is_finite() && e.threshold_dbfs < 0.0) {
            return bad(
                "threshold_dbfs",
                e.threshold_dbfs.to_string(),
                "must be a negative number of dBFS",
            );
        }
        if self.queue_capacity == 0 || self.max_chunk_samples == 0 {
            return bad(
                "queue_capacity",
                format!("{}/{}", self.queue_capacity, self.max_chunk_samples),
                "queue capacity and chunk size must be at least 1",
            );
        }
        Ok(self)
    }
}
