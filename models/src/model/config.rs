//! Hyper-parameters of a transformer, read once from GGUF metadata and checked.

use crate::gguf::GgufFile;
use crate::{Error, Result};

/// Architectures this crate can run, as named by `general.architecture`.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &["llama", "gemma3"];

/// The transformer family; selects the per-architecture options of the shared layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// Llama family (SmolLM2): pre-norm, SiLU-gated MLP, interleaved rope.
    Llama,
    /// Gemma 3: q/k norms, pre and post norms, GELU-tanh gated MLP, scaled embedding,
    /// sliding-window layers with their own rope base, NEOX rope.
    Gemma3,
}

/// How rotary embeddings pair the dimensions of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeStyle {
    /// Pairs (2i, 2i+1): llama.cpp's NORM mode, used for `llama`.
    Interleaved,
    /// Pairs (i, i + d/2): llama.cpp's NEOX mode, used for `gemma3`.
    Neox,
}

/// Gated MLP activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// SiLU (swish).
    Silu,
    /// GELU with the tanh approximation.
    GeluTanh,
}

/// The checked hyper-parameters of one model file.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    /// Architecture family.
    pub arch: Architecture,
    /// Number of transformer blocks.
    pub n_layer: usize,
    /// Hidden (embedding) width.
    pub hidden: usize,
    /// Number of query heads.
    pub n_head: usize,
    /// Number of key/value heads (divides `n_head`).
    pub n_kv_head: usize,
    /// Width of one attention head.
    pub head_dim: usize,
    /// Inner width of the MLP.
    pub ffn: usize,
    /// Vocabulary size (rows of the token embedding).
    pub vocab: usize,
    /// Epsilon of the RMS norms.
    pub rms_eps: f32,
    /// Rope frequency base of global-attention layers.
    pub rope_base: f32,
    /// Rope frequency base of sliding-window layers (gemma3).
    pub rope_base_local: f32,
    /// Sliding-window length in tokens for local layers, if the model has them.
    pub sliding_window: Option<usize>,
    /// Every `swa_pattern`-th layer (1-based) is global; others use the window.
    pub swa_pattern: usize,
    /// Context length the model was trained for (tokens).
    pub context_train: usize,
    /// Rope pairing convention.
    pub rope_style: RopeStyle,
    /// MLP activation.
    pub activation: Activation,
}

impl ModelConfig {
    /// Read and check the hyper-parameters of `file`.
    pub fn from_gguf(file: &GgufFile) -> Result<Self> {
        let arch_name = file.architecture()?;
        let arch = match arch_name {
            "llama" => Architecture::Llama,
            "gemma3" => Architecture::Gemma3,
            other => {
                return Err(Error::UnsupportedArchitecture {
                    path: file.path().to_path_buf(),
                    architecture: other.to_string(),
                    supported: SUPPORTED_ARCHITECTURES.join(", "),
                })
            }
        };
        let key = |k: &str| format!("{arch_name}.{k}");
        let n_layer = file.get_usize(&key("block_count"))?;
        let hidden = file.get_usize(&key("embedding_length"))?;
        let n_head = file.get_usize(&key("attention.head_count"))?;
        let n_kv_head = file
            .get_usize_opt(&key("attention.head_count_kv"))?
            .unwrap_or(n_head);
        let ffn = file.get_usize(&key("feed_forward_length"))?;
        let rms_eps = file.get_f32(&key("attention.layer_norm_rms_epsilon"))?;
        let context_train = file.get_usize_opt(&key("context_length"))?.unwrap_or(2048);
        let vocab = match file.get_usize_opt(&key("vocab_size"))? {
            Some(v) => v,
            None => match (
                file.get("tokenizer.ggml.tokens"),
                file.tensor_info("token_embd.weight"),
            ) {
                (Some(candle_core::quantized::gguf_file::Value::Array(a)), _) => a.len(),
                (_, Some(info)) => info.shape.dims().first().copied().unwrap_or(0),
                _ => {
                    return Err(Error::Metadata {
                        path: file.path().to_path_buf(),
                        key: key("vocab_size"),
                        reason:
                            "is missing, and so are tokenizer.ggml.tokens and token_embd.weight"
                                .into(),
                    })
                }
            },
        };
        let check = |k: &str, ok: bool, why: &str, v: usize| -> Result<()> {
            if ok {
                Ok(())
            } else {
                Err(Error::Metadata {
                    path: file.path().to_path_buf(),
                    key: key(k),
                    reason: format!("= {v}: {why}"),
                })
            }
        };
        check("block_count", n_layer > 0, "must be positive", n_layer)?;
        check(
            "attention.head_count",
            n_head > 0,
            "must be positive",
            n_head,
        )?;
        check(
            "attention.head_count_kv",
            n_kv_head > 0 && n_head % n_kv_head == 0,
            "must be positive and divide attention.head_count",
            n_kv_head,
        )?;
        let cfg = match arch {
            Architecture::Llama => {
                check(
                    "embedding_length",
                    hidden % n_head == 0,
                    "must be a multiple of attention.head_count",
                    hidden,
                )?;
                let head_dim = hidden / n_head;
                let rope_dim = file
                    .get_usize_opt(&key("rope.dimension_count"))?
                    .unwrap_or(head_dim);
                check(
                    "rope.dimension_count",
                    rope_dim == head_dim,
                    "partial rope is not supported",
                    rope_dim,
                )?;
                let rope_base = file
                    .get_f32_opt(&key("rope.freq_base"))?
                    .unwrap_or(10_000.0);
                Self {
                    arch,
                    n_layer,
                    hidden,
                    n_head,
                    n_kv_head,
                    head_dim,
                    ffn,
                    vocab,
                    rms_eps,
                    rope_base,
                    rope_base_local: rope_base,
                    sliding_window: None,
                    swa_pattern: 1,
                    context_train,
                    rope_style: RopeStyle::Interleaved,
                    activation: Activation::Silu,
                }
            }
            Architecture::Gemma3 => {
                let head_dim = file.get_usize(&key("attention.key_length"))?;
                let v_dim = file
                    .get_usize_opt(&key("attention.value_length"))?
                    .unwrap_or(head_dim);
                check(
                    "attention.value_length",
                    v_dim == head_dim,
                    "must equal attention.key_length",
                    v_dim,
                )?;
                // llama.cpp's defaults for gemma3 when the keys are absent.
                let rope_base = file
                    .get_f32_opt(&key("rope.freq_base"))?
                    .unwrap_or(1_000_000.0);
                let rope_base_local = file
                    .get_f32_opt(&key("rope.local_freq_base"))?
                    .unwrap_or(10_000.0);
                let window = file.get_usize(&key("attention.sliding_window"))?;
                let swa_pattern = file
                    .get_usize_opt(&key("attention.sliding_window_pattern"))?
                    .unwrap_or(6);
                check(
                    "attention.sliding_window_pattern",
                    swa_pattern > 0,
                    "must be positive",
                    swa_pattern,
                )?;
                Self {
                    arch,
                    n_layer,
                    hidden,
                    n_head,
                    n_kv_head,
                    head_dim,
                    ffn,
                    vocab,
                    rms_eps,
                    rope_base,
                    rope_base_local,
                    sliding_window: Some(window),
                    swa_pattern,
                    context_train,
                    rope_style: RopeStyle::Neox,
                    activation: Activation::GeluTanh,
                }
            }
        };
        if cfg.head_dim % 2 != 0 {
            return Err(Error::Metadata {
                path: file.path().to_path_buf(),
                key: key("attention.key_length"),
                reason: format!("head width {} must be even for rope", cfg.head_dim),
            });
        }
        Ok(cfg)
    }

    /// Whether layer `i` (0-based) attends through the sliding window.
    pub fn is_sliding(&self, i: usize) -> bool {
        self.sliding_window.is_some() && !(i + 1).is_multiple_of(self.swa_pattern)
    }

    /// Rope frequency base used by layer `i`.
    pub fn rope_base_of(&self, i: usize) -> f32 {
        if self.is_sliding(i) {
            self.rope_base_local
        } else {
            self.rope_base
        }
    }
}
