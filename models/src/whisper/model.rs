//! Whisper's forward pass as bora runs it: the audio encoder, and a text decoder that
//! keeps a key/value cache so each greedy step runs one token.
//!
//! Adapted from candle-transformers' `whisper::model` (Apache-2.0 / MIT), itself a port of
//! openai-whisper's `model.py`; the weights load under the same names ([`super::weights`]).
//! What differs, each measured on tiny.en (`bench/asr-compare.sh`):
//! - the decoder caches its self-attention keys and values, and computes the
//!   cross-attention keys and values of all layers once per utterance ([`DecoderState`]),
//!   where candle's recomputes every previous token at every step;
//! - self-attention projects q, k and v with one fused product;
//! - the MLP uses the erf GELU, as ctranslate2 (the reference) does, not the tanh one;
//! - softmax and GELU run in place with vectorized `exp`/`erf` ([`super::ops`]);
//! - attention scores are computed per block of query rows, so one block's scores stay in
//!   cache instead of a `heads x 1500 x 1500` matrix going through memory; on the CPU
//!   the encoder's attention reads q, k and v in place ([`super::ops::self_attention`]).

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Conv1d, Conv1dConfig, LayerNorm, Linear, VarBuilder};
use candle_transformers::models::whisper::Config;

use super::ops;
use crate::Result;

fn linear(vb: &VarBuilder, in_dim: usize, out_dim: usize, bias: bool) -> Result<Linear> {
    let w = vb.get((out_dim, in_dim), "weight")?;
    let b = if bias {
        Some(vb.get(out_dim, "bias")?)
    } else {
        None
    };
    Ok(Linear::new(w, b))
}

fn layer_norm(vb: &VarBuilder, size: usize) -> Result<LayerNorm> {
    Ok(LayerNorm::new(
        vb.get(size, "weight")?,
        vb.get(size, "bias")?,
        1e-5,
    ))
}

/// The query projection of an attention with `heads` heads, its weight and bias times
/// `head_dim^-1/2` (the scores' scale, a power of two for Whisper's 64-wide heads, so the
/// scores are bit for bit those of scaling q after the product).
fn query(vb: &VarBuilder, width: usize, heads: usize) -> Result<(Tensor, Tensor)> {
    let scale = ((width / heads) as f64).powf(-0.5);
    Ok((
        (vb.get((width, width), "weight")? * scale)?,
        (vb.get(width, "bias")? * scale)?,
    ))
}

/// q, k and v of one attention as a single product (`[3 * width, width]`), q scaled as in
/// [`query`]; the key has no bias (a zero row block stands in).
fn fused_qkv(vb: &VarBuilder, width: usize, heads: usize) -> Result<Linear> {
    let (q_w, q_b) = query(&vb.pp("q_proj"), width, heads)?;
    let w = Tensor::cat(
        &[
            q_w,
            vb.get((width, width), "k_proj.weight")?,
            vb.get((width, width), "v_proj.weight")?,
        ],
        0,
    )?;
    let b = Tensor::cat(
        &[
            q_b,
            Tensor::zeros(width, DType::F32, vb.device())?,
            vb.get(width, "v_proj.bias")?,
        ],
        0,
    )?;
    Ok(Linear::new(w, Some(b)))
}

/// `[1, n, width]` -> `[1, heads, n, width / heads]`, contiguous.
fn split_heads(x: &Tensor, heads: usize) -> Result<Tensor> {
    let (b, n, width) = x.dims3()?;
    Ok(x.reshape((b, n, heads, width / heads))?
        .transpose(1, 2)?
        .contiguous()?)
}

/// `[1, heads, n, head_dim]` -> `[1, n, heads * head_dim]`.
fn merge_heads(x: &Tensor) -> Result<Tensor> {
    Ok(x.transpose(1, 2)?.contiguous()?.flatten_from(2)?)
}

/// Scaled dot-product attention of `q` (`[1, heads, n, head_dim]`, scaled by its
/// projection) over
/// `k` and `v` (`[1, heads, m, head_dim]`), with an additive `mask` (`[n, m]`).
fn attend(q: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
    let mut scores = q.matmul(&k.t()?)?;
    if let Some(mask) = mask {
        scores = scores.broadcast_add(mask)?;
    }
    let w = ops::softmax_last_dim(scores)?;
    Ok(w.matmul(v)?)
}

/// The MLP of a block: `fc2(gelu(fc1(x)))` with the erf GELU.
struct Mlp {
    ln: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    fn load(vb: &VarBuilder, width: usize) -> Result<Self> {
        Ok(Self {
            ln: layer_norm(&vb.pp("final_layer_norm"), width)?,
            fc1: linear(&vb.pp("fc1"), width, 4 * width, true)?,
            fc2: linear(&vb.pp("fc2"), 4 * width, width, true)?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = ops::gelu(self.fc1.forward(&self.ln.forward(x)?)?)?;
        Ok(self.fc2.forward(&h)?)
    }
}

/// One encoder layer: self-attention then the MLP, each pre-normed with a residual.
struct EncoderLayer {
    attn_ln: LayerNorm,
    qkv: Linear,
    out: Linear,
    mlp: Mlp,
}

impl EncoderLayer {
    fn forward(&self, x: &Tensor, heads: usize) -> Result<Tensor> {
        let (_, n, width) = x.dims3()?;
        let qkv = self.qkv.forward(&self.attn_ln.forward(x)?)?;
        let wv = if qkv.device().is_cpu() && qkv.dtype() == DType::F32 {
            let out = ops::self_attention(&qkv.flatten_all()?.to_vec1()?, n, width, heads);
            Tensor::from_vec(out, (1, n, width), qkv.device())?
        } else {
            let q = split_heads(&qkv.narrow(2, 0, width)?, heads)?;
            let k = split_heads(&qkv.narrow(2, width, width)?, heads)?;
            let v = split_heads(&qkv.narrow(2, 2 * width, width)?, heads)?;
            let mut parts = Vec::with_capacity(n.div_ceil(ops::ATTN_BLOCK));
            let mut start = 0;
            while start < n {
                let len = ops::ATTN_BLOCK.min(n - start);
                parts.push(attend(&q.narrow(2, start, len)?, &k, &v, None)?);
                start += len;
            }
            merge_heads(&Tensor::cat(&parts, 2)?)?
        };
        let x = (x + self.out.forward(&wv)?)?;
        Ok((&x + self.mlp.forward(&x)?)?)
    }
}

fn sinusoids(length: usize, channels: usize, device: &Device) -> Result<Tensor> {
    let increment = 10000f32.ln() / (channels / 2 - 1) as f32;
    let mut v = vec![0f32; length * channels];
    for (t, row) in v.chunks_exact_mut(channels).enumerate() {
        for i in 0..channels / 2 {
            let a = t as f32 * (i as f32 * -increment).exp();
            row[i] = a.sin();
            row[channels / 2 + i] = a.cos();
        }
    }
    Ok(Tensor::from_vec(v, (length, channels), device)?)
}

/// The audio encoder: two convolutions over the log-mel frames, then transformer layers.
pub struct Encoder {
    conv1: Conv1d,
    conv2: Conv1d,
    positions: Tensor,
    layers: Vec<EncoderLayer>,
    ln_post: LayerNorm,
    heads: usize,
}

impl Encoder {
    fn load(vb: &VarBuilder, cfg: &Config) -> Result<Self> {
        let width = cfg.d_model;
        let heads = cfg.encoder_attention_heads;
        let conv = |name: &str, in_dim: usize, stride: usize| -> Result<Conv1d> {
            let vb = vb.pp(name);
            Ok(Conv1d::new(
                vb.get((width, in_dim, 3), "weight")?,
                Some(vb.get(width, "bias")?),
                Conv1dConfig {
                    padding: 1,
                    stride,
                    dilation: 1,
                    groups: 1,
                    cudnn_fwd_algo: None,
                },
            ))
        };
        let layers = (0..cfg.encoder_layers)
            .map(|i| {
                let vb = vb.pp(format!("layers.{i}"));
                Ok(EncoderLayer {
                    attn_ln: layer_norm(&vb.pp("self_attn_layer_norm"), width)?,
                    qkv: fused_qkv(&vb.pp("self_attn"), width, heads)?,
                    out: linear(&vb.pp("self_attn.out_proj"), width, width, true)?,
                    mlp: Mlp::load(&vb, width)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            conv1: conv("conv1", cfg.num_mel_bins, 1)?,
            conv2: conv("conv2", width, 2)?,
            positions: sinusoids(cfg.max_source_positions, width, vb.device())?,
            layers,
            ln_post: layer_norm(&vb.pp("layer_norm"), width)?,
            heads,
        })
    }

    /// Encodes `mel` (`[1, n_mels, frames]`) into `[1, frames / 2, width]` features.
    pub fn forward(&self, mel: &Tensor) -> Result<Tensor> {
        let x = ops::gelu(self.conv1.forward(mel)?)?;
        let x = ops::gelu(self.conv2.forward(&x)?)?;
        let x = x.transpose(1, 2)?;
        let n = x.dim(1)?;
        let mut x = x.broadcast_add(&self.positions.narrow(0, 0, n)?)?;
        for layer in &self.layers {
            x = layer.forward(&x, self.heads)?;
        }
        Ok(self.ln_post.forward(&x)?)
    }
}

/// One decoder layer: causal self-attention, cross-attention to the audio, the MLP.
struct DecoderLayer {
    attn_ln: LayerNorm,
    qkv: Linear,
    out: Linear,
    cross_ln: LayerNorm,
    cross_q: Linear,
    cross_out: Linear,
    mlp: Mlp,
}

/// The decoder's cache for one utterance: the cross-attention keys and values of every
/// layer, and the self-attention keys and values of the tokens run so far.
pub struct DecoderState {
    cross: Vec<(Tensor, Tensor)>,
    past: Vec<Option<(Tensor, Tensor)>>,
    len: usize,
}

impl DecoderState {
    /// Tokens run so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no token has run yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The token embeddings, also the output projection. On the CPU, when the values are
/// f16 numbers (CTranslate2's float16 files), they are kept as f16: the output projection
/// reads the whole matrix for every token (51864 x 384 for tiny.en: 80 MB in f32, 40 in
/// f16), and f16 -> f32 is exact, so the scores are the same products.
enum Embeddings {
    F32(Tensor),
    F16 {
        values: Vec<half::f16>,
        width: usize,
    },
}

impl Embeddings {
    fn new(t: Tensor) -> Result<Self> {
        if !t.device().is_cpu() {
            return Ok(Self::F32(t));
        }
        let width = t.dim(1)?;
        let f32s = t.flatten_all()?.to_vec1::<f32>()?;
        let values: Vec<half::f16> = f32s.iter().map(|&v| half::f16::from_f32(v)).collect();
        if values.iter().zip(&f32s).all(|(h, &v)| h.to_f32() == v) {
            Ok(Self::F16 { values, width })
        } else {
            Ok(Self::F32(t))
        }
    }

    /// The rows of `tokens`, `[tokens.len(), width]`.
    fn rows(&self, tokens: &[u32], device: &Device) -> Result<Tensor> {
        match self {
            Self::F32(t) => Ok(t.index_select(&Tensor::new(tokens, device)?, 0)?),
            Self::F16 { values, width } => {
                let mut out = Vec::with_capacity(tokens.len() * width);
                for &t in tokens {
                    let row = values
                        .get(t as usize * width..(t as usize + 1) * width)
                        .ok_or_else(|| {
                            candle_core::Error::Msg(format!("token {t} out of range"))
                        })?;
                    out.extend(row.iter().map(|v| v.to_f32()));
                }
                Ok(Tensor::from_vec(out, (tokens.len(), *width), device)?)
            }
        }
    }

    /// Scores over the vocabulary of `h` (`[rows, width]`): `[rows, vocab]`.
    fn logits(&self, h: &Tensor) -> Result<Tensor> {
        match self {
            Self::F32(t) => Ok(h.matmul(&t.t()?)?),
            Self::F16 { values, width } => {
                let (rows, _) = h.dims2()?;
                let vocab = values.len() / width;
                let h = h.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?;
                let mut out = vec![0f32; rows * vocab];
                let threads = candle_core::utils::get_num_threads();
                for (h, out) in h.chunks_exact(*width).zip(out.chunks_exact_mut(vocab)) {
                    ops::gemv_f16(values, h, out, threads);
                }
                Ok(Tensor::from_vec(out, (rows, vocab), &Device::Cpu)?)
            }
        }
    }
}

/// The text decoder.
pub struct Decoder {
    embeddings: Embeddings,
    positions: Tensor,
    layers: Vec<DecoderLayer>,
    /// Keys then values of every layer's cross-attention, `[layers * 2 * width, width]`.
    cross_kv: Linear,
    ln: LayerNorm,
    heads: usize,
}

impl Decoder {
    fn load(vb: &VarBuilder, cfg: &Config) -> Result<Self> {
        let width = cfg.d_model;
        let heads = cfg.decoder_attention_heads;
        let layers = (0..cfg.decoder_layers)
            .map(|i| {
                let vb = vb.pp(format!("layers.{i}"));
                let cross = vb.pp("encoder_attn");
                let (q_w, q_b) = query(&cross.pp("q_proj"), width, heads)?;
                Ok(DecoderLayer {
                    attn_ln: layer_norm(&vb.pp("self_attn_layer_norm"), width)?,
                    qkv: fused_qkv(&vb.pp("self_attn"), width, heads)?,
                    out: linear(&vb.pp("self_attn.out_proj"), width, width, true)?,
                    cross_ln: layer_norm(&vb.pp("encoder_attn_layer_norm"), width)?,
                    cross_q: Linear::new(q_w, Some(q_b)),
                    cross_out: linear(&cross.pp("out_proj"), width, width, true)?,
                    mlp: Mlp::load(&vb, width)?,
                })
            })
            .collect::<Result<_>>()?;
        // The cross-attention keys and values of all layers as one product over the audio.
        let mut kv_w = Vec::new();
        let mut kv_b = Vec::new();
        for i in 0..cfg.decoder_layers {
            let cross = vb.pp(format!("layers.{i}.encoder_attn"));
            kv_w.push(cross.get((width, width), "k_proj.weight")?);
            kv_w.push(cross.get((width, width), "v_proj.weight")?);
            kv_b.push(Tensor::zeros(width, DType::F32, vb.device())?);
            kv_b.push(cross.get(width, "v_proj.bias")?);
        }
        Ok(Self {
            cross_kv: Linear::new(Tensor::cat(&kv_w, 0)?, Some(Tensor::cat(&kv_b, 0)?)),
            embeddings: Embeddings::new(vb.get((cfg.vocab_size, width), "embed_tokens.weight")?)?,
            positions: vb.get((cfg.max_target_positions, width), "embed_positions.weight")?,
            layers,
            ln: layer_norm(&vb.pp("layer_norm"), width)?,
            heads,
        })
    }

    /// A fresh cache for decoding `audio` (`[1, frames, width]`, the encoder's output).
    pub fn start(&self, audio: &Tensor) -> Result<DecoderState> {
        let width = audio.dim(2)?;
        let kv = self.cross_kv.forward(audio)?;
        let cross = (0..self.layers.len())
            .map(|l| {
                Ok((
                    split_heads(&kv.narrow(2, 2 * l * width, width)?, self.heads)?,
                    split_heads(&kv.narrow(2, (2 * l + 1) * width, width)?, self.heads)?,
                ))
            })
            .collect::<Result<_>>()?;
        Ok(DecoderState {
            cross,
            past: vec![None; self.layers.len()],
            len: 0,
        })
    }

    /// Runs `tokens` after those already in `state`; returns their final hidden states
    /// (`[1, tokens.len(), width]`, normed): [`Decoder::logits`] turns rows into scores.
    pub fn forward(&self, state: &mut DecoderState, tokens: &[u32]) -> Result<Tensor> {
        let device = self.positions.device();
        let n = tokens.len();
        let x =
            (self.embeddings.rows(tokens, device)? + self.positions.narrow(0, state.len, n)?)?;
        let mut x = x.unsqueeze(0)?;
        let width = x.dim(2)?;
        let past_len = state.len;
        let total = past_len + n;
        // New token i (absolute position past_len + i) sees positions 0..=past_len + i.
        let mask = if n > 1 {
            let m: Vec<f32> = (0..n)
                .flat_map(|i| {
                    (0..total).map(move |j| {
                        if j > past_len + i {
                            f32::NEG_INFINITY
                        } else {
                            0.0
                        }
                    })
                })
                .collect();
            Some(Tensor::from_vec(m, (n, total), device)?)
        } else {
            None
        };
        for (l, (past, (ck, cv))) in self
            .layers
            .iter()
            .zip(state.past.iter_mut().zip(&state.cross))
        {
            let qkv = l.qkv.forward(&l.attn_ln.forward(&x)?)?;
            let q = split_heads(&qkv.narrow(2, 0, width)?, self.heads)?;
            let mut k = split_heads(&qkv.narrow(2, width, width)?, self.heads)?;
            let mut v = split_heads(&qkv.narrow(2, 2 * width, width)?, self.heads)?;
            if let Some((pk, pv)) = past.as_ref() {
                k = Tensor::cat(&[pk, &k], 2)?;
                v = Tensor::cat(&[pv, &v], 2)?;
            }
            let wv = merge_heads(&attend(&q, &k, &v, mask.as_ref())?)?;
            *past = Some((k, v));
            x = (&x + l.out.forward(&wv)?)?;
            let q = l.cross_q.forward(&l.cross_ln.forward(&x)?)?;
            let q = split_heads(&q, self.heads)?;
            let wv = merge_heads(&attend(&q, ck, cv, None)?)?;
            x = (&x + l.cross_out.forward(&wv)?)?;
            x = (&x + l.mlp.forward(&x)?)?;
        }
        state.len = total;
        Ok(self.ln.forward(&x)?)
    }

    /// Scores over the vocabulary of hidden states `h` (`[rows, width]`): `[rows, vocab]`.
    pub fn logits(&self, h: &Tensor) -> Result<Tensor> {
        self.embeddings.logits(h)
    }
}

/// Whisper: the encoder and the decoder, loaded from candle-transformers' weight names.
pub struct WhisperModel {
    /// The audio encoder.
    pub encoder: Encoder,
    /// The text decoder.
    pub decoder: Decoder,
    /// Widths, layers and vocabulary.
    pub config: Config,
}

impl WhisperModel {
    /// Loads the weights in `vb` (candle-transformers' names, `model.encoder.*` and
    /// `model.decoder.*`) for `config`.
    pub fn load(vb: &VarBuilder, config: Config) -> Result<Self> {
        Ok(Self {
            encoder: Encoder::load(&vb.pp("model.encoder"), &config)?,
            decoder: Decoder::load(&vb.pp("model.decoder"), &config)?,
            config,
        })
    }
}
