//! Prefix cache: the KV state after a fixed prefix (a system prompt with its examples)
//! is computed once; a request that starts with the prefix restores it by copying the
//! prefix rows and prefills only its own tokens.

use std::time::{Duration, Instant};

use crate::model::{Model, ModelState, StateSnapshot};
use crate::{Error, Result};

/// The KV rows of a fixed token prefix.
#[derive(Debug, Clone)]
pub struct PrefixCache {
    tokens: Vec<u32>,
    snapshot: StateSnapshot,
    build_time: Duration,
}

impl PrefixCache {
    /// Prefill `tokens` into `state` (reset first) in chunks of `chunk` tokens and keep a
    /// copy of the resulting KV rows. `state` is left holding the prefix.
    pub fn build(
        model: &Model,
        state: &mut ModelState,
        tokens: Vec<u32>,
        chunk: usize,
    ) -> Result<Self> {
        if tokens.is_empty() || chunk == 0 {
            return Err(Error::InvalidArgument {
                name: if tokens.is_empty() {
                    "prefix"
                } else {
                    "prefill_chunk"
                },
                value: if tokens.is_empty() {
                    "[]".into()
                } else {
                    "0".into()
                },
                reason: "the prefix needs at least one token and the chunk at least 1".into(),
            });
        }
        let start = Instant::now();
        state.reset();
        for part in tokens.chunks(chunk) {
            model.forward(state, part)?;
        }
        let snapshot = state.snapshot()?;
        Ok(Self {
            tokens,
            snapshot,
            build_time: start.elapsed(),
        })
    }

    /// The prefix tokens.
    pub fn tokens(&self) -> &[u32] {
        &self.tokens
    }

    /// Number of prefix tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether the prefix is empty (never true for a built cache).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Time it took to compute the prefix's KV state.
    pub fn build_time(&self) -> Duration {
        self.build_time
    }

    /// Bytes of KV data held.
    pub fn bytes(&self) -> usize {
        self.snapshot.bytes()
    }

    /// The part of `prompt` after the prefix, when `prompt` starts with the prefix and has
    /// at least one token of its own.
    pub fn suffix<'p>(&self, prompt: &'p [u32]) -> Option<&'p [u32]> {
        prompt
            .strip_prefix(self.tokens.as_slice())
            .filter(|rest| !rest.is_empty())
    }

    /// Make `state` hold exactly the prefix.
    pub fn restore(&self, state: &mut ModelState) -> Result<()> {
        state.restore(&self.snapshot)
    }

    /// Get `state` ready for `prompt`: restore the prefix when the prompt starts with it
    /// (returning only the tokens still to prefill), otherwise reset and return it all.
    pub fn prepare(&self, state: &mut ModelState, prompt: &[u32]) -> Result<Vec<u32>> {
        match self.suffix(prompt) {
            Some(rest) => {
                self.restore(state)?;
                Ok(rest.to_vec())
            }
            None => {
                state.reset();
                Ok(prompt.to_vec())
            }
        }
    }
}
