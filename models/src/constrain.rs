//! Constrained decoding: a JSON schema or a Lark grammar decides which tokens may come
//! next, so the model's output always parses.
//!
//! Built on llguidance: the expensive per-vocabulary part (token trie and slices) is made
//! once per [`ModelTokenizer`] and shared; a [`Constraint`] per generation is cheap. Each
//! step is [`Constraint::compute_mask`] (which tokens are allowed), sampling among them,
//! then [`Constraint::commit`]. The time spent computing masks is recorded
//! ([`MaskStats`]) so the generator can report what the constraint costs per token.

use std::time::{Duration, Instant};

use llguidance::api::TopLevelGrammar;
use llguidance::Matcher;
use serde_json::Value;

use crate::generate::Guide;
pub use crate::token_mask::TokenMask;
use crate::{Error, ModelTokenizer, Result};

/// Time spent computing token masks for one constraint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MaskStats {
    /// Masks computed.
    pub count: u64,
    /// Total time computing them, in microseconds.
    pub total_us: u64,
    /// The slowest one, in microseconds.
    pub max_us: u64,
    /// The latest one, in microseconds.
    pub last_us: u64,
}

impl MaskStats {
    /// Mean time per mask in microseconds (0 before the first).
    pub fn mean_us(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.total_us as f64 / self.count as f64
        }
    }

    fn record(&mut self, took: Duration) {
        let us = took.as_micros().min(u128::from(u64::MAX)) as u64;
        self.count += 1;
        self.total_us = self.total_us.saturating_add(us);
        self.max_us = self.max_us.max(us);
        self.last_us = us;
    }
}

/// The grammar state of one constrained generation.
pub struct Constraint {
    matcher: Matcher,
    stats: MaskStats,
}

impl std::fmt::Debug for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Constraint")
            .field("finished", &self.is_finished())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Constraint {
    /// Output must be one JSON value matching `schema` (JSON Schema, as llguidance
    /// supports it). Written compactly (no whitespace between tokens: fewer tokens, less
    /// latency) unless the schema carries its own `"x-guidance"` options.
    pub fn json_schema(tokenizer: &ModelTokenizer, schema: &Value) -> Result<Constraint> {
        let mut schema = schema.clone();
        if let Some(obj) = schema.as_object_mut() {
            obj.entry("x-guidance")
                .or_insert_with(|| serde_json::json!({ "whitespace_flexible": false }));
        }
        Self::new(
            tokenizer,
            TopLevelGrammar::from_json_schema(schema),
            "JSON schema",
        )
    }

    /// Output must match the Lark grammar `grammar` (llguidance's Lark dialect; the
    /// start rule is `start`).
    pub fn lark(tokenizer: &ModelTokenizer, grammar: &str) -> Result<Constraint> {
        Self::new(
            tokenizer,
            TopLevelGrammar::from_lark(grammar.to_string()),
            "Lark grammar",
        )
    }

    fn new(
        tokenizer: &ModelTokenizer,
        grammar: TopLevelGrammar,
        source_kind: &'static str,
    ) -> Result<Constraint> {
        let factory = tokenizer.parser_factory()?;
        let parser = factory
            .create_parser(grammar)
            .map_err(|e| Error::ConstraintGrammar {
                source_kind,
                reason: e.to_string(),
            })?;
        let matcher = Matcher::new(Ok(parser));
        if let Some(reason) = matcher.get_error() {
            return Err(Error::ConstraintGrammar {
                source_kind,
                reason,
            });
        }
        Ok(Constraint {
            matcher,
            stats: MaskStats::default(),
        })
    }

    /// The tokens allowed next. Once the grammar is complete, only the end-of-sequence
    /// tokens are allowed.
    pub fn compute_mask(&mut self) -> Result<TokenMask> {
        let start = Instant::now();
        let mask = self.matcher.compute_mask_or_eos();
        self.stats.record(start.elapsed());
        mask.map(TokenMask::new).map_err(|e| Error::ConstraintStep {
            token: None,
            reason: e.to_string(),
        })
    }

    /// Advances the grammar by the chosen token; an error if the token was not allowed.
    pub fn commit(&mut self, token: u32) -> Result<()> {
        self.matcher
            .consume_token(token)
            .map_err(|e| Error::ConstraintStep {
                token: Some(token),
                reason: e.to_string(),
            })
    }

    /// Whether the output is complete (nothing but end-of-sequence may follow).
    pub fn is_finished(&self) -> bool {
        self.matcher.is_stopped()
    }

    /// Whether the output so far is already a complete match (it may still continue).
    pub fn is_accepting(&mut self) -> bool {
        self.matcher.is_accepting().unwrap_or(false)
    }

    /// Time spent computing masks so far.
    pub fn mask_stats(&self) -> MaskStats {
        self.stats
    }
}

impl Guide for Constraint {
    fn mask_logits(&mut self, logits: &mut [f32]) -> Result<()> {
        self.compute_mask()?.apply(logits);
        Ok(())
    }

    fn commit(&mut self, token: u32) -> Result<()> {
        Constraint::commit(self, token)
    }

    fn is_finished(&self) -> bool {
        Constraint::is_finished(self)
    }

    fn forced(&mut self) -> Vec<u32> {
        self.matcher.compute_ff_tokens()
    }

    fn allowed(&mut self) -> Result<Option<TokenMask>> {
        self.compute_mask().map(Some)
    }

    fn ends_after(&mut self, tokens: &[u32]) -> bool {
        let mut probe = self.matcher.deep_clone();
        probe.try_consume_tokens(tokens).ok() == Some(tokens.len()) && probe.is_stopped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_can_move_to_the_language_thread() {
        fn assert_send<T: Send>() {}
        assert_send::<Constraint>();
        assert_send::<TokenMask>();
    }

    #[test]
    fn stats_accumulate_in_microseconds() {
        let mut s = MaskStats::default();
        s.record(Duration::from_micros(30));
        s.record(Duration::from_micros(10));
        assert_eq!((s.count, s.total_us, s.max_us, s.last_us), (2, 40, 30, 10));
        assert_eq!(s.mean_us(), 20.0);
    }
}
