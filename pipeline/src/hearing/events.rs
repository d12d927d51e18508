//! What the hearing stage publishes on `agent/events`: the same JSON shape as the
//! planner's events (`{"event": kind, "t_s": s, ...}`, nodes/schema/event.schema.json).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::output::AgentOutput;
use crate::stages::Links;

/// One hearing message on `agent/events`: what happened, and when on the agent clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HearingReport {
    /// What happened (JSON key `event` names it).
    #[serde(flatten)]
    pub event: HearingEvent,
    /// When, in s since the agent started.
    pub t_s: f64,
}

/// The kinds of [`HearingReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum HearingEvent {
    /// Speech was recognised in time; its text entered the command path as a voice
    /// command (its `agent/plan` report follows).
    Heard {
        /// The transcript, trimmed.
        text: String,
        /// Audio handed to the recogniser, s.
        audio_s: f64,
        /// Recognition time, ms.
        recognition_ms: f64,
        /// From the end of speech (its last loud frame) to the transcript, ms.
        speech_end_to_text_ms: f64,
    },
    /// An utterance gave no command: the recogniser heard no speech in it.
    NothingHeard {
        /// Audio handed to the recogniser, s.
        audio_s: f64,
        /// Recognition time, ms.
        recognition_ms: f64,
    },
    /// Speech reached the longest utterance: cut there and dropped, no command.
    UtteranceTooLong {
        /// The limit, s (parameter hearing.max_utterance_s).
        limit_s: f64,
        /// What happened and what to do, in words.
        reason: String,
    },
    /// Recognition took longer than its budget: the transcript is dropped, no motion.
    HearingBudgetMissed {
        /// What was heard, too late.
        text: String,
        /// The budget, ms (parameter hearing.budget_ms).
        limit_ms: f64,
        /// Recognition time, ms.
        observed_ms: f64,
    },
    /// An audio message or an utterance could not be used (bad message, full queue,
    /// recogniser error): no command.
    AudioRejected {
        /// What was wrong and what to do, in words.
        reason: String,
    },
}

/// Queues `event`, at `now` on the agent clock, for `agent/events`.
pub(crate) fn emit(links: &Links, event: HearingEvent, now: Duration) {
    let report = HearingReport {
        event,
        t_s: now.as_secs_f64(),
    };
    let json = serde_json::to_string(&report).unwrap_or_default();
    links.emit(AgentOutput::Event(json));
}
