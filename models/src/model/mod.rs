//! One transformer for every supported GGUF architecture (llama family, gemma3), built
//! from shared layers with per-architecture options.
//!
//! Weights ([`Model`]) are immutable and separate from the KV caches and position
//! ([`ModelState`]), so a prefix state can be snapshotted and restored per request.

pub mod config;
pub mod cpu;
pub mod device;
pub mod layers;
pub mod lora;
pub mod state;

use std::path::Path;
use std::sync::Arc;

use candle_core::quantized::QTensor;
use candle_core::{Device, IndexOp, Tensor};

pub use config::{Architecture, ModelConfig, SUPPORTED_ARCHITECTURES};
pub use device::DeviceSpec;
pub use layers::QLinear;
pub use state::{ModelState, StateSnapshot};

use crate::gguf::GgufFile;
use crate::{Error, Result};
use cpu::embed::Embedding;
use layers::{Attention, Mlp, RmsNorm, RopeTable};

/// Default context (tokens) the KV cache and rope tables are sized for.
pub const DEFAULT_CONTEXT: usize = 2048;

/// Default number of prompt tokens per prefill forward pass (also the scratch buffers'
/// token capacity on the CPU path).
pub const DEFAULT_PREFILL_CHUNK: usize = 64;

/// Which forward pass a model runs; a model's states are made for its backend
/// ([`Model::new_state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The lean CPU path: bora's kernels over plain f32 buffers, no allocation per decode
    /// step. Every CPU model.
    Lean,
    /// candle's ops: CUDA models, and the CPU reference the lean path is tested against.
    Candle,
}

impl Backend {
    /// The backend for `device`: lean on the CPU, whose kernel pool this starts with
    /// `threads` workers (0: one per logical CPU). The pool starts here, on the loading
    /// thread: its workers inherit the affinity of the thread that creates them, and the
    /// first product would otherwise run on the language stage, which may be pinned to
    /// one core (`stages.language_core`), putting every worker on that core.
    fn start(device: &Device, threads: usize) -> Result<Self> {
        if device.is_cpu() {
            crate::kernels::pool::init(threads)?;
            Ok(Backend::Lean)
        } else {
            Ok(Backend::Candle)
        }
    }
}

/// How to load a model.
#[derive(Debug, Clone)]
pub struct ModelOptions {
    /// Context length in tokens: sizes the KV cache and the rotary tables.
    pub context: usize,
    /// Compute device.
    pub device: DeviceSpec,
    /// CPU kernel threads (0: one per logical CPU). Starts the process-wide kernel pool
    /// ([`crate::kernels::pool::init`]) on the first CPU load; later loads must ask for
    /// the same count or 0.
    pub threads: usize,
}

impl Default for ModelOptions {
    fn default() -> Self {
        Self {
            context: DEFAULT_CONTEXT,
            device: DeviceSpec::Cpu,
            threads: 0,
        }
    }
}

/// One transformer block.
#[derive(Debug, Clone)]
struct Block {
    attn_norm: RmsNorm,
    attn: Attention,
    /// Norm of the attention output before the residual add (gemma3).
    post_attn_norm: Option<RmsNorm>,
    ffn_norm: RmsNorm,
    mlp: Mlp,
    /// Norm of the MLP output before the residual add (gemma3).
    post_ffn_norm: Option<RmsNorm>,
}

/// The weights of a loaded model (immutable; share it behind an `Arc`).
#[derive(Debug)]
pub struct Model {
    config: ModelConfig,
    context: usize,
    device: Device,
    /// Token embedding, kept quantized; only looked-up rows are dequantized.
    embed: cpu::embed::Embedding,
    /// Multiplier applied to embeddings (sqrt(hidden) for gemma3).
    embed_scale: Option<f64>,
    blocks: Vec<Block>,
    norm: RmsNorm,
    output: QLinear,
    ropes: Vec<RopeTable>,
    /// llama.cpp's f16 GELU table (gemma3's MLP on the CPU path).
    gelu: cpu::ops::GeluTable,
    /// Which forward pass `forward` runs.
    backend: Backend,
    file_size: u64,
}

/// A tied head and its embedding: one quantized matrix for both. Read straight into the
/// repacked layout where the CPU has kernels for it (the embedding then reads the
/// repacked rows; the matrix is never held twice), else shared as GGML blocks.
fn tied_head(
    file: &GgufFile,
    reader: &mut std::fs::File,
    dims: [usize; 2],
    device: &Device,
) -> Result<(Embedding, QLinear)> {
    let name = "token_embd.weight";
    // A missing tensor falls to `load_tensor`, whose error names it.
    let packable = file.tensor_info(name).and_then(|i| {
        Some((
            layers::packed_type(i.ggml_dtype, i.shape.dims(), device)?,
            i.ggml_dtype,
        ))
    });
    match packable {
        Some((ty, dtype)) => {
            let p = Arc::new(file.load_packed(reader, name, dims, ty)?);
            Ok((Embedding::Packed(p.clone(), dtype), QLinear::packed(p)))
        }
        None => {
            let embed = Arc::new(file.load_tensor(reader, name, &dims, device)?);
            Ok((Embedding::Blocks(embed.clone()), QLinear::new(embed)?))
        }
    }
}

impl Model {
    /// Open, validate and load the GGUF at `path`.
    pub fn load(path: impl AsRef<Path>, options: &ModelOptions) -> Result<Self> {
        let file = GgufFile::open(path)?;
        Self::from_gguf(&file, options)
    }

    /// Load the weights of an already opened GGUF.
    pub fn from_gguf(file: &GgufFile, options: &ModelOptions) -> Result<Self> {
        if options.context == 0 {
            return Err(Error::InvalidArgument {
                name: "context",
                value: "0".into(),
                reason: "must be at least 1 token".into(),
            });
        }
        let cfg = ModelConfig::from_gguf(file)?;
        let device = options.device.open()?;
        let mut reader = file.reopen()?;
        let (h, hd) = (cfg.hidden, cfg.head_dim);
        let tied = match file.tensor_info("output.weight") {
            Some(_) => None,
            None => Some(tied_head(file, &mut reader, [cfg.vocab, h], &device)?),
        };
        let mut load =
            |name: &str, shape: &[usize]| file.load_tensor(&mut reader, name, shape, &device);

        let norm = RmsNorm::new(&load("output_norm.weight", &[h])?, cfg.rms_eps, &device)?;
        let (embed, output) = match tied {
            Some(pair) => pair,
            None => {
                let embed = load("token_embd.weight", &[cfg.vocab, h])?;
                let head = load("output.weight", &[cfg.vocab, h])?;
                (
                    Embedding::Blocks(Arc::new(embed)),
                    QLinear::new(Arc::new(head))?,
                )
            }
        };

        let mut ropes: Vec<RopeTable> = Vec::new();
        let mut blocks = Vec::with_capacity(cfg.n_layer);
        let gemma = cfg.arch == Architecture::Gemma3;
        for i in 0..cfg.n_layer {
            let mut t = |n: &str, shape: &[usize]| load(&format!("blk.{i}.{n}.weight"), shape);
            let base = cfg.rope_base_of(i);
            let rope = match ropes.iter().position(|r| r.base() == base) {
                Some(r) => r,
                None => {
                    ropes.push(RopeTable::new(hd, base, options.context, &device)?);
                    ropes.len() - 1
                }
            };
            let lin = |q: QTensor| QLinear::new(Arc::new(q));
            let rms = |q: QTensor| RmsNorm::new(&q, cfg.rms_eps, &device);
            let qk_norm = if gemma {
                Some((
                    rms(t("attn_q_norm", &[hd])?)?,
                    rms(t("attn_k_norm", &[hd])?)?,
                ))
            } else {
                None
            };
            let attn = Attention {
                wq: lin(t("attn_q", &[cfg.n_head * hd, h])?)?,
                wk: lin(t("attn_k", &[cfg.n_kv_head * hd, h])?)?,
                wv: lin(t("attn_v", &[cfg.n_kv_head * hd, h])?)?,
                wo: lin(t("attn_output", &[h, cfg.n_head * hd])?)?,
                qk_norm,
                n_head: cfg.n_head,
                n_kv_head: cfg.n_kv_head,
                head_dim: hd,
                scale: 1.0 / (hd as f64).sqrt(),
                window: if cfg.is_sliding(i) {
                    cfg.sliding_window
                } else {
                    None
                },
                rope,
                rope_style: cfg.rope_style,
            };
            let mlp = Mlp {
                gate: lin(t("ffn_gate", &[cfg.ffn, h])?)?,
                up: lin(t("ffn_up", &[cfg.ffn, h])?)?,
                down: lin(t("ffn_down", &[h, cfg.ffn])?)?,
                activation: cfg.activation,
            };
            blocks.push(Block {
                attn_norm: rms(t("attn_norm", &[h])?)?,
                attn,
                post_attn_norm: if gemma {
                    Some(rms(t("post_attention_norm", &[h])?)?)
                } else {
                    None
                },
                ffn_norm: rms(t("ffn_norm", &[h])?)?,
                mlp,
                post_ffn_norm: if gemma {
                    Some(rms(t("post_ffw_norm", &[h])?)?)
                } else {
                    None
                },
            });
        }
        let embed_scale = gemma.then(|| (h as f64).sqrt());
        // On the CPU the lean path runs (plain buffers, bora's kernels); candle's ops stay
        // for CUDA and as the reference the lean path is tested against.
        let backend = Backend::start(&device, options.threads)?;
        let gelu = if device.is_cpu() && cfg.activation == config::Activation::GeluTanh {
            cpu::ops::GeluTable::new()
        } else {
            cpu::ops::GeluTable::empty()
        };
        Ok(Self {
            config: cfg,
            context: options.context,
            device,
            embed,
            embed_scale,
            blocks,
            norm,
            output,
            ropes,
            gelu,
            backend,
            file_size: file.file_size(),
        })
    }

    /// Adds a LoRA update to projection `projection` of block `layer` (0-based); an error
    /// naming the layer when there is no such block or the shape does not fit. Applies to
    /// every later forward pass (prefix caches computed before are stale).
    pub fn set_low_rank(
        &mut self,
        layer: usize,
        projection: lora::Projection,
        update: lora::LowRank,
    ) -> Result<()> {
        let n_layer = self.blocks.len();
        let block = self
            .blocks
            .get_mut(layer)
            .ok_or_else(|| Error::InvalidArgument {
                name: "adapter layer",
                value: layer.to_string(),
                reason: format!("the model has {n_layer} blocks"),
            })?;
        let attn = &mut block.attn;
        let lin = match projection {
            lora::Projection::Q => &mut attn.wq,
            lora::Projection::K => &mut attn.wk,
            lora::Projection::V => &mut attn.wv,
            lora::Projection::O => &mut attn.wo,
        };
        lin.set_low_rank(Arc::new(update))
    }

    /// The checked hyper-parameters.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Configured context length in tokens.
    pub fn context(&self) -> usize {
        self.context
    }

    /// The candle device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Size of the GGUF file the weights came from, in bytes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// Bytes of weight data one decoded token reads (all matrices plus one embedding row).
    pub fn weight_bytes_per_token(&self) -> usize {
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| b.attn.weight_bytes() + b.mlp.weight_bytes())
            .sum();
        blocks + self.output.weight_bytes() + self.embed.bytes() / self.config.vocab.max(1)
    }

    /// Number of rotary sin/cos tables held (one per distinct rope base, shared by layers).
    pub fn rope_table_count(&self) -> usize {
        self.ropes.len()
    }

    /// Bytes of KV cache a full context takes (f32 keys and values, all layers).
    pub fn kv_cache_bytes(&self) -> usize {
        2 * 4 * self.config.n_layer * self.config.n_kv_head * self.config.head_dim * self.context
    }

    /// Which forward pass this model runs.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A fresh, empty state with room for the configured context.
    pub fn new_state(&self) -> Result<ModelState> {
        let c = &self.config;
        let shape = state::KvShape {
            n_kv_head: c.n_kv_head,
            head_dim: c.head_dim,
            context: self.context,
        };
        match self.backend {
            Backend::Lean => {
                let chunk = DEFAULT_PREFILL_CHUNK.min(self.context);
                let scratch = cpu::Scratch::new(c, chunk, self.context);
                Ok(ModelState::new_lean(c.n_layer, shape, c.vocab, scratch))
            }
            Backend::Candle => ModelState::new_candle(c.n_layer, shape, c.vocab, &self.device),
        }
    }

    /// This model with `forward` running candle ops even on the CPU (the reference the
    /// lean CPU path is checked against). States must be made after switching.
    #[doc(hidden)]
    pub fn with_candle_ops(mut self) -> Self {
        self.backend = Backend::Candle;
        self
    }

    /// Run `tokens` at the state's position, append their keys/values, and return the
    /// logits (one f32 per vocabulary entry) of the last token. They live in the state
    /// (also as [`ModelState::logits`]) until its next forward pass; on the CPU a
    /// steady-state decode step allocates nothing.
    pub fn forward<'s>(&self, state: &'s mut ModelState, tokens: &[u32]) -> Result<&'s mut [f32]> {
        self.check_input(state, tokens)?;
        match self.backend {
            Backend::Lean => self.forward_cpu(state, tokens, cpu::Head::Last)?,
            Backend::Candle => {
                let logits = self
                    .forward_candle(state, tokens, false)?
                    .to_vec1::<f32>()?;
                state.logits.copy_from_slice(&logits);
            }
        }
        Ok(state.logits_mut())
    }

    /// Like [`forward`](Self::forward), and also writes the logits of every token of
    /// `tokens` into `every` (resized to tokens x vocab, row i predicting what follows
    /// `tokens[i]`): one pass that verifies a drafted continuation. The last row is also
    /// left in [`ModelState::logits`].
    pub fn forward_every(
        &self,
        state: &mut ModelState,
        tokens: &[u32],
        every: &mut Vec<f32>,
    ) -> Result<()> {
        self.check_input(state, tokens)?;
        every.resize(tokens.len() * self.config.vocab, 0.0);
        match self.backend {
            Backend::Lean => self.forward_cpu(state, tokens, cpu::Head::Every(every))?,
            Backend::Candle => {
                let rows = self.forward_candle(state, tokens, true)?;
                every.copy_from_slice(&rows.flatten_all()?.to_vec1::<f32>()?);
                let vocab = self.config.vocab;
                state
                    .logits
                    .copy_from_slice(&every[(tokens.len() - 1) * vocab..]);
            }
        }
        Ok(())
    }

    /// Whether [`forward_hidden`](Self::forward_hidden) runs on this model: the lean CPU
    /// backend (candle's path computes the logits inside its forward pass).
    pub fn has_hidden_rows(&self) -> bool {
        self.backend == Backend::Lean
    }

    /// Like [`forward`](Self::forward) but stops before the output head: `hidden`
    /// (resized to tokens x hidden size) receives every token's final-normed hidden
    /// state, from which [`logits_for`](Self::logits_for) and
    /// [`logits_of`](Self::logits_of) give the logits `forward` would, bit for bit.
    /// [`ModelState::logits`] is left as it was. An error off the lean CPU backend.
    pub fn forward_hidden(
        &self,
        state: &mut ModelState,
        tokens: &[u32],
        hidden: &mut Vec<f32>,
    ) -> Result<()> {
        self.check_input(state, tokens)?;
        if !self.has_hidden_rows() {
            return Err(Error::InvalidArgument {
                name: "Model::forward_hidden",
                value: format!("{:?} backend", self.backend),
                reason: "only the lean CPU backend stops before the output head; use forward"
                    .into(),
            });
        }
        hidden.resize(tokens.len() * self.config.hidden, 0.0);
        self.forward_cpu(state, tokens, cpu::Head::Hidden(hidden))
    }

    /// The logits of tokens `ids` (`out[i]` for `ids[i]`) after one hidden row of
    /// [`forward_hidden`](Self::forward_hidden): only their rows of the output head are
    /// read (a grammar's few allowed tokens cost a few dot products, not the vocabulary).
    pub fn logits_for(&self, hidden: &[f32], ids: &[u32], out: &mut [f32]) -> Result<()> {
        self.output.forward_rows(hidden, ids, out)
    }

    /// Every logit (vocabulary size) after one hidden row of
    /// [`forward_hidden`](Self::forward_hidden).
    pub fn logits_of(&self, hidden: &[f32], out: &mut [f32]) -> Result<()> {
        self.output.forward_slice(hidden, 1, out)
    }

    /// Checks that `tokens` is non-empty, fits the state's context and holds only ids of
    /// the vocabulary.
    fn check_input(&self, state: &ModelState, tokens: &[u32]) -> Result<()> {
        let seq = tokens.len();
        if seq == 0 {
            return Err(Error::InvalidArgument {
                name: "tokens",
                value: "[]".into(),
                reason: "forward needs at least one token".into(),
            });
        }
        let pos = state.pos();
        if pos + seq > self.context {
            return Err(Error::ContextFull {
                context: self.context,
                needed: pos + seq,
            });
        }
        if let Some(&bad) = tokens.iter().find(|&&t| t as usize >= self.config.vocab) {
            return Err(Error::InvalidArgument {
                name: "token id",
                value: bad.to_string(),
                reason: format!("the vocabulary has {} tokens", self.config.vocab),
            });
        }
        Ok(())
    }

    /// The candle-ops forward (CUDA, and the CPU reference): logits as a tensor, (vocab,)
    /// of the last token, or (tokens, vocab) of every token with `every`.
    fn forward_candle(
        &self,
        state: &mut ModelState,
        tokens: &[u32],
        every: bool,
    ) -> Result<Tensor> {
        let seq = tokens.len();
        let pos = state.pos();
        let ids = Tensor::new(tokens, &self.device)?;
        let mut x = self.embed.rows(&ids)?.unsqueeze(0)?; // (1, seq, hidden)
        if let Some(s) = self.embed_scale {
            x = (x * s)?;
        }
        let state::Caches::Candle { layers } = &mut state.caches else {
            return Err(state::wrong_backend("candle"));
        };
        for (block, cache) in self.blocks.iter().zip(layers.iter_mut()) {
            let a = block
                .attn
                .forward(&block.attn_norm.forward(&x)?, pos, cache, &self.ropes)?;
            let a = match &block.post_attn_norm {
                Some(n) => n.forward(&a)?,
                None => a,
            };
            x = (x + a)?;
            let m = block.mlp.forward(&block.ffn_norm.forward(&x)?)?;
            let m = match &block.post_ffn_norm {
                Some(n) => n.forward(&m)?,
                None => m,
            };
            x = (x + m)?;
        }
        state.advance(seq);
        if every {
            let x = x.squeeze(0)?; // (seq, hidden)
            return self.output.forward(&self.norm.forward(&x)?);
        }
        let last = x.i((.., seq - 1, ..))?; // (1, hidden)
        let logits = self.output.forward(&self.norm.forward(&last)?)?;
        Ok(logits.squeeze(0)?)
    }
}
