//! A packed batch (several examples in one forward pass, positions restarting and the
//! mask confined to each example) gives every example the hidden states and the loss it
//! gets alone: packing changes the speed of a step, not what it computes.

mod common;

use bora_tune::{LoraAdapter, LoraConfig};
use candle_core::Tensor;

/// The four examples' rows of one packed pass equal four single passes, and the packed
/// evaluation equals the token-weighted mean of single-example evaluations.
#[test]
fn packed_batch_equals_one_pass_per_example() {
    let (base, tok) = common::load();
    let data = common::tokenized(&tok, &common::examples());
    let seqs: Vec<&[u32]> = data.iter().map(|e| e.ids.as_slice()).collect();
    let packed = base.hidden_states_packed(&seqs, None).expect("packed pass");
    let mut start = 0;
    for (i, s) in seqs.iter().enumerate() {
        let alone = base.hidden_states(s, None).expect("single pass");
        let rows = packed.narrow(0, start, s.len()).expect("rows of example");
        let diff = common::max_abs_diff(&rows, &alone);
        // f32 products over different row counts may sum in another order: rounding only.
        assert!(diff < 1e-3, "example {i}: packed rows differ by {diff}");
        start += s.len();
    }
    assert_eq!(start, packed.dims()[0], "packed pass has one row per token");

    let adapter = LoraAdapter::new(&base, &LoraConfig::default()).expect("adapter");
    common::fill_b(&adapter, 0.53, 0.05);
    let packed_loss = bora_tune::evaluate(&base, &adapter, &data).expect("packed loss");
    let (mut sum, mut count) = (0f64, 0usize);
    for ex in &data {
        let alone = bora_tune::evaluate(&base, &adapter, std::slice::from_ref(ex)).expect("loss");
        sum += f64::from(alone) * ex.scored() as f64;
        count += ex.scored();
    }
    let mean = (sum / count as f64) as f32;
    assert!(
        (packed_loss - mean).abs() < 1e-4 * mean.max(1.0),
        "packed loss {packed_loss} vs per-example mean {mean}"
    );
    // The packed rows are not trivially equal to something constant.
    let spread = packed.var_keepdim(0).and_then(|v| v.mean_all());
    let spread: f32 = spread
        .and_then(|t: Tensor| t.to_scalar())
        .expect("variance");
    assert!(spread > 0.0, "hidden states are constant");
}
