//! An adapter written in PEFT's layout and read back gives the same logits bit for bit;
//! with a non-zero `B` those logits differ from the base model's; and folding the
//! adapter into the f32 weights gives the adapted logits without the adapter.

mod common;

use bora_tune::{peft, Adapted, LoraAdapter, LoraConfig, Target};

#[test]
fn saved_adapter_reloads_to_identical_logits() {
    let (base, tok) = common::load();
    let ids = tok
        .encode("Input: spin around twice\nOutput: ", false)
        .expect("prompt encodes");
    let config = LoraConfig {
        rank: 4,
        alpha: 8.0,
        targets: vec![Target::Q, Target::K, Target::V, Target::O],
        seed: 3,
    };
    let lora = LoraAdapter::new(&base, &config).expect("adapter");
    // A deterministic non-zero B everywhere (as training would leave it).
    common::fill_b(&lora, 0.37, 0.02);
    let adapted = |l: &LoraAdapter| {
        base.logits(
            &ids,
            Some(Adapted {
                lora: l,
                track: false,
            }),
        )
        .expect("adapted forward")
    };
    let before = adapted(&lora);
    let plain = base.logits(&ids, None).expect("base forward");
    let moved = common::max_abs_diff(&before, &plain);
    assert!(moved > 0.1, "a non-zero B moved logits only {moved}");

    let dir = tempfile::tempdir().expect("temp dir");
    lora.save(dir.path(), &base, "HuggingFaceTB/SmolLM2-135M-Instruct")
        .expect("save");
    let cfg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(peft::CONFIG_FILE)).expect("config written"),
    )
    .expect("config is JSON");
    assert_eq!(cfg["r"], 4);
    assert_eq!(cfg["lora_alpha"], 8.0);
    assert_eq!(cfg["peft_type"], "LORA");
    let names = candle_core::safetensors::load(
        dir.path().join(peft::WEIGHTS_FILE),
        &candle_core::Device::Cpu,
    )
    .expect("weights written");
    let q_b = &names["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"];
    assert_eq!(q_b.dims(), [base.config.n_head * base.config.head_dim, 4]);
    assert_eq!(names.len(), base.blocks.len() * 4 * 2);

    let loaded = LoraAdapter::load(dir.path(), &base).expect("load");
    let after = adapted(&loaded);
    assert_eq!(
        common::max_abs_diff(&before, &after),
        0.0,
        "reloaded adapter changed logits"
    );

    let merged = loaded.merge_into(&base).expect("merge");
    let folded = merged.logits(&ids, None).expect("merged forward");
    let d = common::max_abs_diff(&before, &folded);
    // Only float rounding differs: W x + s B (A x) against (W + s B A) x.
    assert!(d < 1e-2, "merged weights differ from the adapter by {d}");
}
