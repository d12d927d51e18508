//! The llama forward pass for training: f32 candle ops that all have a backward pass.
//!
//! candle-nn's fused `rms_norm`, `softmax_last_dim` and `rope_i` are recorded without a
//! gradient (`apply_op*_no_bwd` in 0.11.1), so a LoRA on `q_proj` would silently receive
//! none through them; this module builds the same maths from primitive ops instead.
//!
//! No KV cache: tokens (seq,) in, logits (seq, vocab) out. Several short sequences can
//! share one pass ([`BaseModel::hidden_states_packed`]): their tokens are concatenated,
//! positions restart at 0 for each, the projections and the MLP run on all rows at once
//! (a batch without padding), and attention runs per sequence, so each gets exactly the
//! states it would get alone. (One block-diagonal mask over all rows was measured 3x
//! slower per example: candle's broadcast ops over the seq x seq scores dominate.) As
//! llama.cpp
//! runs a `llama` GGUF: RMS norm, rotary embedding on interleaved pairs (its NORM mode,
//! on the converter's permuted q/k rows), grouped-query attention with a causal mask,
//! SwiGLU MLP, final norm, output head (tied to the embedding when the file has no
//! `output.weight`).

use candle_core::{DType, Device, Tensor, D};

use crate::frozen;
use crate::lora::{LoraAdapter, Target};
use crate::weights::BaseModel;
use crate::{Error, Result};

/// An adapter to apply during a forward pass, and whether its variables get gradients.
#[derive(Debug, Clone, Copy)]
pub struct Adapted<'a> {
    /// The adapter.
    pub lora: &'a LoraAdapter,
    /// Record the adapter's ops for backprop (training) or not (evaluation).
    pub track: bool,
}

impl BaseModel {
    /// Logits (seq, vocab), f32, for `tokens` at positions 0..seq, with `adapter` if given.
    pub fn logits(&self, tokens: &[u32], adapter: Option<Adapted<'_>>) -> Result<Tensor> {
        let h = self.hidden_states(tokens, adapter)?;
        self.head(&h)
    }

    /// The output head applied to final hidden states (rows, hidden): logits (rows, vocab).
    pub fn head(&self, hidden: &Tensor) -> Result<Tensor> {
        frozen::linear(hidden, &self.output)
    }

    /// Hidden states (seq, hidden) after the final norm, before the output head.
    pub fn hidden_states(&self, tokens: &[u32], adapter: Option<Adapted<'_>>) -> Result<Tensor> {
        self.hidden_states_packed(&[tokens], adapter)
    }

    /// Hidden states of several sequences in one pass: (total tokens, hidden), the rows of
    /// `seqs[0]` first, then `seqs[1]`, ...; each row equals what [`Self::hidden_states`]
    /// gives for its sequence alone (up to f32 rounding).
    pub fn hidden_states_packed(
        &self,
        seqs: &[&[u32]],
        adapter: Option<Adapted<'_>>,
    ) -> Result<Tensor> {
        if seqs.iter().any(|s| s.is_empty()) {
            return Err(Error::InvalidSetting {
                name: "tokens",
                value: "[]".into(),
                reason: "a forward pass needs at least one token per sequence".into(),
            });
        }
        let tokens: Vec<u32> = seqs.iter().flat_map(|s| s.iter().copied()).collect();
        let lens: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
        self.forward_packed(&tokens, &lens, adapter)
    }

    /// The pass itself over `tokens`, the concatenation of sequences of lengths `lens`.
    fn forward_packed(
        &self,
        tokens: &[u32],
        lens: &[usize],
        adapter: Option<Adapted<'_>>,
    ) -> Result<Tensor> {
        let c = &self.config;
        if tokens.is_empty() {
            return Err(Error::InvalidSetting {
                name: "tokens",
                value: "[]".into(),
                reason: "a forward pass needs at least one token".into(),
            });
        }
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= c.vocab) {
            return Err(Error::InvalidSetting {
                name: "tokens",
                value: bad.to_string(),
                reason: format!("token ids must be below the vocabulary size {}", c.vocab),
            });
        }
        if let Some(a) = adapter {
            if a.lora.layers.len() != self.blocks.len() {
                return Err(Error::InvalidAdapter {
                    path: self.path.clone(),
                    reason: format!(
                        "adapter has {} layers, the model {}",
                        a.lora.layers.len(),
                        self.blocks.len()
                    ),
                });
            }
        }
        let dev = self.device();
        let ids = Tensor::new(tokens, dev)?;
        let mut x = self.embed.index_select(&ids, 0)?; // (seq, hidden)
        let positions: Vec<usize> = lens.iter().flat_map(|&n| 0..n).collect();
        let rope = Rope::new(c.head_dim, c.rope_base, &positions, dev)?;
        let spans = Span::of(lens, dev)?;
        for (i, block) in self.blocks.iter().enumerate() {
            let lin = |t: Target, x: &Tensor| -> Result<Tensor> {
                let y = frozen::linear(x, t.weight(block))?;
                match adapter.and_then(|a| a.lora.layers[i].get(&t).map(|p| (a, p))) {
                    Some((a, pair)) => Ok((y + pair.delta(x, a.lora.scale, a.track)?)?),
                    None => Ok(y),
                }
            };
            let n = rms_norm(&x, &block.attn_norm, c.rms_eps)?;
            let att = self.attention(&n, &rope, &spans, &lin)?;
            x = (x + att)?;
            let n = rms_norm(&x, &block.ffn_norm, c.rms_eps)?;
            let g = frozen::linear(&n, &block.gate)?.silu()?;
            let u = frozen::linear(&n, &block.up)?;
            x = (x + frozen::linear(&(g * u)?, &block.down)?)?;
        }
        rms_norm(&x, &self.norm, c.rms_eps)
    }

    /// Grouped-query causal self-attention of normalised `x` (seq, hidden), each span of
    /// rows attending only within itself; `lin` applies one (possibly adapted) projection.
    fn attention(
        &self,
        x: &Tensor,
        rope: &Rope,
        spans: &[Span],
        lin: &dyn Fn(Target, &Tensor) -> Result<Tensor>,
    ) -> Result<Tensor> {
        let c = &self.config;
        let (seq, _) = x.dims2()?;
        let (hd, nh, nkv) = (c.head_dim, c.n_head, c.n_kv_head);
        // (heads, seq, head_dim)
        let q = lin(Target::Q, x)?.reshape((seq, nh, hd))?.transpose(0, 1)?;
        let k = lin(Target::K, x)?
            .reshape((seq, nkv, hd))?
            .transpose(0, 1)?;
        let v = lin(Target::V, x)?
            .reshape((seq, nkv, hd))?
            .transpose(0, 1)?;
        let q = rope.apply(&q)?;
        let k = rope.apply(&k)?;
        let mut ys = Vec::with_capacity(spans.len());
        for span in spans {
            let part = |t: &Tensor| t.narrow(1, span.start, span.len);
            ys.push(attend(&part(&q)?, &part(&k)?, &part(&v)?, &span.mask, nkv)?);
        }
        let y = if ys.len() == 1 {
            ys.pop().expect("one span")
        } else {
            Tensor::cat(&ys, 1)?
        };
        let y = y.transpose(0, 1)?.reshape((seq, nh * hd))?;
        lin(Target::O, &y)
    }
}

/// Causal attention of one sequence: q (nh, len, hd), k and v (nkv, len, hd), `mask`
/// (len, len); returns (nh, len, hd).
fn attend(q: &Tensor, k: &Tensor, v: &Tensor, mask: &Tensor, nkv: usize) -> Result<Tensor> {
    let (nh, len, hd) = q.dims3()?;
    // Query heads sharing a kv head are adjacent: (nkv, n_rep * len, hd).
    let n_rep = nh / nkv;
    let q = q.contiguous()?.reshape((nkv, n_rep * len, hd))?;
    let scale = 1.0 / (hd as f64).sqrt();
    let att = (q.matmul(&k.t()?.contiguous()?)? * scale)?; // (nkv, n_rep * len, len)
    let att = att
        .reshape((nkv, n_rep, len, len))?
        .broadcast_add(mask)?
        .reshape((nkv, n_rep * len, len))?;
    let att = candle_nn::ops::softmax(&att, D::Minus1)?;
    let y = att.matmul(&v.contiguous()?)?; // (nkv, n_rep * len, hd)
    Ok(y.reshape((nh, len, hd))?)
}

/// One packed sequence: its rows and its causal mask.
struct Span {
    /// First row of the sequence in the packed pass.
    start: usize,
    /// Its number of tokens.
    len: usize,
    /// Additive causal mask (len, len).
    mask: Tensor,
}

impl Span {
    /// The spans of sequences of lengths `lens` laid end to end.
    fn of(lens: &[usize], dev: &Device) -> Result<Vec<Self>> {
        let mut start = 0;
        let mut spans = Vec::with_capacity(lens.len());
        for &len in lens {
            spans.push(Span {
                start,
                len,
                mask: causal_mask(len, dev)?,
            });
            start += len;
        }
        Ok(spans)
    }
}

/// RMS norm over the last dimension, scaled by `weight`, from differentiable ops.
pub fn rms_norm(x: &Tensor, weight: &Tensor, eps: f32) -> Result<Tensor> {
    let ms = x.sqr()?.mean_keepdim(D::Minus1)?;
    let inv = (ms + f64::from(eps))?.sqrt()?.recip()?;
    Ok(x.broadcast_mul(&inv)?.broadcast_mul(weight)?)
}

/// Additive causal mask (seq, seq): 0 where key j <= query i, -inf after.
fn causal_mask(seq: usize, dev: &Device) -> Result<Tensor> {
    let m: Vec<f32> = (0..seq * seq)
        .map(|k| {
            if k % seq > k / seq {
                f32::NEG_INFINITY
            } else {
                0.0
            }
        })
        .collect();
    Ok(Tensor::from_vec(m, (seq, seq), dev)?)
}

/// Rotary tables for the given token positions, applied to interleaved pairs (2i, 2i+1).
struct Rope {
    /// cos of position x frequency, (seq, head_dim / 2, 1).
    cos: Tensor,
    /// sin of position x frequency, (seq, head_dim / 2, 1).
    sin: Tensor,
}

impl Rope {
    /// Tables for `positions` (one per row) with frequencies base^(-2i / head_dim),
    /// computed in f32 the way bora-models computes its tables.
    fn new(head_dim: usize, base: f32, positions: &[usize], dev: &Device) -> Result<Self> {
        let seq = positions.len();
        let half = head_dim / 2;
        let inv: Vec<f32> = (0..half)
            .map(|i| 1.0 / base.powf((2 * i) as f32 / head_dim as f32))
            .collect();
        let angles: Vec<f32> = positions
            .iter()
            .flat_map(|&p| inv.iter().map(move |f| p as f32 * f))
            .collect();
        let cos: Vec<f32> = angles.iter().map(|a| a.cos()).collect();
        let sin: Vec<f32> = angles.iter().map(|a| a.sin()).collect();
        Ok(Self {
            cos: Tensor::from_vec(cos, (seq, half, 1), dev)?,
            sin: Tensor::from_vec(sin, (seq, half, 1), dev)?,
        })
    }

    /// Rotate `x` (heads, seq, head_dim): (x0, x1) -> (x0 cos - x1 sin, x0 sin + x1 cos).
    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        let (h, seq, hd) = x.dims3()?;
        let x = x.contiguous()?.reshape((h, seq, hd / 2, 2))?;
        let x0 = x.narrow(D::Minus1, 0, 1)?;
        let x1 = x.narrow(D::Minus1, 1, 1)?;
        let y0 = (x0.broadcast_mul(&self.cos)? - x1.broadcast_mul(&self.sin)?)?;
        let y1 = (x0.broadcast_mul(&self.sin)? + x1.broadcast_mul(&self.cos)?)?;
        Ok(Tensor::cat(&[y0, y1], D::Minus1)?.reshape((h, seq, hd))?)
    }
}

/// Index of the largest value in each row of `logits` (rows, vocab).
pub fn argmax_rows(logits: &Tensor) -> Result<Vec<u32>> {
    Ok(logits
        .to_dtype(DType::F32)?
        .argmax(D::Minus1)?
        .to_vec1::<u32>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rope_matches_candle_fused_rope_i() -> Result<()> {
        let dev = Device::Cpu;
        let (h, seq, hd) = (3, 5, 8);
        let x = Tensor::randn(0f32, 1.0, (h, seq, hd), &dev)?;
        let positions: Vec<usize> = (0..seq).collect();
        let rope = Rope::new(hd, 10_000.0, &positions, &dev)?;
        let ours = rope.apply(&x)?;
        let cos = rope.cos.reshape((seq, hd / 2))?;
        let sin = rope.sin.reshape((seq, hd / 2))?;
        let fused = candle_nn::rotary_emb::rope_i(&x.unsqueeze(0)?, &cos, &sin)?.squeeze(0)?;
        let diff = (ours - fused)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-6, "max difference {diff}");
        Ok(())
    }

    #[test]
    fn rms_norm_matches_candle_fused_rms_norm() -> Result<()> {
        let dev = Device::Cpu;
        let x = Tensor::randn(0f32, 2.0, (4, 16), &dev)?;
        let w = Tensor::randn(1f32, 0.1, 16, &dev)?;
        let ours = rms_norm(&x, &w, 1e-5)?;
        let fused = candle_nn::ops::rms_norm(&x, &w, 1e-5)?;
        let diff = (ours - fused)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-5, "max difference {diff}");
        Ok(())
    }

    #[test]
    fn mask_hides_only_the_future() -> Result<()> {
        let m = causal_mask(3, &Device::Cpu)?.to_vec2::<f32>()?;
        let vis: Vec<Vec<bool>> = m
            .iter()
            .map(|r| r.iter().map(|v| v.is_finite()).collect())
            .collect();
        assert_eq!(
            vis,
            [
                [true, false, false],
                [true, true, false],
                [true, true, true]
            ]
        );
        Ok(())
    }
}
