//! The generation driver: pulls events from a token generator (any iterator of
//! [`GenEvent`]s, so bora-rt does not depend on bora-models: bora-llm adapts one to
//! the other), checks the [`TokenBudget`] after every prefill chunk and every token, and
//! on a miss sets the shared cancel flag and stops. It also stops when someone else sets the flag (a new
//! command preempting this one).
//!
//! The generator should check the same cancel flag between forward passes; a forward
//! pass itself cannot be interrupted, which is why prefill comes in chunks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::budget::{BudgetMiss, BudgetTracker, MissPolicy, TokenBudget};
use crate::clock::Clock;
use crate::metrics::{Counter, Recorder};

/// One step of generation, as reported by the generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenEvent<T> {
    /// A chunk of the prompt was processed (`tokens` prompt tokens).
    PrefillChunk {
        /// Prompt tokens in this chunk.
        tokens: usize,
    },
    /// A token was generated (its payload: id, text piece...).
    Token(T),
}

/// Counts about one generation run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Tokens generated.
    pub tokens: u32,
    /// Prefill chunks processed.
    pub prefill_chunks: u32,
    /// Time from the start of the run to its end.
    pub elapsed: Duration,
    /// Time from the start of the run to the first token, if there was one.
    pub time_to_first_token: Option<Duration>,
    /// The first miss, when the policy is [`MissPolicy::Ignore`] and generation went on.
    pub ignored_miss: Option<BudgetMiss>,
}

/// How a generation run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenOutcome<E> {
    /// The generator finished (possibly with an ignored miss, see [`GenStats`]).
    Completed(GenStats),
    /// A budget limit was missed; the cancel flag was set and the run stopped.
    Missed {
        /// Which limit and by how much.
        miss: BudgetMiss,
        /// Counts up to the miss.
        stats: GenStats,
    },
    /// The cancel flag was set by someone else (preemption); the run stopped.
    Cancelled(GenStats),
    /// The generator returned an error.
    Failed {
        /// The generator's error.
        error: E,
        /// Counts up to the error.
        stats: GenStats,
    },
}

/// Optional metrics a driver records into.
#[derive(Debug)]
pub struct GenMetrics {
    /// Time to first token, per run.
    pub ttft: Recorder,
    /// Gap between tokens.
    pub token_gap: Recorder,
    /// Budget misses (all limits).
    pub misses: Counter,
}

/// Runs generations under a budget. Owned by the language stage and reused for every
/// command; its tracing span is created once and entered per event.
#[derive(Debug)]
pub struct GenerationDriver {
    budget: TokenBudget,
    policy: MissPolicy,
    cancel: Arc<AtomicBool>,
    metrics: Option<GenMetrics>,
    step_span: tracing::Span,
}

impl GenerationDriver {
    /// A driver enforcing `budget`; with [`MissPolicy::Ignore`] a miss is recorded and
    /// generation continues, with the other policies it cancels.
    pub fn new(budget: TokenBudget, policy: MissPolicy) -> Self {
        Self {
            budget,
            policy,
            cancel: Arc::new(AtomicBool::new(false)),
            metrics: None,
            step_span: tracing::info_span!("gen_step"),
        }
    }

    /// Records TTFT, token gaps and misses into `metrics`.
    pub fn with_metrics(mut self, metrics: GenMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The cancel flag: the generator polls it, and a preempting command sets it.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// The budget enforced.
    pub fn budget(&self) -> TokenBudget {
        self.budget
    }

    /// The metrics, e.g. to publish them after a run.
    pub fn metrics_mut(&mut self) -> Option<&mut GenMetrics> {
        self.metrics.as_mut()
    }

    /// Runs one generation: clears the cancel flag, then pulls `events` until they end,
    /// a limit is missed, the flag is set or the generator fails. `on_token` receives
    /// each token's payload in order (before the budget check, so a late token is still
    /// delivered). Allocates nothing itself.
    pub fn run<T, E, I, C, F>(&mut self, events: I, clock: &C, mut on_token: F) -> GenOutcome<E>
    where
        I: IntoIterator<Item = Result<GenEvent<T>, E>>,
        C: Clock + ?Sized,
        F: FnMut(T),
    {
        self.cancel.store(false, Ordering::SeqCst);
        let mut tracker = BudgetTracker::start(self.budget, clock.now());
        let mut stats = GenStats::default();
        let mut events = events.into_iter();
        loop {
            if self.cancel.load(Ordering::SeqCst) {
                return GenOutcome::Cancelled(finish(stats, &tracker, clock));
            }
            let _step = self.step_span.enter();
            let event = match events.next() {
                // A generator that honours the flag itself ends its events when it sees
                // it (bora's does, between prefill chunks): that end is the preemption.
                None if self.cancel.load(Ordering::SeqCst) => {
                    return GenOutcome::Cancelled(finish(stats, &tracker, clock))
                }
                None => return GenOutcome::Completed(finish(stats, &tracker, clock)),
                Some(Err(error)) => {
                    return GenOutcome::Failed {
                        error,
                        stats: finish(stats, &tracker, clock),
                    }
                }
                Some(Ok(event)) => event,
            };
            let now = clock.now();
            let checked = match event {
                GenEvent::PrefillChunk { .. } => {
                    stats.prefill_chunks += 1;
                    tracker.on_prefill_chunk(now)
                }
                GenEvent::Token(payload) => {
                    stats.tokens += 1;
                    let waited = tracker.waiting(now);
                    if let Some(m) = &mut self.metrics {
                        let recorder = if tracker.tokens() == 0 {
                            &mut m.ttft
                        } else {
                            &mut m.token_gap
                        };
                        recorder.record(waited);
                    }
                    on_token(payload);
                    tracker.on_token(now).map(|_| ())
                }
            };
            if let Err(miss) = checked {
                if let Some(m) = &self.metrics {
                    m.misses.incr();
                }
                if self.policy == MissPolicy::Ignore {
                    stats.ignored_miss.get_or_insert(miss);
                    continue;
                }
                self.cancel.store(true, Ordering::SeqCst);
                tracing::debug!(limit = ?miss.limit, over_by_us = miss.over_by.as_micros() as u64, "token budget missed");
                return GenOutcome::Missed {
                    miss,
                    stats: finish(stats, &tracker, clock),
                };
            }
        }
    }
}

fn finish<C: Clock + ?Sized>(mut stats: GenStats, tracker: &BudgetTracker, clock: &C) -> GenStats {
    stats.elapsed = tracker.elapsed(clock.now());
    stats.time_to_first_token = tracker.time_to_first_token();
    stats
}
