//! Loading an adapter into bora's own (quantized) model for inference: each LoRA pair
//! becomes a [`LowRank`] update beside the quantized product of its projection, so the
//! GGUF weights are used as they are and the update is exact (f32).

use std::path::Path;

use bora_models::model::lora::{LowRank, Projection};
use bora_models::Model;
use candle_core::Device;

use crate::lora::{LoraAdapter, Target};
use crate::Result;

/// What [`load_into`] applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    /// Rank of the updates.
    pub rank: usize,
    /// Multiplier of `B A x`.
    pub scale: f64,
    /// Adapted projections per layer (`q_proj`, `v_proj`, ...).
    pub targets: Vec<&'static str>,
    /// Number of (layer, projection) updates.
    pub updates: usize,
}

/// Reads the PEFT adapter in `dir` (checked against `model`'s shapes) and adds its
/// updates to `model`. Apply before computing a prefix cache: earlier caches are stale.
pub fn load_into(dir: &Path, model: &mut Model) -> Result<Applied> {
    let adapter = LoraAdapter::load_for(dir, model.config(), &Device::Cpu)?;
    let device = model.device().clone();
    let mut updates = 0;
    for (layer, pairs) in adapter.layers.iter().enumerate() {
        for (&target, pair) in pairs {
            let a = pair.a.as_tensor();
            let b = pair.b.as_tensor();
            let (rank, in_dim) = a.dims2()?;
            let out_dim = b.dims2()?.0;
            let update = LowRank::new(
                a.flatten_all()?.to_vec1::<f32>()?,
                b.flatten_all()?.to_vec1::<f32>()?,
                (rank, in_dim, out_dim),
                adapter.scale as f32,
                &device,
            )?;
            model.set_low_rank(layer, projection(target), update)?;
            updates += 1;
        }
    }
    Ok(Applied {
        rank: adapter.config.rank,
        scale: adapter.scale,
        targets: adapter
            .config
            .targets
            .iter()
            .map(|t| t.module_name())
            .collect(),
        updates,
    })
}

fn projection(target: Target) -> Projection {
    match target {
        Target::Q => Projection::Q,
        Target::K => Projection::K,
        Target::V => Projection::V,
        Target::O => Projection::O,
    }
}
