//! One generation driven under the token budget: the model's events adapted to the
//! budget driver's, a preempting command's cancel passed through, and the instants and
//! counts a [`LatencyBreakdown`] is built from.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bora_models::generate::{DraftStats, Event, Generation};
use bora_pipeline::interpret::{micros, BudgetOutcome, LatencyBreakdown};
use bora_rt::clock::Clock;
use bora_rt::generation::{GenEvent, GenOutcome, GenerationDriver};
use bora_rt::pulse::TokenPulse;

/// Payload of a generated token for the budget driver.
struct Tok {
    text: String,
    at: Instant,
    took: Duration,
    mask: Option<Duration>,
}

/// What one driven generation produced: its text and outcome, and the instants and
/// counts its latency breakdown is built from.
pub(crate) struct Streamed {
    pub(crate) text: String,
    pub(crate) outcome: GenOutcome<bora_models::Error>,
    start: Instant,
    prefill_end: Instant,
    first_at: Option<Instant>,
    last_at: Instant,
    mask: Duration,
    tokens: u32,
    draft: DraftStats,
}

/// Runs `gen` under the budget `driver` on `clock`, handing each token's text to
/// `on_text` and marking `pulse` per token; a set `cancel` (a preempting command) stops
/// it through the driver's flag.
pub(crate) fn stream(
    driver: &mut GenerationDriver,
    (clock, pulse): (&dyn Clock, &TokenPulse),
    mut gen: Generation<'_>,
    cancel: &AtomicBool,
    on_text: &mut dyn FnMut(&str),
) -> Streamed {
    let driver_cancel = driver.cancel_flag();
    let start = Instant::now();
    let mut prefill_end = start;
    let mut tail_text = String::new();
    // Adapt the model's events to the driver's, and let a preempting command
    // cancel through the driver's flag (checked by the generator between steps).
    let events = std::iter::from_fn(|| {
        if cancel.load(Ordering::SeqCst) {
            driver_cancel.store(true, Ordering::SeqCst);
        }
        match gen.next()? {
            Ok(Event::Prefill { tokens, at, .. }) => {
                prefill_end = at;
                Some(Ok(GenEvent::PrefillChunk { tokens }))
            }
            Ok(Event::Token {
                text,
                at,
                took,
                mask_took,
                ..
            }) => Some(Ok(GenEvent::Token(Tok {
                text,
                at,
                took,
                mask: mask_took,
            }))),
            Ok(Event::Done { text, .. }) => {
                tail_text = text;
                None
            }
            Err(e) => Some(Err(e)),
        }
    });
    let mut text = String::new();
    let mut first_at = None;
    let mut last_at = start;
    let mut mask = Duration::ZERO;
    let mut tokens = 0u32;
    let outcome = driver.run(events, clock, |tok: Tok| {
        pulse.token(clock.now());
        tokens += 1;
        first_at.get_or_insert(tok.at);
        last_at = tok.at;
        mask += tok.mask.unwrap_or_default();
        let _ = tok.took;
        if !tok.text.is_empty() {
            on_text(&tok.text);
            text.push_str(&tok.text);
        }
    });
    text.push_str(&tail_text);
    let draft = gen.draft_stats();
    // Hand this generation's TTFT and token gaps to the collector; without it they
    // never reached the agent's report.
    if let Some(m) = driver.metrics_mut() {
        m.ttft.publish();
        m.token_gap.publish();
    }
    Streamed {
        text,
        outcome,
        start,
        prefill_end,
        first_at,
        last_at,
        mask,
        tokens,
        draft,
    }
}

impl Streamed {
    /// Fills the prefill, decode, TTFT (from `t0`, the command's arrival) and mask times
    /// (µs) and the token count of `latency`.
    pub(crate) fn fill(&self, latency: &mut LatencyBreakdown, t0: Instant) {
        latency.prefill_us = micros(self.prefill_end.saturating_duration_since(self.start));
        latency.decode_us = micros(self.last_at.saturating_duration_since(self.prefill_end));
        latency.ttft_us = self
            .first_at
            .map(|f| micros(f.saturating_duration_since(t0)));
        latency.mask_us = micros(self.mask);
        latency.tokens = self.tokens;
        latency.draft_accepted = u32::try_from(self.draft.accepted).unwrap_or(u32::MAX);
        latency.forced_accepted = u32::try_from(self.draft.forced).unwrap_or(u32::MAX);
    }
}

/// The budget outcome and error text of a generation's outcome.
pub(crate) fn budget_and_error(
    outcome: GenOutcome<bora_models::Error>,
) -> (BudgetOutcome, Option<String>) {
    match outcome {
        GenOutcome::Completed(stats) => (
            stats
                .ignored_miss
                .map_or(BudgetOutcome::Met, BudgetOutcome::from),
            None,
        ),
        GenOutcome::Missed { miss, .. } => (BudgetOutcome::from(miss), None),
        GenOutcome::Cancelled(_) => (BudgetOutcome::Preempted, None),
        GenOutcome::Failed { error, .. } => (BudgetOutcome::NotRun, Some(error.to_string())),
    }
}
