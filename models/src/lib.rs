//! bora-models: GGUF language models on candle, tokenizers built from the GGUF itself,
//! streaming generation with chunked prefill, a prefix KV cache and constrained output;
//! Whisper speech-to-text from CTranslate2 files (`whisper`).
//!
//! No ROS and no threads of its own: the caller (bora-llm, the pipeline's language stage) owns the
//! thread and checks its token budget between the steps this crate exposes.

mod error;
pub use error::{Error, Result};

pub mod gguf;
pub mod kernels;
pub mod model;
pub use model::{Backend, DeviceSpec, Model, ModelOptions, ModelState};
pub mod bench;
pub mod generate;
pub mod prefix_cache;
pub mod sampling;

pub mod registry;
pub mod tokenizer;
pub mod whisper;
pub use tokenizer::{ModelTokenizer, StreamDecoder};
pub mod chat;
pub use chat::{ChatTemplate, Message, Role};
pub mod constrain;
mod token_mask;
pub use constrain::{Constraint, MaskStats, TokenMask};
