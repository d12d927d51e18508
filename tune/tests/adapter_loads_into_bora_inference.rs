//! An adapter written by bora-tune, loaded into bora's own quantized model
//! ([`bora_tune::infer::load_into`]), changes its logits the way the training forward
//! pass says it should: the adapted logits of the two paths agree within the same bound
//! as the base logits do (`candle_forward_matches_bora_inference.rs`: RMS 0.3, from
//! bora's 8-bit activation rounding), while the adapter moves them by far more than that
//! bound, so a transposed, mis-scaled or wrongly permuted update would fail.

mod common;

use bora_models::{Model, ModelOptions};
use bora_tune::{infer, Adapted, LoraAdapter, LoraConfig, Target};
use candle_core::Tensor;

/// Largest allowed RMS difference of the two paths' logits (logit units).
const MAX_RMS: f32 = 0.3;

fn rms(a: &Tensor, b: &Tensor) -> f32 {
    (a - b)
        .and_then(|d| d.sqr())
        .and_then(|d| d.mean_all())
        .and_then(|d| d.to_scalar::<f32>())
        .expect("rms")
        .sqrt()
}

fn bora_logits(model: &Model, ids: &[u32], like: &Tensor) -> Tensor {
    let mut state = model.new_state().expect("state");
    let mut out = Vec::new();
    for &id in ids {
        out.extend_from_slice(model.forward(&mut state, &[id]).expect("decode step"));
    }
    Tensor::from_vec(out, like.dims(), like.device()).expect("tensor")
}

#[test]
fn an_adapter_changes_bora_s_logits_as_the_training_forward_predicts() {
    let (base, tok) = common::load();
    let mut ids = Vec::new();
    if tok.add_bos() {
        ids.extend(tok.bos_id());
    }
    ids.extend(
        tok.encode(&bora_tune::prompt_for("spin around twice"), false)
            .expect("ids"),
    );
    let config = LoraConfig {
        rank: 4,
        alpha: 8.0,
        targets: vec![Target::Q, Target::K, Target::V, Target::O],
        seed: 5,
    };
    let lora = LoraAdapter::new(&base, &config).expect("adapter");
    common::fill_b(&lora, 0.61, 0.3);
    let dir = tempfile::tempdir().expect("temp dir");
    lora.save(dir.path(), &base, "smollm2").expect("save");
    let candle_adapted = base
        .logits(
            &ids,
            Some(Adapted {
                lora: &lora,
                track: false,
            }),
        )
        .expect("adapted forward");

    let options = ModelOptions {
        context: 128,
        threads: 0,
        ..Default::default()
    };
    let mut model = Model::load(common::model_path(), &options).expect("bora model loads");
    let bora_base = bora_logits(&model, &ids, &candle_adapted);
    let applied = infer::load_into(dir.path(), &mut model).expect("adapter loads into bora");
    assert_eq!(applied.updates, base.blocks.len() * 4);
    assert_eq!(applied.rank, 4);
    let bora_adapted = bora_logits(&model, &ids, &candle_adapted);

    let moved = rms(&bora_adapted, &bora_base);
    let agree = rms(&bora_adapted, &candle_adapted);
    println!("adapter moved bora's logits by RMS {moved:.3}; paths agree to RMS {agree:.3}");
    assert!(
        moved > 5.0 * MAX_RMS,
        "the adapter moved logits only RMS {moved}"
    );
    assert!(
        agree <= MAX_RMS,
        "adapted logits differ by RMS {agree} > {MAX_RMS}"
    );
}
