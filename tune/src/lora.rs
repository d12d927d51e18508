//! LoRA adapters: low-rank updates `W x + (alpha / r) B A x` on chosen attention
//! projections, with `A` drawn from a seeded Kaiming-uniform and `B` zero, as PEFT does.
//!
//! `A` and `B` are candle variables, the only trainable parameters. They act on weights
//! in the GGUF's row order; [`crate::peft`] converts to and from the Hugging Face order
//! when an adapter is written or read.

use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, Var};

use crate::weights::{BaseModel, BlockWeights};
use crate::{Error, Result};

/// An attention projection an adapter can target, named as PEFT names llama's modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Query projection `q_proj`.
    Q,
    /// Key projection `k_proj`.
    K,
    /// Value projection `v_proj`.
    V,
    /// Attention output projection `o_proj`.
    O,
}

impl Target {
    /// Every target, in module order.
    pub const ALL: [Target; 4] = [Target::Q, Target::K, Target::V, Target::O];

    /// The PEFT / Hugging Face module name (`q_proj`, ...).
    pub fn module_name(self) -> &'static str {
        match self {
            Target::Q => "q_proj",
            Target::K => "k_proj",
            Target::V => "v_proj",
            Target::O => "o_proj",
        }
    }

    /// The target whose module name is `name`, if any.
    pub fn from_module_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.module_name() == name)
    }

    /// The frozen weight this target adapts in `block`, (out, in).
    pub fn weight(self, block: &BlockWeights) -> &Tensor {
        match self {
            Target::Q => &block.wq,
            Target::K => &block.wk,
            Target::V => &block.wv,
            Target::O => &block.wo,
        }
    }

    /// Mutable access to the weight this target adapts in `block`, (out, in).
    fn weight_mut(self, block: &mut BlockWeights) -> &mut Tensor {
        match self {
            Target::Q => &mut block.wq,
            Target::K => &mut block.wk,
            Target::V => &mut block.wv,
            Target::O => &mut block.wo,
        }
    }
}

/// Shape and initialisation of an adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraConfig {
    /// Rank `r` of the update (columns of `B`, rows of `A`).
    pub rank: usize,
    /// Scaling numerator: the update is multiplied by `alpha / rank`.
    pub alpha: f64,
    /// Projections adapted in every layer.
    pub targets: Vec<Target>,
    /// Seed of the generator that draws `A` (same seed, same adapter).
    pub seed: u64,
}

impl Default for LoraConfig {
    /// Rank 8, alpha 16, on `q_proj` and `v_proj` (the original LoRA paper's choice), seed 0.
    fn default() -> Self {
        Self {
            rank: 8,
            alpha: 16.0,
            targets: vec![Target::Q, Target::V],
            seed: 0,
        }
    }
}

impl LoraConfig {
    /// The multiplier `alpha / rank` applied to `B A x`.
    pub fn scale(&self) -> f64 {
        self.alpha / self.rank as f64
    }

    /// Check the settings against a model whose smallest adapted width is `min_dim`.
    pub fn check(&self, min_dim: usize) -> Result<()> {
        if self.rank == 0 || self.rank > min_dim {
            return Err(Error::InvalidSetting {
                name: "rank",
                value: self.rank.to_string(),
                reason: format!("must be 1 to {min_dim} (the narrowest adapted projection)"),
            });
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return Err(Error::InvalidSetting {
                name: "alpha",
                value: self.alpha.to_string(),
                reason: "must be a positive number (commonly 2 x rank)".into(),
            });
        }
        if self.targets.is_empty() {
            return Err(Error::InvalidSetting {
                name: "targets",
                value: "[]".into(),
                reason: "name at least one of q_proj, k_proj, v_proj, o_proj".into(),
            });
        }
        Ok(())
    }
}

/// One low-rank update: `A` (rank, in) and `B` (out, rank), both trainable.
#[derive(Debug, Clone)]
pub struct LoraPair {
    /// Down projection `A`, (rank, in).
    pub a: Var,
    /// Up projection `B`, (out, rank).
    pub b: Var,
}

impl LoraPair {
    /// `(B A x^T)^T` for `x` (seq, in), times `scale`; recorded for backprop when `track`.
    pub fn delta(&self, x: &Tensor, scale: f64, track: bool) -> Result<Tensor> {
        let (a, b) = if track {
            (self.a.as_tensor().clone(), self.b.as_tensor().clone())
        } else {
            (self.a.as_tensor().detach(), self.b.as_tensor().detach())
        };
        Ok((x.matmul(&a.t()?)?.matmul(&b.t()?)? * scale)?)
    }

    /// The dense update `B A`, (out, in).
    pub fn product(&self) -> Result<Tensor> {
        Ok(self.b.as_tensor().matmul(self.a.as_tensor())?)
    }
}

/// A LoRA adapter for a whole model: per layer, one [`LoraPair`] per target.
#[derive(Debug, Clone)]
pub struct LoraAdapter {
    /// The settings it was made or read with.
    pub config: LoraConfig,
    /// Per layer (first to last), the pair of each adapted projection.
    pub layers: Vec<BTreeMap<Target, LoraPair>>,
    /// Multiplier of `B A x`: `alpha / rank` (or as read from the adapter's config).
    pub scale: f64,
}

impl LoraAdapter {
    /// A fresh adapter for `base`: `A` Kaiming-uniform in ±1/sqrt(in) (PEFT's default),
    /// drawn from `config.seed` layer by layer, target by target; `B` zero, so the
    /// adapted model starts equal to the base.
    pub fn new(base: &BaseModel, config: &LoraConfig) -> Result<Self> {
        let block = base.blocks.first().ok_or_else(|| Error::InvalidSetting {
            name: "model",
            value: base.path.display().to_string(),
            reason: "has no layers".into(),
        })?;
        let min_dim = Target::ALL
            .iter()
            .flat_map(|t| t.weight(block).dims().to_vec())
            .min()
            .unwrap_or(0);
        config.check(min_dim)?;
        let mut rng = SplitMix64(config.seed);
        let dev = base.device();
        let mut targets = config.targets.clone();
        targets.sort();
        targets.dedup();
        let mut layers = Vec::with_capacity(base.blocks.len());
        for block in &base.blocks {
            let mut pairs = BTreeMap::new();
            for &t in &targets {
                let (out, inp) = t.weight(block).dims2()?;
                let bound = 1.0 / (inp as f64).sqrt();
                let a: Vec<f32> = (0..config.rank * inp)
                    .map(|_| ((rng.unit() * 2.0 - 1.0) * bound) as f32)
                    .collect();
                let a = Var::from_tensor(&Tensor::from_vec(a, (config.rank, inp), dev)?)?;
                let b = Var::zeros((out, config.rank), DType::F32, dev)?;
                pairs.insert(t, LoraPair { a, b });
            }
            layers.push(pairs);
        }
        Ok(Self {
            config: LoraConfig {
                targets,
                ..config.clone()
            },
            layers,
            scale: config.scale(),
        })
    }

    /// Every trainable variable (A then B of each pair, layer by layer), for the optimiser.
    pub fn vars(&self) -> Vec<Var> {
        self.layers
            .iter()
            .flat_map(|l| l.values().flat_map(|p| [p.a.clone(), p.b.clone()]))
            .collect()
    }

    /// Number of trainable f32 values.
    pub fn parameter_count(&self) -> usize {
        self.vars().iter().map(|v| v.elem_count()).sum()
    }

    /// `base` with the adapter folded in: `W' = W + scale * B A` for every adapted
    /// projection, f32 in the GGUF's row order (what an inference path loads).
    pub fn merge_into(&self, base: &BaseModel) -> Result<BaseModel> {
        if self.layers.len() != base.blocks.len() {
            return Err(Error::InvalidAdapter {
                path: base.path.clone(),
                reason: format!(
                    "adapter has {} layers, the model {}",
                    self.layers.len(),
                    base.blocks.len()
                ),
            });
        }
        let mut merged = base.clone();
        for (block, pairs) in merged.blocks.iter_mut().zip(&self.layers) {
            for (&t, pair) in pairs {
                let w = t.weight_mut(block);
                *w = (&*w + (pair.product()? * self.scale)?)?;
            }
        }
        Ok(merged)
    }

    /// The device the adapter's variables live on.
    pub fn device(&self) -> Device {
        self.layers
            .iter()
            .flat_map(|l| l.values())
            .next()
            .map(|p| p.a.device().clone())
            .unwrap_or(Device::Cpu)
    }
}

/// SplitMix64: a tiny, portable, seeded generator, so an adapter's initial `A` is the
/// same for a seed on every machine and every version of `rand`.
struct SplitMix64(u64);

impl SplitMix64 {
    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in [0, 1) with 53 random bits.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_seeded_and_uniform() {
        let mut a = SplitMix64(7);
        let mut b = SplitMix64(7);
        let xs: Vec<f64> = (0..10_000).map(|_| a.unit()).collect();
        assert!(xs.iter().zip((0..).map(|_| b.unit())).all(|(x, y)| *x == y));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        assert_ne!(SplitMix64(8).unit(), SplitMix64(7).unit());
    }

    #[test]
    fn config_rejects_zero_rank_and_bad_alpha() {
        let bad_rank = LoraConfig {
            rank: 0,
            ..Default::default()
        };
        assert!(matches!(
            bad_rank.check(64),
            Err(Error::InvalidSetting { name: "rank", .. })
        ));
        let bad_alpha = LoraConfig {
            alpha: f64::NAN,
            ..Default::default()
        };
        assert!(matches!(
            bad_alpha.check(64),
            Err(Error::InvalidSetting { name: "alpha", .. })
        ));
        assert!(LoraConfig::default().check(64).is_ok());
    }

    #[test]
    fn delta_is_scaled_b_a_x() -> Result<()> {
        let dev = Device::Cpu;
        let a = Var::from_tensor(&Tensor::new(&[[1f32, 2.0, 3.0]], &dev)?)?; // (1, 3)
        let b = Var::from_tensor(&Tensor::new(&[[2f32], [-1.0]], &dev)?)?; // (2, 1)
        let pair = LoraPair { a, b };
        let x = Tensor::new(&[[1f32, 0.0, 1.0]], &dev)?; // A x = 4
        let y = pair.delta(&x, 0.5, false)?.to_vec2::<f32>()?;
        assert_eq!(y, vec![vec![4.0, -2.0]]);
        Ok(())
    }
}
