//! The pieces every supported architecture shares: quantized linear maps, RMS norm,
//! rotary tables, grouped-query attention over a preallocated KV cache, gated MLP.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Tensor};

use super::config::{Activation, RopeStyle};
use super::lora::LowRank;
use super::state::TensorKv;
use crate::{kernels, Result};

/// The one matmul type of the model: `y = x W^T` with a quantized `W` (rows = outputs).
///
/// Every weight product goes through here. On the CPU, the weight types bora's own
/// kernels handle ([`crate::kernels`]) run there, straight from the weight's block bytes
/// (no second copy), and on x86-64 with AVX2 they are repacked once at load into the
/// interleaved layouts of [`kernels::packed`] (the GGML blocks dropped);
/// everything else (CUDA, other types) goes through candle's QMatMul.
#[derive(Debug, Clone)]
pub struct QLinear {
    weights: Weights,
    bytes: usize,
    out_dim: usize,
    in_dim: usize,
    /// A LoRA update added to every product (see [`super::lora`]).
    low_rank: Option<Arc<LowRank>>,
}

/// Where a [`QLinear`]'s weight lives and which code multiplies it.
#[derive(Debug, Clone)]
enum Weights {
    /// candle's product: CUDA, types bora's kernels do not handle, CPUs without SIMD.
    Candle(QMatMul),
    /// bora's kernels on the GGML blocks, shared with candle's tensor.
    Blocks(Arc<QTensor>, kernels::QType),
    /// Q4_0, Q4_1, Q5_0 or Q8_0 in the interleaved layout (x86-64 with AVX2).
    Packed(Arc<kernels::packed::PackedMatrix>),
}

/// (out, in) of a 2-D weight (0 for a missing dimension).
fn dims(weight: &QTensor) -> (usize, usize) {
    let d = weight.shape().dims();
    (
        d.first().copied().unwrap_or(0),
        d.get(1).copied().unwrap_or(0),
    )
}

/// The type bora's CPU kernels multiply `weight` as, if they do.
fn kernel_type(weight: &QTensor) -> Option<kernels::QType> {
    kernel_type_of(weight.dtype(), weight.shape().dims(), &weight.device())
}

/// The type bora's CPU kernels multiply a weight of `dtype` and `dims` on `device` as, if
/// they do: a 2-D CPU weight of a type they know, whose rows are whole blocks, on a CPU
/// with a SIMD kernel set.
fn kernel_type_of(dtype: GgmlDType, dims: &[usize], device: &Device) -> Option<kernels::QType> {
    kernels::QType::from_ggml(dtype)
        .filter(|_| device.is_cpu() && dims.len() == 2)
        .filter(|t| dims[1].is_multiple_of(t.block_elems()))
        // x86-64 (AVX2) and aarch64 (NEON) have SIMD kernel sets for all six types. A
        // CPU with neither (another architecture, an x86 without AVX2) keeps products
        // on candle: bora's scalar kernels are the tests' reference, not tuned for speed.
        .filter(|_| kernels::Isa::detect() != kernels::Isa::Scalar)
}

/// The type a weight of `dtype` and `dims` on `device` is repacked as
/// ([`kernels::packed`]), where this CPU has kernels for its layout.
pub fn packed_type(dtype: GgmlDType, dims: &[usize], device: &Device) -> Option<kernels::QType> {
    kernel_type_of(dtype, dims, device).filter(|&t| kernels::packed::available(t))
}

/// `weight` multiplied on its GGML blocks: by bora's kernels where they handle it,
/// otherwise by candle.
fn blocks(weight: Arc<QTensor>) -> Result<Weights> {
    Ok(match kernel_type(&weight) {
        Some(ty) => Weights::Blocks(weight, ty),
        None => Weights::Candle(QMatMul::from_arc(weight)?),
    })
}

impl QLinear {
    /// Wrap a quantized weight of shape (out, in). A weight of a type with a repacked
    /// layout (all the kernels' types) no one else holds is repacked on x86-64 (its GGML copy
    /// freed); a shared one keeps its blocks (a tied head is repacked by the model, which
    /// then reads its embedding from the repacked rows: [`QLinear::packed`]).
    pub fn new(weight: Arc<QTensor>) -> Result<Self> {
        let bytes = weight.storage_size_in_bytes();
        let (out_dim, in_dim) = dims(&weight);
        let packable = packed_type(weight.dtype(), weight.shape().dims(), &weight.device());
        let weights = match packable {
            Some(ty) if Arc::strong_count(&weight) == 1 => {
                let data = weight.data()?;
                let p = kernels::packed::PackedMatrix::new(ty, &data, out_dim, in_dim)?;
                Weights::Packed(Arc::new(p))
            }
            _ => blocks(weight)?,
        };
        Ok(Self {
            weights,
            bytes,
            out_dim,
            in_dim,
            low_rank: None,
        })
    }

    /// A projection over an already repacked weight (shared, e.g. with the embedding).
    pub fn packed(weight: Arc<kernels::packed::PackedMatrix>) -> Self {
        let (out_dim, in_dim) = (weight.rows(), weight.cols());
        Self {
            // The GGML rows' bytes, as for any other weight (the group padding unread).
            bytes: out_dim * in_dim / 32 * weight.qtype().block_bytes(),
            out_dim,
            in_dim,
            weights: Weights::Packed(weight),
            low_rank: None,
        }
    }

    /// Adds `update` to every product from now on (replacing an earlier one); an error
    /// when its shape is not this projection's.
    pub fn set_low_rank(&mut self, update: Arc<LowRank>) -> Result<()> {
        if update.in_dim() != self.in_dim || update.out_dim() != self.out_dim {
            return Err(crate::Error::InvalidArgument {
                name: "adapter",
                value: format!("{} x {}", update.out_dim(), update.in_dim()),
                reason: format!(
                    "the projection is {} x {} (out x in)",
                    self.out_dim, self.in_dim
                ),
            });
        }
        self.low_rank = Some(update);
        Ok(())
    }

    /// Apply to `x` of shape (..., in); returns (..., out).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if let Weights::Candle(inner) = &self.weights {
            let y = inner.forward(x)?;
            return match &self.low_rank {
                Some(lr) => {
                    let delta = lr.delta(x)?.to_dtype(y.dtype())?;
                    Ok((y + delta)?)
                }
                None => Ok(y),
            };
        }
        if !x.device().is_cpu() {
            return Err(crate::Error::InvalidArgument {
                name: "QLinear::forward input",
                value: format!("{:?}", x.device()),
                reason: "this weight is on the CPU; move the input there".into(),
            });
        }
        let dims = x.dims();
        let tokens = x.elem_count() / self.in_dim.max(1);
        let x = x.to_dtype(DType::F32)?.flatten_all()?;
        let x = x.to_vec1::<f32>()?;
        let mut y = vec![0f32; tokens * self.out_dim];
        self.forward_slice(&x, tokens, &mut y)?;
        let mut out_dims = dims.to_vec();
        if let Some(last) = out_dims.last_mut() {
            *last = self.out_dim;
        }
        Ok(Tensor::from_vec(y, out_dims, &Device::Cpu)?)
    }

    /// Slice form for CPU callers that keep their own buffers: `x` is `tokens` rows of
    /// `in_dim()` f32 (row-major), `y` receives `tokens` rows of `out_dim()` f32.
    pub fn forward_slice(&self, x: &[f32], tokens: usize, y: &mut [f32]) -> Result<()> {
        let (inp, out) = (self.in_dim(), self.out_dim);
        if x.len() != tokens * inp || y.len() != tokens * out {
            return Err(crate::Error::InvalidArgument {
                name: "QLinear::forward_slice",
                value: format!("x {} y {} tokens {tokens}", x.len(), y.len()),
                reason: format!("expected x = tokens x {inp} and y = tokens x {out}"),
            });
        }
        match &self.weights {
            Weights::Blocks(weight, ty) => {
                // Borrowed on the CPU: candle's own block storage, no copy.
                let data = weight.data()?;
                let w = kernels::QMatrix::new(*ty, &data, out, inp)?;
                kernels::matmul(&w, x, tokens, y)?;
            }
            Weights::Packed(p) => kernels::packed::matmul_packed(p, x, tokens, y)?,
            Weights::Candle(inner) => {
                let xt = Tensor::from_slice(x, (tokens, inp), &Device::Cpu)?;
                let yt = inner.forward(&xt)?.flatten_all()?.to_vec1::<f32>()?;
                y.copy_from_slice(&yt);
            }
        }
        if let Some(lr) = &self.low_rank {
            lr.add_to(x, tokens, y);
        }
        Ok(())
    }

    /// Chosen outputs of one input row: `y[i]` is output `ids[i]` of `x` (`in_dim()`
    /// f32), bit for bit what [`forward_slice`](Self::forward_slice) gives it. On bora's
    /// kernels only the chosen rows are read; otherwise the whole product runs.
    pub fn forward_rows(&self, x: &[f32], ids: &[u32], y: &mut [f32]) -> Result<()> {
        if self.low_rank.is_none() {
            match &self.weights {
                Weights::Blocks(weight, ty) => {
                    let data = weight.data()?;
                    let w = kernels::QMatrix::new(*ty, &data, self.out_dim, self.in_dim)?;
                    return kernels::matvec_rows(&w, x, ids, y);
                }
                Weights::Packed(p) => return kernels::packed::matvec_rows_packed(p, x, ids, y),
                Weights::Candle(_) => {}
            }
        }
        if y.len() != ids.len() {
            return Err(crate::Error::InvalidArgument {
                name: "QLinear::forward_rows",
                value: format!("ids {} y {}", ids.len(), y.len()),
                reason: "expected one output per id".into(),
            });
        }
        let mut all = vec![0f32; self.out_dim];
        self.forward_slice(x, 1, &mut all)?;
        for (&id, v) in ids.iter().zip(y.iter_mut()) {
            *v = *all
                .get(id as usize)
                .ok_or_else(|| crate::Error::InvalidArgument {
                    name: "QLinear::forward_rows id",
                    value: id.to_string(),
                    reason: format!("the projection has {} outputs", self.out_dim),
                })?;
        }
        Ok(())
    }

    /// Input width.
    pub fn in_dim(&self) -> usize {
        self.in_dim
    }

    /// Bytes of weight data read by one product (one token in decode).
    pub fn weight_bytes(&self) -> usize {
        self.bytes
    }

    /// Output width.
    pub fn out_dim(&self) -> usize {
        self.out_dim
    }
}

/// RMS normalisation over the last dimension with a learned scale.
#[derive(Debug, Clone)]
pub struct RmsNorm {
    weight: Tensor,
    /// The same scale as plain f32, for the CPU forward (hidden or head_dim values).
    values: Vec<f32>,
    eps: f32,
}

impl RmsNorm {
    /// Build from a (dequantized) weight vector and epsilon.
    pub fn new(weight: &QTensor, eps: f32, device: &Device) -> Result<Self> {
        let weight = weight.dequantize(device)?;
        let values = weight.flatten_all()?.to_vec1::<f32>()?;
        Ok(Self {
            weight,
            values,
            eps,
        })
    }

    /// The learned scale, one f32 per normalised element.
    pub fn weights(&self) -> &[f32] {
        &self.values
    }

    /// Normalise `x` over its last dimension.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(candle_nn::ops::rms_norm(
            &x.contiguous()?,
            &self.weight,
            self.eps,
        )?)
    }
}

/// Rotary cos/sin tables for one frequency base, sized to the configured context and
/// shared by every layer using that base.
///
/// Kept as plain f32 rows (position, head_dim / 2); device tensors of the same values
/// exist only for a non-CPU device (the candle CPU path builds views per call).
#[derive(Debug, Clone)]
pub struct RopeTable {
    cos: Vec<f32>,
    sin: Vec<f32>,
    half: usize,
    device_tables: Option<(Tensor, Tensor)>,
    base: f32,
}

impl RopeTable {
    /// Tables of shape (context, head_dim / 2) for frequency `base`.
    pub fn new(head_dim: usize, base: f32, context: usize, device: &Device) -> Result<Self> {
        let half = head_dim / 2;
        let inv_freq: Vec<f32> = (0..half)
            .map(|i| 1.0 / base.powf((2 * i) as f32 / head_dim as f32))
            .collect();
        let mut angles = Vec::with_capacity(context * half);
        for p in 0..context {
            angles.extend(inv_freq.iter().map(|f| p as f32 * f));
        }
        let cos: Vec<f32> = angles.iter().map(|a| a.cos()).collect();
        let sin: Vec<f32> = angles.iter().map(|a| a.sin()).collect();
        let device_tables = if device.is_cpu() {
            None
        } else {
            Some((
                Tensor::from_slice(&cos, (context, half), device)?,
                Tensor::from_slice(&sin, (context, half), device)?,
            ))
        };
        Ok(Self {
            cos,
            sin,
            half,
            device_tables,
            base,
        })
    }

    /// The frequency base these tables were built for.
    pub fn base(&self) -> f32 {
        self.base
    }

    /// Cosines and sines (head_dim / 2 each) for position `pos` (< context).
    #[inline]
    pub fn at(&self, pos: usize) -> (&[f32], &[f32]) {
        let r = pos * self.half..(pos + 1) * self.half;
        (&self.cos[r.clone()], &self.sin[r])
    }

    /// Rotate `x` of shape (1, heads, seq, head_dim) for positions `pos..pos + seq`.
    pub(crate) fn apply(&self, x: &Tensor, pos: usize, style: RopeStyle) -> Result<Tensor> {
        let seq = x.dim(2)?;
        let (cos, sin) = match &self.device_tables {
            Some((c, s)) => (c.narrow(0, pos, seq)?, s.narrow(0, pos, seq)?),
            None => {
                let r = pos * self.half..(pos + seq) * self.half;
                let dev = x.device();
                (
                    Tensor::from_slice(&self.cos[r.clone()], (seq, self.half), dev)?,
                    Tensor::from_slice(&self.sin[r], (seq, self.half), dev)?,
                )
            }
        };
        let x = x.contiguous()?;
        Ok(match style {
            RopeStyle::Interleaved => candle_nn::rotary_emb::rope_i(&x, &cos, &sin)?,
            RopeStyle::Neox => candle_nn::rotary_emb::rope(&x, &cos, &sin)?,
        })
    }
}

/// Grouped-query self-attention with optional q/k norms (gemma3).
#[derive(Debug, Clone)]
pub struct Attention {
    /// Query projection (n_head * head_dim, hidden).
    pub wq: QLinear,
    /// Key projection (n_kv_head * head_dim, hidden).
    pub wk: QLinear,
    /// Value projection (n_kv_head * head_dim, hidden).
    pub wv: QLinear,
    /// Output projection (hidden, n_head * head_dim).
    pub wo: QLinear,
    /// Per-head RMS norms of queries and keys (gemma3).
    pub qk_norm: Option<(RmsNorm, RmsNorm)>,
    /// Number of query heads.
    pub n_head: usize,
    /// Number of key/value heads.
    pub n_kv_head: usize,
    /// Width of one head.
    pub head_dim: usize,
    /// Multiplier of q·k (usually 1/sqrt(head_dim)).
    pub scale: f64,
    /// Sliding-window length in tokens, for local layers.
    pub window: Option<usize>,
    /// Index into the model's shared rope tables.
    pub rope: usize,
    /// Rope pairing convention.
    pub rope_style: RopeStyle,
}

impl Attention {
    /// Attend `x` (1, seq, hidden) at positions `pos..pos+seq`, appending to `cache`.
    pub(crate) fn forward(
        &self,
        x: &Tensor,
        pos: usize,
        cache: &mut TensorKv,
        ropes: &[RopeTable],
    ) -> Result<Tensor> {
        let (b, seq, _) = x.dims3()?;
        let hd = self.head_dim;
        let q = self.wq.forward(x)?.reshape((b, seq, self.n_head, hd))?;
        let k = self.wk.forward(x)?.reshape((b, seq, self.n_kv_head, hd))?;
        let v = self.wv.forward(x)?.reshape((b, seq, self.n_kv_head, hd))?;
        let (q, k) = match &self.qk_norm {
            Some((qn, kn)) => (qn.forward(&q)?, kn.forward(&k)?),
            None => (q, k),
        };
        let rope = &ropes[self.rope];
        let q = rope.apply(&q.transpose(1, 2)?, pos, self.rope_style)?;
        let k = rope.apply(&k.transpose(1, 2)?, pos, self.rope_style)?;
        let v = v.transpose(1, 2)?.contiguous()?;
        let (k, v) = cache.append(&k, &v, pos)?;
        let kv_len = pos + seq;

        // Group the query heads that share a kv head: (1, n_kv, n_rep * seq, hd).
        let n_rep = self.n_head / self.n_kv_head;
        let q = q.reshape((b, self.n_kv_head, n_rep * seq, hd))?;
        let att = (q.matmul(&k.t()?)? * self.scale)?;
        let att = match causal_mask(seq, pos, self.window, x.device())? {
            Some(mask) => att
                .reshape((b, self.n_kv_head, n_rep, seq, kv_len))?
                .broadcast_add(&mask)?
                .reshape((b, self.n_kv_head, n_rep * seq, kv_len))?,
            None => att,
        };
        let att = candle_nn::ops::softmax_last_dim(&att)?;
        let y = att.matmul(&v)?; // (1, n_kv, n_rep * seq, hd)
        let y = y
            .reshape((b, self.n_head, seq, hd))?
            .transpose(1, 2)?
            .reshape((b, seq, self.n_head * hd))?;
        self.wo.forward(&y)
    }

    /// Bytes of weights one token reads.
    pub fn weight_bytes(&self) -> usize {
        self.wq.weight_bytes()
            + self.wk.weight_bytes()
            + self.wv.weight_bytes()
            + self.wo.weight_bytes()
    }
}

/// Additive mask (seq, pos + seq) for queries at `pos..pos+seq`: 0 where a key is
/// visible, -inf where it is in the future or (with a window) `window` or more tokens back,
/// as llama.cpp masks. `None` when nothing is masked (one query, no window cut).
fn causal_mask(
    seq: usize,
    pos: usize,
    window: Option<usize>,
    device: &Device,
) -> Result<Option<Tensor>> {
    let kv_len = pos + seq;
    let window_cuts = window.is_some_and(|w| kv_len > w);
    if seq == 1 && !window_cuts {
        return Ok(None);
    }
    let mut m = vec![0f32; seq * kv_len];
    for i in 0..seq {
        let p = pos + i;
        for (j, cell) in m[i * kv_len..(i + 1) * kv_len].iter_mut().enumerate() {
            let future = j > p;
            let too_old = window.is_some_and(|w| p - j.min(p) >= w);
            if future || too_old {
                *cell = f32::NEG_INFINITY;
            }
        }
    }
    Ok(Some(Tensor::from_vec(m, (seq, kv_len), device)?))
}

/// Gated MLP: `down(act(gate(x)) * up(x))`.
#[derive(Debug, Clone)]
pub struct Mlp {
    /// Gate projection (ffn, hidden).
    pub gate: QLinear,
    /// Up projection (ffn, hidden).
    pub up: QLinear,
    /// Down projection (hidden, ffn).
    pub down: QLinear,
    /// Activation applied to the gate.
    pub activation: Activation,
}

impl Mlp {
    /// Apply to `x` (..., hidden).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let g = self.gate.forward(x)?;
        let g = match self.activation {
            Activation::Silu => candle_nn::ops::silu(&g)?,
            Activation::GeluTanh => gelu_f16_table(&g)?,
        };
        let u = self.up.forward(x)?;
        self.down.forward(&(g * u)?)
    }

    /// Bytes of weights one token reads.
    pub fn weight_bytes(&self) -> usize {
        self.gate.weight_bytes() + self.up.weight_bytes() + self.down.weight_bytes()
    }
}

/// GELU (tanh form) as llama.cpp's CPU backend computes it: through a table indexed by
/// the f16 value of the input, holding f16 results. Matching this rounding keeps greedy
/// continuations identical to llama.cpp's where two tokens are nearly tied.
fn gelu_f16_table(x: &Tensor) -> Result<Tensor> {
    let half = |t: &Tensor| -> Result<Tensor> { Ok(t.to_dtype(DType::F16)?.to_dtype(DType::F32)?) };
    half(&half(x)?.gelu()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_hides_future_and_old_keys() -> Result<()> {
        let m = causal_mask(3, 2, Some(3), &Device::Cpu)?
            .map(|t| t.to_vec2::<f32>())
            .transpose()?;
        let m = m.unwrap_or_default();
        // Query at position 2 sees keys 0..=2; at 3 sees 1..=3; at 4 sees 2..=4.
        let vis: Vec<Vec<bool>> = m
            .iter()
            .map(|r| r.iter().map(|v| v.is_finite()).collect())
            .collect();
        assert_eq!(vis[0], [true, true, true, false, false]);
        assert_eq!(vis[1], [false, true, true, true, false]);
        assert_eq!(vis[2], [false, false, true, true, true]);
        Ok(())
    }

    #[test]
    fn single_query_without_window_needs_no_mask() -> Result<()> {
        assert!(causal_mask(1, 10, None, &Device::Cpu)?.is_none());
        assert!(causal_mask(1, 10, Some(64), &Device::Cpu)?.is_none());
        assert!(causal_mask(1, 100, Some(64), &Device::Cpu)?.is_some());
        Ok(())
    }

    #[test]
    fn rope_table_starts_at_identity() -> Result<()> {
        let t = RopeTable::new(8, 10_000.0, 16, &Device::Cpu)?;
        assert_eq!(t.cos.len(), 16 * 4);
        let (c, s) = t.at(0);
        assert!(c.iter().all(|v| (*v - 1.0).abs() < 1e-6));
        assert!(s.iter().all(|v| v.abs() < 1e-6));
        Ok(())
    }
}
