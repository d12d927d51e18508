//! The steady-state CPU decode step (`Model::forward` of one token, after warm-up)
//! makes no heap allocation on any thread, the kernel pool's workers included: every
//! buffer lives in the `ModelState` or a worker's warmed scratch, the weights are read
//! in place.
//!
//! A counting global allocator counts every thread's allocations during a window
//! ([`allocations_in_all_threads`]). One test binary of its own, its tests serialised by
//! [`serial`], so no other test's allocations fall in a window; the kernel pool is
//! started with [`POOL_THREADS`] threads so the workers do take part in the products.

use std::sync::{Barrier, Mutex, MutexGuard};
use std::time::Duration;

use bora_models::kernels::pool;
use bora_models::registry::resolve_model;
use bora_models::{Model, ModelOptions};
use bora_testkit::{allocations_in, allocations_in_all_threads, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// Threads of the kernel pool: the calling thread and one worker, on any machine.
const POOL_THREADS: usize = 2;

static SERIAL: Mutex<()> = Mutex::new(());

/// Holds the binary's one lock (the all-thread count sees every test's allocations) and
/// makes sure the kernel pool runs on [`POOL_THREADS`] threads.
fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The harness reports the test that just released the lock and starts the next one
    // (both allocate): let it finish before a window opens.
    std::thread::sleep(Duration::from_millis(100));
    let pool = pool::init(POOL_THREADS).expect("the kernel pool starts with two threads");
    assert_eq!(pool.threads(), POOL_THREADS);
    guard
}

fn check(name: &str) {
    let path = resolve_model(name)
        .unwrap_or_else(|e| panic!("model {name} not available ({e}); run scripts/setup.sh"));
    let model = Model::load(
        &path,
        &ModelOptions {
            threads: POOL_THREADS,
            context: 128,
            ..Default::default()
        },
    )
    .expect("model loads");
    let mut state = model.new_state().expect("state");
    let prompt: Vec<u32> = (0..20).map(|i| 100 + i).collect();
    model.forward(&mut state, &prompt).expect("prefill");
    // Warm-up: first calls may size per-thread kernel scratch (the workers' too).
    for t in 0..3 {
        model.forward(&mut state, &[300 + t]).expect("warm-up");
    }
    let mut token = 400u32;
    let n = allocations_in_all_threads(|| {
        for _ in 0..8 {
            let logits = model.forward(&mut state, &[token]).expect("decode");
            token = bora_models::sampling::argmax(logits).unwrap_or(0);
        }
    });
    assert_eq!(
        n, 0,
        "{name}: 8 decode steps made {n} heap allocations (all threads)"
    );
}

/// The harness can fail: one allocation on this thread is counted, and one on another
/// thread (started before the window, as the pool's workers are) is counted by the
/// all-thread window though not by this thread's count.
#[test]
fn counting_allocator_sees_an_allocation() {
    let _g = serial();
    let n = allocations_in(|| drop(std::hint::black_box(vec![1u8; 16])));
    assert_eq!(n, 1);
    let (go, done) = (Barrier::new(2), Barrier::new(2));
    std::thread::scope(|s| {
        s.spawn(|| {
            go.wait();
            drop(std::hint::black_box(vec![1u8; 16]));
            done.wait();
        });
        let mut mine = 0;
        let all = allocations_in_all_threads(|| {
            mine = allocations_in(|| {
                go.wait();
                done.wait();
            });
        });
        assert_eq!(mine, 0, "this thread allocated nothing");
        assert!(all >= 1, "the other thread's allocation was not counted");
    });
}

/// Eight steady-state decode steps of each model allocate nothing on any thread.
#[test]
fn decode_step_does_not_allocate() {
    let _g = serial();
    check("smollm2-135m-instruct");
    check("gemma3-270m");
}

/// The kernels alone: Q4_1 products, decode (1 token) and a prefill tile (5 tokens),
/// after a warm-up call has sized the threads' activation scratch, make no allocation on
/// any thread.
#[test]
fn q4_1_kernel_products_do_not_allocate_after_warm_up() {
    let _g = serial();
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
        let n = allocations_in_all_threads(|| matmul(&w, &x, tokens, &mut y).expect("product"));
        assert_eq!(
            n, 0,
            "{tokens}-token Q4_1 product made {n} heap allocations"
        );
        assert!(y.iter().all(|v| v.is_finite()) && y.iter().any(|v| *v != 0.0));
    }
}
