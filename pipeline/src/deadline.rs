//! The token budget enforced from outside the language stage.
//!
//! The language stage checks its budget between model steps, so a language thread that
//! the OS does not schedule (busy cores, a lower priority) notices a miss late: under
//! full CPU contention that was measured at 0.6-1.8 s after the limit. The planner runs
//! at a fixed rate on its own thread, so it watches the command being interpreted and,
//! once the first-token or total limit is over (counted from the command's arrival),
//! applies the miss policy itself within one planner tick: the deterministic parse of the
//! command (computed on arrival, off the planner thread) or a stop. The language stage's
//! late answer for that command is then dropped.
//!
//! The gap between tokens is watched the same way, on the model's [`TokenPulse`] (marked
//! per generated token, not per streamed text piece, which can be held back a few
//! tokens): a generation silent for longer than the limit, inside one long forward pass
//! or on a starved thread, gets the miss policy within one planner tick of the limit.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::interpret::{micros, BudgetOutcome, Source};
use crate::reason::Reason;
use crate::report::{steps, PlanReport};
use bora_agent::{Step, ValidPlan};
use bora_rt::budget::{Limit, MissPolicy, TokenBudget};
use bora_rt::clock::duration_to_ns;
use bora_rt::pulse::TokenPulse;

/// What the planner does when a command's interpretation is past its budget.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "moved once per missed deadline; boxing the inline plan would allocate on the planner thread"
)]
pub(crate) enum DeadlineAction {
    /// Start this plan (the deterministic parse of the command).
    Start(ValidPlan),
    /// Stop the robot (policy stop).
    Stop,
    /// Nothing to start (the parser did not understand the command): no motion.
    Nothing,
}

/// A missed deadline: what to do, and the `agent/plan` JSON saying so.
#[derive(Debug)]
pub(crate) struct Fired {
    /// The command's sequence number.
    pub seq: u64,
    /// When the command arrived (agent clock), for command -> motion latency.
    pub received_at: Duration,
    /// What the planner applies.
    pub action: DeadlineAction,
    /// The report for `agent/plan`.
    pub report: String,
}

/// The deterministic parse of a command, prepared when it arrives.
#[derive(Debug)]
struct Prepared {
    seq: u64,
    text: String,
    parse: std::result::Result<ValidPlan, String>,
}

/// Shared by the input side (writes on each command), the language stage (first text,
/// done) and the planner (checks each tick). Atomics, plus one mutex that the planner
/// only `try_lock`s on a miss.
#[derive(Debug)]
pub(crate) struct DeadlineWatch {
    budget: TokenBudget,
    policy: MissPolicy,
    /// Sequence number of the newest queued command (0: none).
    pending_seq: AtomicU64,
    /// Its arrival time, ns on the agent clock.
    pending_at_ns: AtomicU64,
    /// The newest command for which the model produced text.
    first_text_seq: AtomicU64,
    /// The newest command the language stage has finished.
    done_seq: AtomicU64,
    /// The newest command whose deadline the planner enforced.
    fired_seq: AtomicU64,
    prepared: Mutex<Option<Prepared>>,
    /// Marked by the model per token (see [`DeadlineWatch::pulse`]).
    pulse: TokenPulse,
}

impl DeadlineWatch {
    /// A watch over `budget` applying `policy`; inactive for policy ignore or a budget
    /// without limits.
    pub fn new(budget: TokenBudget, policy: MissPolicy) -> Self {
        Self {
            budget,
            policy,
            pending_seq: AtomicU64::new(0),
            pending_at_ns: AtomicU64::new(0),
            first_text_seq: AtomicU64::new(0),
            done_seq: AtomicU64::new(0),
            fired_seq: AtomicU64::new(0),
            prepared: Mutex::new(None),
            pulse: TokenPulse::new(),
        }
    }

    /// The pulse the model marks per generated token (for the token-gap limit).
    pub fn pulse(&self) -> TokenPulse {
        self.pulse.clone()
    }

    /// Whether the planner enforces anything.
    pub fn active(&self) -> bool {
        let b = &self.budget;
        self.policy != MissPolicy::Ignore
            && (b.first_token.is_some() || b.token_gap.is_some() || b.total.is_some())
    }

    /// Whether the fallback parse is needed on arrival (policy fallback, active).
    pub fn wants_parse(&self) -> bool {
        self.active() && self.policy == MissPolicy::Fallback
    }

    /// A command was queued for the language stage at `at`, with its prepared parse.
    pub fn on_command(
        &self,
        seq: u64,
        at: Duration,
        text: &str,
        parse: Option<std::result::Result<ValidPlan, String>>,
    ) {
        if !self.active() {
            return;
        }
        if let Some(parse) = parse {
            let mut slot = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
            *slot = Some(Prepared {
                seq,
                text: text.to_owned(),
                parse,
            });
        }
        self.pending_at_ns
            .store(duration_to_ns(at), Ordering::SeqCst);
        self.pending_seq.store(seq, Ordering::SeqCst);
    }

    /// The model produced its first text for command `seq`.
    pub fn on_first_text(&self, seq: u64) {
        self.first_text_seq.fetch_max(seq, Ordering::SeqCst);
    }

    /// The language stage is about to publish its result for `seq`.
    pub fn on_done(&self, seq: u64) {
        self.done_seq.fetch_max(seq, Ordering::SeqCst);
    }

    /// Whether the planner already enforced the deadline of `seq` (its plan is late).
    pub fn fired_for(&self, seq: u64) -> bool {
        self.active() && self.fired_seq.load(Ordering::SeqCst) >= seq
    }

    /// Called by the planner every tick: the newest command (`latest_seq`) is past its
    /// budget at `now` and still unanswered? `handled_stop` is the newest reflex stop.
    /// Never blocks.
    pub fn check(&self, now: Duration, latest_seq: u64, handled_stop: u64) -> Option<Fired> {
        if !self.active() {
            return None;
        }
        let seq = self.pending_seq.load(Ordering::SeqCst);
        let at = Duration::from_nanos(self.pending_at_ns.load(Ordering::SeqCst));
        if seq == 0
            || seq != self.pending_seq.load(Ordering::SeqCst)
            || seq != latest_seq
            || seq <= handled_stop
            || seq <= self.done_seq.load(Ordering::SeqCst)
            || seq <= self.fired_seq.load(Ordering::SeqCst)
        {
            return None;
        }
        let waited = now.saturating_sub(at);
        let got_text = self.first_text_seq.load(Ordering::SeqCst) >= seq;
        let silence = self.pulse.silent_for(now).unwrap_or_default();
        let b = &self.budget;
        let (limit, value) = match (b.first_token, b.token_gap, b.total) {
            (Some(ft), _, _) if !got_text && waited > ft => (Limit::FirstToken, ft),
            (_, Some(gap), _) if got_text && silence > gap => (Limit::TokenGap, gap),
            (_, _, Some(total)) if waited > total => (Limit::Total, total),
            _ => return None,
        };
        let (action, text) = match self.policy {
            MissPolicy::Stop => (DeadlineAction::Stop, String::new()),
            _ => {
                // Only contended while the input side stores a newer command: try again
                // next tick rather than wait.
                let mut slot = self.prepared.try_lock().ok()?;
                match slot.take() {
                    Some(p) if p.seq == seq => match p.parse {
                        Ok(plan) => (DeadlineAction::Start(plan), p.text),
                        Err(_) => (DeadlineAction::Nothing, p.text),
                    },
                    other => {
                        *slot = other;
                        (DeadlineAction::Nothing, String::new())
                    }
                }
            }
        };
        self.fired_seq.fetch_max(seq, Ordering::SeqCst);
        // A gap is measured from the last token, the other limits from the arrival.
        let observed = if limit == Limit::TokenGap {
            silence
        } else {
            waited
        };
        let report = fired_json(seq, &text, &action, limit, value, observed);
        Some(Fired {
            seq,
            received_at: at,
            action,
            report,
        })
    }
}

/// `agent/plan` JSON for a deadline the planner enforced.
fn fired_json(
    seq: u64,
    command: &str,
    action: &DeadlineAction,
    limit: Limit,
    value: Duration,
    waited: Duration,
) -> String {
    let (plan, source, what) = match action {
        DeadlineAction::Start(p) => (
            Some(steps(p)),
            Source::Fallback,
            "the planner started the deterministic parse",
        ),
        DeadlineAction::Stop => (
            Some(vec![Step::Stop {}]),
            Source::Fallback,
            "the planner stopped the robot (policy stop)",
        ),
        DeadlineAction::Nothing => (
            None,
            Source::None,
            "the parser did not understand the command: no motion",
        ),
    };
    let reason = Reason::DeadlineEnforced {
        limit: limit_name(limit),
        limit_ms: value.as_secs_f64() * 1e3,
        waited_ms: waited.as_secs_f64() * 1e3,
        action: what,
    };
    PlanReport {
        plan,
        source,
        understood: matches!(action, DeadlineAction::Start(_)),
        command: command.to_owned(),
        seq,
        latency_us: None,
        budget: Some(BudgetOutcome::Missed {
            limit,
            limit_us: micros(value),
            observed_us: micros(waited),
            over_by_us: micros(waited.saturating_sub(value)),
        }),
        model_text: None,
        enforced_by: Some("planner".to_owned()),
        reasons: vec![reason.to_string()],
        // The language stage's own report of this command, when generation ends, compares.
        agreement: crate::Agreement::NotCompared,
    }
    .to_json()
}

/// A limit's JSON name.
fn limit_name(limit: Limit) -> &'static str {
    match limit {
        Limit::FirstToken => "first_token",
        Limit::TokenGap => "token_gap",
        Limit::Total => "total",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bora_agent::{parse_command, Limits};

    const MS: Duration = Duration::from_millis(1);

    fn budget() -> TokenBudget {
        TokenBudget {
            first_token: Some(100 * MS),
            token_gap: None,
            total: Some(500 * MS),
        }
    }

    fn queue(w: &DeadlineWatch, seq: u64, at: Duration, text: &str) {
        let parse = parse_command(text, &Limits::default()).map_err(|e| e.to_string());
        w.on_command(seq, at, text, Some(parse));
    }

    #[test]
    fn first_token_miss_starts_the_parse_once() {
        let w = DeadlineWatch::new(budget(), MissPolicy::Fallback);
        queue(&w, 1, 10 * MS, "move forward 1 m");
        assert!(w.check(110 * MS, 1, 0).is_none(), "at the limit is in time");
        let fired = w.check(111 * MS, 1, 0).expect("past the first-token limit");
        assert_eq!(fired.seq, 1);
        assert!(matches!(fired.action, DeadlineAction::Start(_)));
        assert!(fired.report.contains("first_token"), "{}", fired.report);
        assert!(w.fired_for(1));
        assert!(w.check(200 * MS, 1, 0).is_none(), "fires once");
    }

    #[test]
    fn text_in_time_leaves_only_the_total() {
        let w = DeadlineWatch::new(budget(), MissPolicy::Stop);
        queue(&w, 3, Duration::ZERO, "move forward 1 m");
        w.on_first_text(3);
        assert!(w.check(400 * MS, 3, 0).is_none());
        let fired = w.check(501 * MS, 3, 0).expect("past the total");
        assert!(matches!(fired.action, DeadlineAction::Stop));
        assert!(fired.report.contains("\"total\""), "{}", fired.report);
    }

    #[test]
    fn a_token_gap_is_enforced_while_the_generation_is_silent() {
        let budget = TokenBudget {
            token_gap: Some(100 * MS),
            total: Some(10_000 * MS),
            ..budget()
        };
        let w = DeadlineWatch::new(budget, MissPolicy::Fallback);
        let pulse = w.pulse();
        queue(&w, 1, Duration::ZERO, "move forward 1 m");
        pulse.start(10 * MS);
        pulse.token(50 * MS);
        w.on_first_text(1);
        pulse.token(120 * MS);
        assert!(
            w.check(220 * MS, 1, 0).is_none(),
            "100 ms since the last token"
        );
        let fired = w.check(221 * MS, 1, 0).expect("silent past the gap limit");
        assert!(matches!(fired.action, DeadlineAction::Start(_)));
        assert!(fired.report.contains("token_gap"), "{}", fired.report);
        assert!(
            fired.report.contains("since the last token"),
            "{}",
            fired.report
        );
        // A finished generation is never a gap, however long the language stage takes.
        queue(&w, 2, 300 * MS, "turn left");
        pulse.start(300 * MS);
        pulse.token(310 * MS);
        w.on_first_text(2);
        pulse.end();
        assert!(w.check(2000 * MS, 2, 0).is_none());
    }

    #[test]
    fn answered_superseded_or_stopped_commands_are_not_enforced() {
        let w = DeadlineWatch::new(budget(), MissPolicy::Fallback);
        queue(&w, 1, Duration::ZERO, "turn left");
        w.on_done(1);
        assert!(w.check(1000 * MS, 1, 0).is_none(), "answered");
        queue(&w, 2, Duration::ZERO, "turn left");
        assert!(w.check(1000 * MS, 3, 0).is_none(), "a newer command exists");
        assert!(
            w.check(1000 * MS, 2, 2).is_none(),
            "a reflex stop came after"
        );
        let fired = w.check(1000 * MS, 2, 1).expect("still pending");
        assert!(matches!(fired.action, DeadlineAction::Start(_)));
    }

    #[test]
    fn an_unparsed_command_fires_without_motion_and_ignore_never_fires() {
        let w = DeadlineWatch::new(budget(), MissPolicy::Fallback);
        queue(&w, 1, Duration::ZERO, "sing a song");
        let fired = w.check(200 * MS, 1, 0).expect("past the limit");
        assert!(matches!(fired.action, DeadlineAction::Nothing));
        let ignore = DeadlineWatch::new(budget(), MissPolicy::Ignore);
        queue(&ignore, 1, Duration::ZERO, "turn left");
        assert!(!ignore.active());
        assert!(ignore.check(10_000 * MS, 1, 0).is_none());
    }
}
