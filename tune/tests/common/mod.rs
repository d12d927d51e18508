//! Shared setup of the integration tests: the real SmolLM2 file and its tokenizer.

#![allow(dead_code)]

use std::path::PathBuf;

use bora_models::registry::resolve_model;
use bora_models::ModelTokenizer;
use bora_tune::{BaseModel, Example, LoraAdapter, TokenizedExample};
use candle_core::{Device, Tensor};

/// The registry name of the model the tests train.
pub const MODEL: &str = "smollm2-135m-instruct";

/// Path of the cached GGUF (panics with the fix when it is missing).
pub fn model_path() -> PathBuf {
    resolve_model(MODEL)
        .unwrap_or_else(|e| panic!("model {MODEL} not available ({e}); run scripts/setup.sh"))
}

/// The f32 base model and the tokenizer from the same file.
pub fn load() -> (BaseModel, ModelTokenizer) {
    let path = model_path();
    let base = BaseModel::load(&path, &Device::Cpu).expect("base model dequantizes");
    let tok = ModelTokenizer::from_gguf_file(&path).expect("tokenizer loads");
    (base, tok)
}

/// Four commands with their plans, in the prompt format of the language stage.
pub fn examples() -> Vec<Example> {
    [
        ("drive forward two meters", r#"{"steps":[{"move":2.0}]}"#),
        ("turn left", r#"{"steps":[{"turn":90}]}"#),
        ("back up half a meter", r#"{"steps":[{"move":-0.5}]}"#),
        ("say hello", r#"{"steps":[{"say":"hello"}]}"#),
    ]
    .into_iter()
    .map(|(c, p)| Example::from_command(c, p))
    .collect()
}

/// `examples` tokenized.
pub fn tokenized(tok: &ModelTokenizer, examples: &[Example]) -> Vec<TokenizedExample> {
    examples
        .iter()
        .enumerate()
        .map(|(i, e)| TokenizedExample::new(tok, e, i).expect("example tokenizes"))
        .collect()
}

/// Largest absolute difference between two tensors of the same shape.
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .and_then(|d| d.abs())
        .and_then(|d| d.flatten_all())
        .and_then(|d| d.max(0))
        .and_then(|d| d.to_scalar::<f32>())
        .expect("tensors compare")
}

/// Sets every `B` of `lora` to a deterministic non-zero pattern, `amplitude * sin(freq * i)`
/// over its elements (as training would leave it; a fresh adapter's `B` is zero).
pub fn fill_b(lora: &LoraAdapter, freq: f64, amplitude: f64) {
    for pairs in &lora.layers {
        for pair in pairs.values() {
            let n = pair.b.elem_count();
            let b = Tensor::arange(0u32, n as u32, pair.b.device())
                .and_then(|t| t.to_dtype(candle_core::DType::F32))
                .and_then(|t| (t * freq)?.sin())
                .and_then(|t| t * amplitude)
                .and_then(|t| t.reshape(pair.b.shape()))
                .expect("b");
            pair.b.set(&b).expect("set b");
        }
    }
}
