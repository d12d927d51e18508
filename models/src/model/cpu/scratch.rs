//! The lean CPU path's per-state scratch buffers: sized for the prefill chunk and the
//! context, grown once when a call brings more tokens, never shrunk. A state owns one,
//! so a steady-state decode step allocates nothing.

use super::attention;
use crate::model::config::ModelConfig;

/// Scratch buffers of one forward pass, sized for a number of tokens per call (the
/// prefill chunk) and the context; grown (once) when a call brings more tokens.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Tokens per call the buffers hold.
    pub(super) tokens: usize,
    /// Residual stream (tokens x hidden).
    pub(super) x: Vec<f32>,
    /// Normalised input of a sub-layer (tokens x hidden).
    pub(super) xn: Vec<f32>,
    /// Queries (tokens x heads x head_dim).
    pub(super) q: Vec<f32>,
    /// Keys of this call (tokens x kv heads x head_dim).
    pub(super) k: Vec<f32>,
    /// Values of this call (tokens x kv heads x head_dim).
    pub(super) v: Vec<f32>,
    /// Attention output (tokens x heads x head_dim).
    pub(super) att: Vec<f32>,
    /// Output of a sub-layer (tokens x hidden).
    pub(super) o: Vec<f32>,
    /// MLP gate (tokens x ffn).
    pub(super) g: Vec<f32>,
    /// MLP up (tokens x ffn).
    pub(super) u: Vec<f32>,
    /// Attention scores, one row of `context` per pool thread.
    pub(super) scores: Vec<f32>,
    /// Final-normalised last row (hidden).
    pub(super) last: Vec<f32>,
}

impl Scratch {
    /// Buffers for `tokens` tokens per call and `context` positions.
    pub(crate) fn new(cfg: &ModelConfig, tokens: usize, context: usize) -> Self {
        let mut s = Self::default();
        s.ensure(cfg, tokens, context);
        s
    }

    /// Grow to hold `tokens` tokens per call (no-op when already large enough).
    pub(super) fn ensure(&mut self, cfg: &ModelConfig, tokens: usize, context: usize) {
        let scores = attention::scores_len(context);
        if tokens <= self.tokens && self.scores.len() >= scores && !self.last.is_empty() {
            return;
        }
        let t = tokens.max(self.tokens);
        let (h, ffn) = (cfg.hidden, cfg.ffn);
        let (qd, kvd) = (cfg.n_head * cfg.head_dim, cfg.n_kv_head * cfg.head_dim);
        for (buf, n) in [
            (&mut self.x, t * h),
            (&mut self.xn, t * h),
            (&mut self.q, t * qd),
            (&mut self.k, t * kvd),
            (&mut self.v, t * kvd),
            (&mut self.att, t * qd),
            (&mut self.o, t * h),
            (&mut self.g, t * ffn),
            (&mut self.u, t * ffn),
            (&mut self.scores, scores),
            (&mut self.last, h),
        ] {
            buf.resize(n, 0.0);
        }
        self.tokens = t;
    }
}
