//! The lean CPU forward pass: the whole transformer over plain f32 buffers that live in
//! the [`ModelState`], so a steady-state decode step allocates nothing and dispatches
//! nothing but the weight products (through [`QLinear::forward_slice`]) and a few
//! tight loops. Prefill runs many tokens per call: every weight product sees all of
//! them at once.
//!
//! [`QLinear::forward_slice`]: super::QLinear::forward_slice

mod attention;
pub mod embed;
pub mod ops;
mod par;
pub(crate) mod scratch;

use super::state::{wrong_backend, Caches, CpuKv, ModelState};
use super::Model;
use crate::Result;
use ops::{rms_norm_row, rms_norm_rows_inplace, rope_head};
pub use scratch::Scratch;

/// What a lean forward pass leaves after its last layer.
pub(crate) enum Head<'a> {
    /// The last token's logits, in `state.logits`.
    Last,
    /// Also the logits of every token (tokens x vocab, the last row equal to
    /// `state.logits`).
    Every(&'a mut [f32]),
    /// No logits: the final-normed hidden state of every token (tokens x hidden), from
    /// which [`Model::logits_for`] computes the logits of chosen tokens.
    Hidden(&'a mut [f32]),
}

impl Model {
    /// Run `tokens` at `state.pos()` on the lean CPU path and leave what `head` asks for.
    /// The caller has checked the tokens, the room left and the size of `head`'s buffer.
    pub(crate) fn forward_cpu(
        &self,
        state: &mut ModelState,
        tokens: &[u32],
        head: Head<'_>,
    ) -> Result<()> {
        let cfg = &self.config;
        let pos = state.pos();
        let n = tokens.len();
        let ctx = state.shape.context;
        let Caches::Lean { layers, scratch } = &mut state.caches else {
            return Err(wrong_backend("CPU"));
        };
        scratch.ensure(cfg, n, ctx);
        let s = scratch;
        let (h, hd, ffn) = (cfg.hidden, cfg.head_dim, cfg.ffn);
        let (nh, nkv) = (cfg.n_head, cfg.n_kv_head);
        let (qd, kvd) = (nh * hd, nkv * hd);
        let eps = cfg.rms_eps;

        let x = &mut s.x[..n * h];
        for (row, &t) in x.chunks_exact_mut(h).zip(tokens) {
            self.embed.dequantize_row(t as usize, row)?;
        }
        if let Some(scale) = self.embed_scale {
            let scale = scale as f32;
            x.iter_mut().for_each(|v| *v *= scale);
        }

        for (block, CpuKv { k: kc, v: vc }) in self.blocks.iter().zip(layers.iter_mut()) {
            let a = &block.attn;
            let (xn, q, k, v) = (
                &mut s.xn[..n * h],
                &mut s.q[..n * qd],
                &mut s.k[..n * kvd],
                &mut s.v[..n * kvd],
            );
            for (src, dst) in x.chunks_exact(h).zip(xn.chunks_exact_mut(h)) {
                rms_norm_row(src, block.attn_norm.weights(), eps, dst);
            }
            a.wq.forward_slice(xn, n, q)?;
            a.wk.forward_slice(xn, n, k)?;
            a.wv.forward_slice(xn, n, v)?;
            if let Some((qn, kn)) = &a.qk_norm {
                rms_norm_rows_inplace(q, qn.weights(), eps);
                rms_norm_rows_inplace(k, kn.weights(), eps);
            }
            let rope = &self.ropes[a.rope];
            for t in 0..n {
                let (cos, sin) = rope.at(pos + t);
                for head in q[t * qd..(t + 1) * qd].chunks_exact_mut(hd) {
                    rope_head(head, cos, sin, a.rope_style);
                }
                for head in k[t * kvd..(t + 1) * kvd].chunks_exact_mut(hd) {
                    rope_head(head, cos, sin, a.rope_style);
                }
                for g in 0..nkv {
                    let dst = g * ctx * hd + (pos + t) * hd;
                    let src = t * kvd + g * hd;
                    kc[dst..dst + hd].copy_from_slice(&k[src..src + hd]);
                    vc[dst..dst + hd].copy_from_slice(&v[src..src + hd]);
                }
            }

            // Attention: each query sees keys lo..=p (causal, and within the window).
            let att = &mut s.att[..n * qd];
            let shape = attention::Shape {
                n,
                pos,
                n_head: nh,
                n_kv_head: nkv,
                head_dim: hd,
                context: ctx,
                window: a.window,
                scale: a.scale as f32,
            };
            attention::attend(&shape, q, kc, vc, &mut s.scores, att);
            let o = &mut s.o[..n * h];
            a.wo.forward_slice(att, n, o)?;
            if let Some(pn) = &block.post_attn_norm {
                rms_norm_rows_inplace(o, pn.weights(), eps);
            }
            x.iter_mut().zip(o.iter()).for_each(|(r, d)| *r += d);

            // MLP.
            for (src, dst) in x.chunks_exact(h).zip(xn.chunks_exact_mut(h)) {
                rms_norm_row(src, block.ffn_norm.weights(), eps, dst);
            }
            let (g, u) = (&mut s.g[..n * ffn], &mut s.u[..n * ffn]);
            block.mlp.gate.forward_slice(xn, n, g)?;
            block.mlp.up.forward_slice(xn, n, u)?;
            par::gated_activation(block.mlp.activation, &self.gelu, g, u);
            block.mlp.down.forward_slice(g, n, o)?;
            if let Some(pn) = &block.post_ffn_norm {
                rms_norm_rows_inplace(o, pn.weights(), eps);
            }
            x.iter_mut().zip(o.iter()).for_each(|(r, d)| *r += d);
        }

        match head {
            Head::Last => {
                rms_norm_row(
                    &x[(n - 1) * h..],
                    self.norm.weights(),
                    eps,
                    &mut s.last[..h],
                );
                self.output
                    .forward_slice(&s.last[..h], 1, &mut state.logits)?;
            }
            Head::Hidden(out) => {
                for (src, dst) in x.chunks_exact(h).zip(out.chunks_exact_mut(h)) {
                    rms_norm_row(src, self.norm.weights(), eps, dst);
                }
            }
            Head::Every(out) => {
                let xn = &mut s.xn[..n * h];
                for (src, dst) in x.chunks_exact(h).zip(xn.chunks_exact_mut(h)) {
                    rms_norm_row(src, self.norm.weights(), eps, dst);
                }
                self.output.forward_slice(xn, n, out)?;
                let vocab = state.logits.len();
                state.logits.copy_from_slice(&out[(n - 1) * vocab..]);
            }
        }
        state.advance(n);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
