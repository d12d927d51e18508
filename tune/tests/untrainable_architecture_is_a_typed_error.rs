//! A model whose architecture has no training forward pass here (gemma3) is refused
//! with a typed error naming the file and the architecture, before any weight is read.

use bora_models::registry::resolve_model;
use bora_tune::{BaseModel, Error};
use candle_core::Device;

#[test]
fn untrainable_architecture_is_a_typed_error() {
    let path = resolve_model("gemma3-270m")
        .unwrap_or_else(|e| panic!("model gemma3-270m not available ({e}); run scripts/setup.sh"));
    match BaseModel::load(&path, &Device::Cpu) {
        Err(Error::UnsupportedArchitecture { architecture, .. }) => {
            assert_eq!(architecture, "gemma3")
        }
        other => panic!("expected UnsupportedArchitecture, got {other:?}"),
    }
}
