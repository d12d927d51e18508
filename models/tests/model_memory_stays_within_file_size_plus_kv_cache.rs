//! Loading and running a model keeps its peak RSS within 1.5x the file size plus the KV
//! cache of the configured context (item 7): embeddings stay quantized (a tied output
//! head shares them), rotary tables are sized to the context and shared across layers.
//!
//! One test in its own binary, so the process high-water mark is this test's alone.

use bora_models::bench::peak_rss_bytes;
use bora_models::registry::resolve_model;
use bora_models::{Model, ModelOptions};

fn check(name: &str, rope_tables: usize) {
    let path = resolve_model(name)
        .unwrap_or_else(|e| panic!("model {name} not available ({e}); run scripts/setup.sh"));
    let model = Model::load(&path, &ModelOptions::default()).expect("model loads");
    assert_eq!(
        model.rope_table_count(),
        rope_tables,
        "{name}: one rope table per distinct base"
    );
    let mut state = model.new_state().expect("state");
    let prompt: Vec<u32> = (0..128).map(|i| 100 + i).collect();
    model.forward(&mut state, &prompt).expect("prefill");
    for i in 0..16 {
        model.forward(&mut state, &[200 + i]).expect("decode");
    }
    let limit = 1.5 * model.file_size() as f64 + model.kv_cache_bytes() as f64;
    let peak = peak_rss_bytes().expect("VmHWM readable on Linux") as f64;
    let mib = |b: f64| b / 1048576.0;
    eprintln!(
        "{name}: peak RSS {:.1} MiB, limit {:.1} MiB",
        mib(peak),
        mib(limit)
    );
    assert!(
        peak <= limit,
        "{name}: peak RSS {:.1} MiB over the limit {:.1} MiB",
        mib(peak),
        mib(limit)
    );
}

#[test]
fn peak_rss_is_bounded_for_both_models() {
    // The smaller model first: the high-water mark after the second is the larger one's.
    check("smollm2-135m-instruct", 1);
    check("gemma3-270m", 2);
}
