//! Adapters on disk in PEFT's layout, so Hugging Face PEFT (and llama.cpp's
//! `convert_lora_to_gguf.py`) read bora's adapters and bora reads theirs: a directory with
//! `adapter_model.safetensors` holding
//! `base_model.model.model.layers.{i}.self_attn.{q,k,v,o}_proj.lora_{A,B}.weight`
//! (A: (r, in), B: (out, r), f32) and `adapter_config.json`.
//!
//! llama.cpp's converter permutes the rows of `q_proj` and `k_proj` per head so that its
//! interleaved rope matches Hugging Face's half-split rope. bora trains on the GGUF rows,
//! so `B` of q/k is un-permuted to Hugging Face's order when written and permuted back
//! when read; `A` and the other projections are stored as trained.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use bora_models::model::ModelConfig;
use candle_core::{Device, Tensor, Var};
use serde::{Deserialize, Serialize};

use crate::lora::{LoraAdapter, LoraConfig, LoraPair, Target};
use crate::weights::BaseModel;
use crate::{Error, Result};

/// File name of the tensors inside an adapter directory.
pub const WEIGHTS_FILE: &str = "adapter_model.safetensors";
/// File name of the settings inside an adapter directory.
pub const CONFIG_FILE: &str = "adapter_config.json";

/// `adapter_config.json` as PEFT writes it (the keys bora reads and writes; others are ignored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdapterConfigFile {
    /// Always `LORA`.
    pub peft_type: String,
    /// `CAUSAL_LM` for these models.
    #[serde(default)]
    pub task_type: Option<String>,
    /// Rank of every update.
    pub r: usize,
    /// Scaling numerator (`alpha / r`, or `alpha / sqrt(r)` with `use_rslora`).
    pub lora_alpha: f64,
    /// Adapted module names (`q_proj`, ...).
    pub target_modules: Vec<String>,
    /// The model the adapter was trained on.
    #[serde(default)]
    pub base_model_name_or_path: Option<String>,
    /// Dropout used in training (not applied by bora at inference).
    #[serde(default)]
    pub lora_dropout: f64,
    /// Bias training mode; bora writes and reads only `none`.
    #[serde(default = "bias_none")]
    pub bias: String,
    /// Whether weights are stored transposed (never for llama; must be false).
    #[serde(default)]
    pub fan_in_fan_out: bool,
    /// Rank-stabilised scaling `alpha / sqrt(r)`.
    #[serde(default)]
    pub use_rslora: bool,
    /// PEFT's flag for an adapter saved for inference.
    #[serde(default)]
    pub inference_mode: bool,
    /// Per-module ranks (unsupported when non-empty).
    #[serde(default)]
    pub rank_pattern: BTreeMap<String, serde_json::Value>,
    /// Per-module alphas (unsupported when non-empty).
    #[serde(default)]
    pub alpha_pattern: BTreeMap<String, serde_json::Value>,
}

fn bias_none() -> String {
    "none".into()
}

/// The PEFT tensor name of `A` (`which` = 'A') or `B` (`which` = 'B') of `target` in layer `layer`.
pub fn tensor_name(layer: usize, target: Target, which: char) -> String {
    format!(
        "base_model.model.model.layers.{layer}.self_attn.{}.lora_{which}.weight",
        target.module_name()
    )
}

/// Rows of `b` (heads * head_dim, r) from GGUF order (rope pairs (2j, 2j+1)) to Hugging
/// Face order (pairs (j, j + head_dim / 2)), per head.
pub fn gguf_rows_to_hf(b: &Tensor, heads: usize) -> Result<Tensor> {
    let (rows, r) = b.dims2()?;
    let hd = rows / heads;
    Ok(b.reshape((heads, hd / 2, 2, r))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((rows, r))?)
}

/// Inverse of [`gguf_rows_to_hf`]: Hugging Face row order to GGUF row order.
pub fn hf_rows_to_gguf(b: &Tensor, heads: usize) -> Result<Tensor> {
    let (rows, r) = b.dims2()?;
    let hd = rows / heads;
    Ok(b.reshape((heads, 2, hd / 2, r))?
        .transpose(1, 2)?
        .contiguous()?
        .reshape((rows, r))?)
}

/// Number of heads whose rows `target` permutes in llama.cpp's converter (q and k only).
fn permuted_heads(config: &ModelConfig, target: Target) -> Option<usize> {
    match target {
        Target::Q => Some(config.n_head),
        Target::K => Some(config.n_kv_head),
        Target::V | Target::O => None,
    }
}

/// The weight shape (out, in) that `target` adapts in every layer of a model of `config`.
pub fn target_shape(config: &ModelConfig, target: Target) -> (usize, usize) {
    let (h, hd) = (config.hidden, config.head_dim);
    match target {
        Target::Q => (config.n_head * hd, h),
        Target::K | Target::V => (config.n_kv_head * hd, h),
        Target::O => (h, config.n_head * hd),
    }
}

impl LoraAdapter {
    /// Write the adapter to directory `dir` (created if missing) in PEFT's layout, naming
    /// `base_name` as its base model.
    #[tracing::instrument(skip_all, err, fields(dir = %dir.display()))]
    pub fn save(&self, dir: &Path, base: &BaseModel, base_name: &str) -> Result<()> {
        let io = |path: PathBuf| move |source| Error::AdapterIo { path, source };
        std::fs::create_dir_all(dir).map_err(io(dir.to_path_buf()))?;
        let mut tensors: HashMap<String, Tensor> = HashMap::new();
        for (i, pairs) in self.layers.iter().enumerate() {
            for (&t, pair) in pairs {
                let b = pair.b.as_tensor();
                let b = match permuted_heads(&base.config, t) {
                    Some(heads) => gguf_rows_to_hf(b, heads)?,
                    None => b.clone(),
                };
                tensors.insert(tensor_name(i, t, 'A'), pair.a.as_tensor().clone());
                tensors.insert(tensor_name(i, t, 'B'), b);
            }
        }
        candle_core::safetensors::save(&tensors, dir.join(WEIGHTS_FILE))?;
        let cfg = AdapterConfigFile {
            peft_type: "LORA".into(),
            task_type: Some("CAUSAL_LM".into()),
            r: self.config.rank,
            lora_alpha: self.config.alpha,
            target_modules: self
                .config
                .targets
                .iter()
                .map(|t| t.module_name().to_string())
                .collect(),
            base_model_name_or_path: Some(base_name.to_string()),
            lora_dropout: 0.0,
            bias: bias_none(),
            fan_in_fan_out: false,
            use_rslora: false,
            inference_mode: true,
            rank_pattern: BTreeMap::new(),
            alpha_pattern: BTreeMap::new(),
        };
        let path = dir.join(CONFIG_FILE);
        let json = serde_json::to_string_pretty(&cfg).map_err(|e| Error::InvalidAdapter {
            path: path.clone(),
            reason: format!("cannot serialise the config: {e}"),
        })?;
        std::fs::write(&path, json + "\n").map_err(io(path.clone()))?;
        Ok(())
    }

    /// Read a PEFT-layout adapter directory for `base`, checking every tensor's presence
    /// and shape against the model.
    pub fn load(dir: &Path, base: &BaseModel) -> Result<Self> {
        Self::load_for(dir, &base.config, base.device())
    }

    /// Read a PEFT-layout adapter directory for a model of `config` onto `device`, without
    /// its weights (what inference needs): every tensor's presence and shape is checked.
    #[tracing::instrument(skip_all, err, fields(dir = %dir.display()))]
    pub fn load_for(dir: &Path, model: &ModelConfig, device: &Device) -> Result<Self> {
        let bad = |path: &Path, reason: String| Error::InvalidAdapter {
            path: path.to_path_buf(),
            reason,
        };
        let cfg_path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&cfg_path).map_err(|source| Error::AdapterIo {
            path: cfg_path.clone(),
            source,
        })?;
        let cfg: AdapterConfigFile = serde_json::from_str(&text)
            .map_err(|e| bad(&cfg_path, format!("is not a PEFT adapter config: {e}")))?;
        if cfg.peft_type != "LORA" {
            return Err(bad(
                &cfg_path,
                format!("peft_type is {:?}; only LORA adapters load", cfg.peft_type),
            ));
        }
        if cfg.fan_in_fan_out || cfg.bias != "none" {
            return Err(bad(
                &cfg_path,
                "fan_in_fan_out and bias other than \"none\" are not supported".into(),
            ));
        }
        if !cfg.rank_pattern.is_empty() || !cfg.alpha_pattern.is_empty() {
            return Err(bad(
                &cfg_path,
                "per-module rank_pattern/alpha_pattern are not supported".into(),
            ));
        }
        let mut targets = Vec::new();
        for m in &cfg.target_modules {
            targets.push(Target::from_module_name(m).ok_or_else(|| {
                bad(
                    &cfg_path,
                    format!("target module {m:?} is not one of q_proj, k_proj, v_proj, o_proj"),
                )
            })?);
        }
        targets.sort();
        targets.dedup();
        let config = LoraConfig {
            rank: cfg.r,
            alpha: cfg.lora_alpha,
            targets,
            seed: 0,
        };
        config.check(usize::MAX)?;
        let scale = if cfg.use_rslora {
            cfg.lora_alpha / (cfg.r as f64).sqrt()
        } else {
            config.scale()
        };

        let w_path = dir.join(WEIGHTS_FILE);
        let mut tensors = candle_core::safetensors::load(&w_path, device)?;
        let mut layers = Vec::with_capacity(model.n_layer);
        for i in 0..model.n_layer {
            let mut pairs = BTreeMap::new();
            for &t in &config.targets {
                let (out, inp) = target_shape(model, t);
                let mut take = |which: char, shape: (usize, usize)| -> Result<Tensor> {
                    let name = tensor_name(i, t, which);
                    let ten = tensors
                        .remove(&name)
                        .ok_or_else(|| bad(&w_path, format!("tensor {name} is missing")))?;
                    if ten.dims() != [shape.0, shape.1] {
                        return Err(bad(
                            &w_path,
                            format!(
                                "tensor {name} has shape {:?}, the model needs {shape:?}",
                                ten.dims()
                            ),
                        ));
                    }
                    Ok(ten.to_dtype(candle_core::DType::F32)?)
                };
                let a = take('A', (cfg.r, inp))?;
                let b = take('B', (out, cfg.r))?;
                let b = match permuted_heads(model, t) {
                    Some(heads) => hf_rows_to_gguf(&b, heads)?,
                    None => b,
                };
                pairs.insert(
                    t,
                    LoraPair {
                        a: Var::from_tensor(&a)?,
                        b: Var::from_tensor(&b)?,
                    },
                );
            }
            layers.push(pairs);
        }
        if let Some(extra) = tensors.keys().next() {
            return Err(bad(
                &w_path,
                format!("tensor {extra} belongs to no layer or target of this model"),
            ));
        }
        Ok(Self {
            config,
            layers,
            scale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn row_permutation_matches_llama_cpp_and_inverts() -> Result<()> {
        // Two heads of width 4, rank 1: row value = HF row index.
        let hf = Tensor::arange(0f32, 8.0, &Device::Cpu)?.reshape((8, 1))?;
        let gguf = hf_rows_to_gguf(&hf, 2)?;
        // llama.cpp's permute: HF rows (j, j + hd/2) become GGUF rows (2j, 2j + 1).
        let got: Vec<f32> = gguf.flatten_all()?.to_vec1()?;
        assert_eq!(got, [0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]);
        let back = gguf_rows_to_hf(&gguf, 2)?;
        assert_eq!(
            back.flatten_all()?.to_vec1::<f32>()?,
            (0..8).map(|v| v as f32).collect::<Vec<_>>()
        );
        Ok(())
    }

    #[test]
    fn names_follow_peft() {
        assert_eq!(
            tensor_name(3, Target::Q, 'A'),
            "base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight"
        );
    }
}
