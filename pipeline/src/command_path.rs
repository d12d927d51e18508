//! The one way a command enters the agent, whoever heard it: the ROS node's
//! `voice_command` text (through [`crate::AgentInput`]) and the hearing stage's transcripts
//! both call [`CommandPath::command`]. A reflex stop bypasses the model; anything else
//! gets a sequence number, preempts the generation in flight and is queued for LANGUAGE.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::Serialize;

use crate::output::AgentOutput;
use crate::report::PlanReport;
use crate::stages::{CommandMsg, Links, MAX_COMMAND_CHARS};
use bora_rt::clock::{duration_to_ns, Clock};
use bora_rt::metrics::Counter;

/// What happened to a command handed to [`crate::AgentInput::command`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandAccepted {
    /// A reflex stop: the planner halts on its next tick.
    ReflexStop,
    /// Queued for the language stage (any generation in flight is preempted).
    Queued,
    /// The command queue was full; the command was dropped (counted).
    Rejected,
    /// Longer than [`MAX_COMMAND_CHARS`]: refused, its `agent/plan` report says why.
    TooLong,
}

/// Hands commands to the stages; cheap to clone (queues and atomics are shared).
#[derive(Clone)]
pub(crate) struct CommandPath {
    /// The queues and shared state.
    pub links: Links,
    /// The agent's one time base.
    pub clock: Arc<dyn Clock>,
    reflex: Counter,
    /// Limits for the deterministic parse prepared on arrival (budget policy fallback).
    limits: bora_agent::Limits,
}

impl CommandPath {
    /// A path into `links`, stamping with `clock`, counting reflex stops on `reflex`.
    pub fn new(
        links: Links,
        clock: Arc<dyn Clock>,
        reflex: Counter,
        limits: bora_agent::Limits,
    ) -> Self {
        Self {
            links,
            clock,
            reflex,
            limits,
        }
    }

    /// Hands in a command. A stop, halt or freeze bypasses the model.
    pub fn command(&self, text: &str) -> CommandAccepted {
        let now = self.clock.now();
        let seq = self.links.shared.latest_seq.fetch_add(1, Ordering::SeqCst) + 1;
        self.links.shared.preempt.store(true, Ordering::SeqCst);
        if bora_agent::is_reflex_stop(text) {
            self.links
                .shared
                .stop_at_ns
                .store(duration_to_ns(now), Ordering::SeqCst);
            self.links.shared.stop_seq.store(seq, Ordering::SeqCst);
            // The planner applies the stop now, not at its next tick.
            self.links.plan_wake.wake();
            self.reflex.incr();
            let report = PlanReport::reflex(text, seq).to_json();
            self.links.emit(AgentOutput::Plan(report));
            return CommandAccepted::ReflexStop;
        }
        let Some(msg) = CommandMsg::new(seq, text, now) else {
            let chars = text.chars().count();
            let reason = format!(
                "the command has {chars} characters; at most {MAX_COMMAND_CHARS} are interpreted: say one or a few steps at a time"
            );
            self.refuse(seq, text, &reason);
            return CommandAccepted::TooLong;
        };
        let deadline = &self.links.shared.deadline;
        let parse = deadline
            .wants_parse()
            .then(|| bora_agent::parse_command(text, &self.limits).map_err(|e| e.to_string()));
        deadline.on_command(seq, now, text, parse);
        if self.links.commands.push(msg).is_queued() {
            self.links.command_wake.wake();
            CommandAccepted::Queued
        } else {
            CommandAccepted::Rejected
        }
    }

    /// Refuses a command that cannot be interpreted at all: no motion, and its
    /// `agent/plan` report gives `reason`.
    pub fn reject(&self, command: &str, reason: &str) {
        let seq = self.links.shared.latest_seq.fetch_add(1, Ordering::SeqCst) + 1;
        self.links.shared.preempt.store(true, Ordering::SeqCst);
        self.refuse(seq, command, reason);
    }

    fn refuse(&self, seq: u64, command: &str, reason: &str) {
        let report = PlanReport::refused(command, seq, reason).to_json();
        self.links.emit(AgentOutput::Plan(report));
    }
}
