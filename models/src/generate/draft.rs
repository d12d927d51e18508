//! Drafted decoding: tokens the output is expected to continue with (the caller's draft,
//! e.g. a deterministic parse of the request, then the tokens the guide forces) are put
//! to the model in one batched forward pass, whose row i holds the logits a decode step
//! after input i would have. With greedy sampling each row chooses exactly what that
//! step would have chosen, so every expected token the model agrees with saves a step
//! and the output is the model's own either way.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{choose, Event, Generation, StopReason};
use crate::sampling::Sampling;
use crate::Result;

/// How a generation's drafts ([`super::GenerateOptions::draft`] and, with
/// [`super::GenerateOptions::forced_draft`], the guide's forced tokens) went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DraftStats {
    /// Expected tokens put to the model in verification passes.
    pub proposed: usize,
    /// Tokens of the caller's draft the model chose itself (each saved a decode step).
    pub accepted: usize,
    /// Tokens the guide forced that the model chose (each saved a decode step too).
    pub forced: usize,
    /// Verification passes run.
    pub passes: usize,
}

/// A token chosen in a verification pass, emitted on a later step.
pub(super) struct Queued {
    pub(super) id: u32,
    pub(super) took: Duration,
    pub(super) mask_took: Option<Duration>,
}

/// Where an expected token came from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    Draft,
    Guide,
}

/// The tokens expected next, in order; emptied at the first token that differs.
pub(super) struct Expected(VecDeque<(u32, Source)>);

impl Expected {
    /// Expects `draft` from the first generated token on.
    pub(super) fn new(draft: &[u32]) -> Self {
        Self(draft.iter().map(|&t| (t, Source::Draft)).collect())
    }

    /// The generation chose `id`: drops it from the front when it was expected (and
    /// says from where), else forgets the rest (the output went another way).
    pub(super) fn follow(&mut self, id: u32) -> Option<Source> {
        match self.0.front() {
            Some(&(t, source)) if t == id => {
                self.0.pop_front();
                Some(source)
            }
            _ => {
                self.0.clear();
                None
            }
        }
    }
}

impl Generation<'_> {
    /// With nothing left to expect, expects the tokens the guide forces now.
    pub(super) fn refill_expected(&mut self) {
        if !self.opts.forced_draft || !self.expected.0.is_empty() {
            return;
        }
        if let Some(g) = self.guide.as_deref_mut() {
            let forced = g.forced();
            self.expected
                .0
                .extend(forced.into_iter().map(|t| (t, Source::Guide)));
        }
    }

    /// Expected tokens the next verification pass checks: none unless sampling is
    /// greedy, and no more than the context, `max_tokens` and the pass limit allow.
    pub(super) fn draft_ahead(&self) -> usize {
        if self.opts.sampling != Sampling::Greedy {
            return 0;
        }
        let done = self.generated.len();
        let room = self.state.context() - self.state.pos() - 1;
        let budget = self.opts.max_tokens.saturating_sub(done + 1);
        self.expected
            .0
            .len()
            .min(room)
            .min(budget)
            .min(self.draft_window())
    }

    /// Most expected tokens one verification pass may check (see
    /// [`super::GenerateOptions::draft_pass_max`]): the pass also runs the latest
    /// token's row.
    fn draft_window(&self) -> usize {
        match (self.opts.draft_pass_max, self.row_cost) {
            (Some(max), Some(row)) if !row.is_zero() => {
                let rows = max.as_nanos() / row.as_nanos();
                usize::try_from(rows)
                    .unwrap_or(usize::MAX)
                    .saturating_sub(1)
            }
            _ => usize::MAX,
        }
    }

    /// One forward pass over `last` and the next expected tokens; row i's logits choose
    /// the token after input i exactly as a decode step would (mask, sample), and the
    /// tokens are queued until one differs from what was expected (that one, the
    /// model's, is kept too). Rows past it are dropped from the cache. Emits the first
    /// queued token.
    pub(super) fn verify_draft(&mut self, last: u32, start: Instant) -> Result<Event> {
        let ahead = self.draft_ahead();
        let mut input = Vec::with_capacity(ahead + 1);
        input.push(last);
        input.extend(self.expected.0.iter().take(ahead).map(|&(t, _)| t));
        // Row i chooses the token after input i: the last expected token's row is needed
        // only if the output may go on after it. When the expected tokens end the grammar
        // (a whole drafted plan) it is left out; the row before it still verifies it.
        if input.len() > 1
            && self
                .guide
                .as_deref_mut()
                .is_some_and(|g| g.ends_after(&input[1..]))
        {
            input.pop();
        }
        let base = self.state.pos();
        let sparse = self.sparse_rows();
        match self.heads.as_mut() {
            Some(hb) if sparse => self
                .model
                .forward_hidden(self.state, &input, &mut hb.hidden)?,
            _ => self
                .model
                .forward_every(self.state, &input, &mut self.every)?,
        }
        self.row_cost = Some(start.elapsed() / input.len() as u32);
        self.draft_stats.passes += 1;
        self.draft_stats.proposed += ahead;
        let vocab = self.model.config().vocab;
        let mut kept = 1; // cache rows still valid: `last`, then each accepted token
        for row in 0..input.len() {
            let guide = self.guide.as_deref_mut();
            let (id, mask_took) = match self.heads.as_mut() {
                Some(hb) if sparse => hb.choose(self.model, guide, &mut self.sampler, row)?,
                _ => {
                    let logits = &mut self.every[row * vocab..(row + 1) * vocab];
                    choose(guide, &mut self.sampler, logits)?
                }
            };
            if self.tokenizer.is_eos(id) || self.opts.stop_ids.contains(&id) {
                self.queued_end = Some(StopReason::Eos(id));
                break;
            }
            if let Some(g) = self.guide.as_deref_mut() {
                g.commit(id)?;
            }
            let took = if row == 0 {
                start.elapsed()
            } else {
                Duration::ZERO
            };
            self.queued.push_back(Queued {
                id,
                took,
                mask_took,
            });
            // Row `row` checks proposed token `row + 1` (1-based); the row after the last
            // proposed one, or a token that differs, ends the pass.
            let followed = self.expected.follow(id);
            match followed {
                Some(source) if row < ahead => match source {
                    Source::Guide => self.draft_stats.forced += 1,
                    Source::Draft => self.draft_stats.accepted += 1,
                },
                _ => break,
            }
            if input.get(row + 1) != Some(&id) {
                break; // the last proposed token, verified, has no row of its own
            }
            kept += 1;
            if self.guide.as_deref().is_some_and(|g| g.is_finished()) {
                break;
            }
        }
        self.state.rewind(base + kept);
        match self.queued.pop_front() {
            Some(q) => self.emit(q.id, q.took, q.mask_took),
            None => {
                let end = self.queued_end.take().unwrap_or(StopReason::MaxTokens);
                Ok(self.finish(end))
            }
        }
    }
}
