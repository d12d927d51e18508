//! The frozen base model: every weight of a llama-architecture GGUF dequantized to f32
//! once, held as plain candle tensors (never variables, so no gradient is kept for them).

use std::path::{Path, PathBuf};

use bora_models::gguf::GgufFile;
use bora_models::model::{Architecture, ModelConfig};
use candle_core::{Device, Tensor};

use crate::{Error, Result};

/// The weights of one transformer block, f32, in the GGUF's row order.
#[derive(Debug, Clone)]
pub struct BlockWeights {
    /// RMS-norm scale before attention, (hidden,).
    pub attn_norm: Tensor,
    /// Query projection, (n_head * head_dim, hidden); rows in GGUF (rope-interleaved) order.
    pub wq: Tensor,
    /// Key projection, (n_kv_head * head_dim, hidden); rows in GGUF (rope-interleaved) order.
    pub wk: Tensor,
    /// Value projection, (n_kv_head * head_dim, hidden).
    pub wv: Tensor,
    /// Output projection, (hidden, n_head * head_dim).
    pub wo: Tensor,
    /// RMS-norm scale before the MLP, (hidden,).
    pub ffn_norm: Tensor,
    /// MLP gate projection, (ffn, hidden).
    pub gate: Tensor,
    /// MLP up projection, (ffn, hidden).
    pub up: Tensor,
    /// MLP down projection, (hidden, ffn).
    pub down: Tensor,
}

/// A llama-architecture model dequantized to f32 on one device: the frozen base that
/// LoRA adapters train on top of (about 4 bytes per parameter: 0.54 GB for SmolLM2-135M).
#[derive(Debug, Clone)]
pub struct BaseModel {
    /// The checked hyper-parameters (from bora-models).
    pub config: ModelConfig,
    /// Token embedding, (vocab, hidden).
    pub embed: Tensor,
    /// Transformer blocks, first to last.
    pub blocks: Vec<BlockWeights>,
    /// Final RMS-norm scale, (hidden,).
    pub norm: Tensor,
    /// Output head, (vocab, hidden): the embedding itself when the file ties them.
    pub output: Tensor,
    /// Whether the output head is the token embedding (no `output.weight` in the file).
    pub tied_output: bool,
    /// `general.name` of the file, or its file stem: the base model named in adapter configs.
    pub name: String,
    /// The GGUF file the weights came from.
    pub path: PathBuf,
    device: Device,
}

impl BaseModel {
    /// Open the GGUF at `path` and dequantize every weight to f32 on `device`.
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let file = GgufFile::open(path.as_ref())?;
        Self::from_gguf(&file, device)
    }

    /// Dequantize the weights of an opened GGUF to f32 on `device` (llama architecture only).
    #[tracing::instrument(skip_all, err, fields(path = %file.path().display()))]
    pub fn from_gguf(file: &GgufFile, device: &Device) -> Result<Self> {
        let config = ModelConfig::from_gguf(file)?;
        if config.arch != Architecture::Llama {
            return Err(Error::UnsupportedArchitecture {
                path: file.path().to_path_buf(),
                architecture: file.architecture()?.to_string(),
            });
        }
        let mut reader = file.reopen()?;
        let mut load = |name: &str, shape: &[usize]| -> Result<Tensor> {
            let q = file.load_tensor(&mut reader, name, shape, device)?;
            Ok(q.dequantize(device)?)
        };
        let c = &config;
        let (h, hd) = (c.hidden, c.head_dim);
        let embed = load("token_embd.weight", &[c.vocab, h])?;
        let norm = load("output_norm.weight", &[h])?;
        let tied_output = file.tensor_info("output.weight").is_none();
        let output = if tied_output {
            embed.clone()
        } else {
            load("output.weight", &[c.vocab, h])?
        };
        let mut blocks = Vec::with_capacity(c.n_layer);
        for i in 0..c.n_layer {
            let mut t = |n: &str, shape: &[usize]| load(&format!("blk.{i}.{n}.weight"), shape);
            blocks.push(BlockWeights {
                attn_norm: t("attn_norm", &[h])?,
                wq: t("attn_q", &[c.n_head * hd, h])?,
                wk: t("attn_k", &[c.n_kv_head * hd, h])?,
                wv: t("attn_v", &[c.n_kv_head * hd, h])?,
                wo: t("attn_output", &[h, c.n_head * hd])?,
                ffn_norm: t("ffn_norm", &[h])?,
                gate: t("ffn_gate", &[c.ffn, h])?,
                up: t("ffn_up", &[c.ffn, h])?,
                down: t("ffn_down", &[h, c.ffn])?,
            });
        }
        let name = match file.get_str("general.name") {
            Ok(n) => n.to_string(),
            Err(_) => file
                .path()
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        Ok(Self {
            config,
            embed,
            blocks,
            norm,
            output,
            tied_output,
            name,
            path: file.path().to_path_buf(),
            device: device.clone(),
        })
    }

    /// The device every weight lives on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Number of f32 values held (the output head counted once when tied).
    pub fn parameter_count(&self) -> usize {
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| {
                [
                    &b.attn_norm,
                    &b.wq,
                    &b.wk,
                    &b.wv,
                    &b.wo,
                    &b.ffn_norm,
                    &b.gate,
                    &b.up,
                    &b.down,
                ]
                .iter()
                .map(|t| t.elem_count())
                .sum::<usize>()
            })
            .sum();
        let head = if self.tied_output {
            0
        } else {
            self.output.elem_count()
        };
        blocks + self.embed.elem_count() + self.norm.elem_count() + head
    }
}
