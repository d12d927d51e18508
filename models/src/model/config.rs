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

/// The GGUF file and its architecture prefix, for reading and checking `{arch}.*` keys.
struct Meta<'a> {
    /// The file being read.
    file: &'a GgufFile,
    /// The `general.architecture` value that prefixes every hyper-parameter key.
    arch_name: &'a str,
}

/// The hyper-parameters shared by every architecture, read before the per-architecture ones.
struct Common {
    /// Number of transformer blocks.
    n_layer: usize,
    /// Hidden (embedding) width.
    hidden: usize,
    /// Number of query heads.
    n_head: usize,
    /// Number of key/value heads.
    n_kv_head: usize,
    /// Inner width of the MLP.
    ffn: usize,
    /// Epsilon of the RMS norms.
    rms_eps: f32,
    /// Context length the model was trained for (tokens).
    context_train: usize,
    /// Vocabulary size.
    vocab: usize,
}

impl Meta<'_> {
    /// The full metadata key `{arch}.{k}`.
    fn key(&self, k: &str) -> String {
        format!("{}.{k}", self.arch_name)
    }

    /// `Ok` when `ok`, else a metadata error on key `{arch}.{k}` saying value `v` fails `why`.
    fn check(&self, k: &str, ok: bool, why: &str, v: usize) -> Result<()> {
        if ok {
            Ok(())
        } else {
            Err(Error::Metadata {
                path: self.file.path().to_path_buf(),
                key: self.key(k),
                reason: format!("= {v}: {why}"),
            })
        }
    }

    /// Vocabulary size: the `vocab_size` key, else the token list's length, else the
    /// embedding's first dimension.
    fn vocab(&self) -> Result<usize> {
        let file = self.file;
        Ok(match file.get_usize_opt(&self.key("vocab_size"))? {
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
                        key: self.key("vocab_size"),
                        reason:
                            "is missing, and so are tokenizer.ggml.tokens and token_embd.weight"
                                .into(),
                    })
                }
            },
        })
    }

    /// Read the architecture-independent hyper-parameters and check the head counts.
    fn common(&self) -> Result<Common> {
        let file = self.file;
        let n_layer = file.get_usize(&self.key("block_count"))?;
        let hidden = file.get_usize(&self.key("embedding_length"))?;
        let n_head = file.get_usize(&self.key("attention.head_count"))?;
        let n_kv_head = file
            .get_usize_opt(&self.key("attention.head_count_kv"))?
            .unwrap_or(n_head);
        let ffn = file.get_usize(&self.key("feed_forward_length"))?;
        let rms_eps = file.get_f32(&self.key("attention.layer_norm_rms_epsilon"))?;
        let context_train = file
            .get_usize_opt(&self.key("context_length"))?
            .unwrap_or(2048);
        let vocab = self.vocab()?;
        self.check("block_count", n_layer > 0, "must be positive", n_layer)?;
        self.check(
            "attention.head_count",
            n_head > 0,
            "must be positive",
            n_head,
        )?;
        self.check(
            "attention.head_count_kv",
            n_kv_head > 0 && n_head % n_kv_head == 0,
            "must be positive and divide attention.head_count",
            n_kv_head,
        )?;
        Ok(Common {
            n_layer,
            hidden,
            n_head,
            n_kv_head,
            ffn,
            rms_eps,
            context_train,
            vocab,
        })
    }

    /// The llama configuration: head width from the hidden width, full interleaved rope.
    fn llama(&self, c: Common) -> Result<ModelConfig> {
        self.check(
            "embedding_length",
            c.hidden.is_multiple_of(c.n_head),
            "must be a multiple of attention.head_count",
            c.hidden,
        )?;
        let head_dim = c.hidden / c.n_head;
        let rope_dim = self
            .file
            .get_usize_opt(&self.key("rope.dimension_count"))?
            .unwrap_or(head_dim);
        self.check(
            "rope.dimension_count",
            rope_dim == head_dim,
            "partial rope is not supported",
            rope_dim,
        )?;
        let rope_base = self
            .file
            .get_f32_opt(&self.key("rope.freq_base"))?
            .unwrap_or(10_000.0);
        Ok(ModelConfig {
            arch: Architecture::Llama,
            n_layer: c.n_layer,
            hidden: c.hidden,
            n_head: c.n_head,
            n_kv_head: c.n_kv_head,
            head_dim,
            ffn: c.ffn,
            vocab: c.vocab,
            rms_eps: c.rms_eps,
            rope_base,
            rope_base_local: rope_base,
            sliding_window: None,
            swa_pattern: 1,
            context_train: c.context_train,
            rope_style: RopeStyle::Interleaved,
            activation: Activation::Silu,
        })
    }

    /// The gemma3 configuration: explicit head width, two rope bases, sliding window.
    fn gemma3(&self, c: Common) -> Result<ModelConfig> {
        let file = self.file;
        let head_dim = file.get_usize(&self.key("attention.key_length"))?;
        let v_dim = file
            .get_usize_opt(&self.key("attention.value_length"))?
            .unwrap_or(head_dim);
        self.check(
            "attention.value_length",
            v_dim == head_dim,
            "must equal attention.key_length",
            v_dim,
        )?;
        // llama.cpp's defaults for gemma3 when the keys are absent.
        let rope_base = file
            .get_f32_opt(&self.key("rope.freq_base"))?
            .unwrap_or(1_000_000.0);
        let rope_base_local = file
            .get_f32_opt(&self.key("rope.local_freq_base"))?
            .unwrap_or(10_000.0);
        let window = file.get_usize(&self.key("attention.sliding_window"))?;
        let swa_pattern = file
            .get_usize_opt(&self.key("attention.sliding_window_pattern"))?
            .unwrap_or(6);
        self.check(
            "attention.sliding_window_pattern",
            swa_pattern > 0,
            "must be positive",
            swa_pattern,
        )?;
        Ok(ModelConfig {
            arch: Architecture::Gemma3,
            n_layer: c.n_layer,
            hidden: c.hidden,
            n_head: c.n_head,
            n_kv_head: c.n_kv_head,
            head_dim,
            ffn: c.ffn,
            vocab: c.vocab,
            rms_eps: c.rms_eps,
            rope_base,
            rope_base_local,
            sliding_window: Some(window),
            swa_pattern,
            context_train: c.context_train,
            rope_style: RopeStyle::Neox,
            activation: Activation::GeluTanh,
        })
    }
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
        let meta = Meta { file, arch_name };
        let common = meta.common()?;
        let cfg = match arch {
            Architecture::Llama => meta.llama(common)?,
            Architecture::Gemma3 => meta.gemma3(common)?,
        };
        if cfg.head_dim % 2 != 0 {
            return Err(Error::Metadata {
                path: file.path().to_path_buf(),
                key: meta.key("attention.key_length"),
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
