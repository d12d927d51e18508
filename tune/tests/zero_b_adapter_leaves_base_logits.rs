//! A fresh adapter (random `A`, zero `B`) leaves the model exactly as it was: LoRA
//! starts from the base model.

mod common;

use bora_tune::{Adapted, LoraAdapter, LoraConfig};

#[test]
fn zero_b_adapter_leaves_base_logits() {
    let (base, tok) = common::load();
    let ids = tok
        .encode("Input: wait two seconds\nOutput: ", false)
        .expect("prompt encodes");
    let lora = LoraAdapter::new(&base, &LoraConfig::default()).expect("adapter");
    let a_norm = lora.layers[0]
        .values()
        .next()
        .expect("a target")
        .a
        .as_tensor()
        .abs()
        .and_then(|t| t.sum_all())
        .and_then(|t| t.to_scalar::<f32>())
        .expect("norm");
    assert!(a_norm > 0.0, "A must be random, not zero");
    let plain = base.logits(&ids, None).expect("base");
    let adapted = base
        .logits(
            &ids,
            Some(Adapted {
                lora: &lora,
                track: false,
            }),
        )
        .expect("adapted");
    assert_eq!(common::max_abs_diff(&plain, &adapted), 0.0);
}
