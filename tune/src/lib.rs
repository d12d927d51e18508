//! bora-tune: on-device LoRA fine-tuning of bora's GGUF language models.
//!
//! The GGUF's weights are dequantized to f32 once ([`BaseModel`]) and stay frozen plain
//! tensors; a [`LoraAdapter`] adds trainable low-rank updates (candle variables) on the
//! attention projections (`q_proj` and `v_proj` by default). [`Trainer`] fits it on
//! (prompt, completion) [`Example`]s with AdamW, scoring completion tokens only; the
//! adapter is written and read in PEFT's layout ([`peft`]) and can be merged into the f32
//! weights ([`LoraAdapter::merge_into`]) for an inference path.
//!
//! CPU (f32) today; everything is candle ops on the [`candle_core::Device`] the base was
//! loaded on. No threads of its own, no progress output: the caller owns both.

mod error;
pub use error::{Error, Result};

pub mod declared;
pub mod form;
pub mod forward;
pub mod frozen;
pub mod infer;
pub mod lora;
pub mod peft;
pub mod schedule;
pub mod train;
pub mod weights;

pub use forward::Adapted;
pub use lora::{LoraAdapter, LoraConfig, LoraPair, Target};
pub use schedule::{Decay, Schedule, Spike, SpikeWatch};
pub use train::{
    command_prompt, evaluate, prompt_for, Example, TokenizedExample, TrainConfig, Trainer,
    PROMPT_HEADER,
};
pub use weights::{BaseModel, BlockWeights};
