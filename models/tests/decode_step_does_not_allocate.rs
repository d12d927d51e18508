//! The steady-state CPU decode step (`Model::forward` of one token, after warm-up)
//! makes no heap allocation on the calling thread: every buffer lives in the
//! `ModelState`, the weights are read in place.
//!
//! A counting global allocator counts allocations of the current thread while armed.
//! One test binary of its own, so no other test's allocations interfere.

use bora_models::registry::resolve_model;
use bora_models::{Model, ModelOptions};
use bora_testkit::{allocations_in, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn check(name: &str) {
    let path = resolve_model(name)
        .unwrap_or_else(|e| panic!("model {name} not available ({e}); run scripts/setup.sh"));
    let model = Model::load(
        &path,
        &ModelOptions {
            threads: 0,
            context: 128,
            ..Default::default()
        },
    )
    .expect("model loads");
    let mut state = model.new_state().expect("state");
    let prompt: Vec<u32> = (0..20).map(|i| 100 + i).collect();
    model.forward(&mut state, &prompt).expect("prefill");
    // Warm-up: first calls may size per-thread kernel scratch.
    for t in 0..3 {
        model.forward(&mut state, &[300 + t]).expect("warm-up");
    }
    let mut token = 400u32;
    let n = allocations_in(|| {
        for _ in 0..8 {
            let logits = model.forward(&mut state, &[token]).expect("decode");
            token = bora_models::sampling::argmax(logits).unwrap_or(0);
        }
    });
    assert_eq!(n, 0, "{name}: 8 decode steps made {n} heap allocations");
}

#[test]
fn counting_allocator_sees_an_allocation() {
    // The harness itself must be able to fail.
    let n = allocations_in(|| drop(std::hint::black_box(vec![1u8; 16])));
    assert_eq!(n, 1);
}

#[test]
fn decode_step_does_not_allocate() {
    check("smollm2-135m-instruct");
    check("gemma3-270m");
}

/// The kernels alone: Q4_1 products, decode (1 token) and a prefill tile (5 tokens),
/// after a warm-up call has sized the calling thread's activation scratch, make no
/// allocation on the calling thread.
#[test]
fn q4_1_kernel_products_do_not_allocate_after_warm_up() {
    use bora_models::kernels::{matmul, QMatrix, QType};
    let (rows, cols) = (1536usize, 576usize);
    // Q4_1 blocks of 32: f16 scale 0.01 (0x211f), f16 minimum -0.5 (0xb800), 16 nibble bytes.
    let mut block = vec![0x1f, 0x21, 0x00, 0xb8];
    block.extend((0..16u8).map(|i| i.wrapping_mul(37)));
    let data: Vec<u8> = block
        .iter()
        .copied()
        .cycle()
        .take(rows * cols / 32 * block.len())
        .collect();
    let w = QMatrix::new(QType::Q4_1, &data, rows, cols).expect("a whole number of blocks");
    for tokens in [1usize, 5] {
        let x: Vec<f32> = (0..tokens * cols)
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let mut y = vec![0f32; tokens * rows];
        matmul(&w, &x, tokens, &mut y).expect("warm-up product");
        let n = allocations_in(|| matmul(&w, &x, tokens, &mut y).expect("product"));
        assert_eq!(
            n, 0,
            "{tokens}-token Q4_1 product made {n} heap allocations"
        );
        assert!(y.iter().all(|v| v.is_finite()) && y.iter().any(|v| *v != 0.0));
    }
}
