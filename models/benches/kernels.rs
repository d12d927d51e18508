//! Micro-benchmark of bora's quantized kernels: GB/s of weight bytes per matrix-vector
//! product (decode) and tokens/s of a 128-token matrix-matrix product (prefill), on the
//! shapes of SmolLM2-135M and gemma-3-270m.
//!
//! `cargo bench -p bora-models --bench kernels [-- WORDS]` (threads: every core the
//! process may use; `taskset -c 0` for one; WORDS: only the shapes whose name contains
//! one of them, e.g. `Q6_K`). Every SIMD instruction set this CPU has is measured, side
//! by side, and each type also in its repacked layout where the CPU has one.

use std::time::Instant;

use bora_models::kernels::{self, packed, Isa, QMatrix, QType};

fn main() {
    let shapes: [(&str, QType, usize, usize); 9] = [
        ("smollm2 ffn_up Q4_1", QType::Q4_1, 1536, 576),
        ("smollm2 ffn_down Q4_1", QType::Q4_1, 576, 1536),
        ("smollm2 head Q8_0", QType::Q8_0, 49152, 576),
        ("gemma ffn_up Q5_0", QType::Q5_0, 2048, 640),
        ("gemma attn_v Q8_0", QType::Q8_0, 256, 640),
        ("gemma head Q8_0", QType::Q8_0, 262144, 640),
        ("Q4_0 2048x640", QType::Q4_0, 2048, 640),
        ("gemma ffn_down Q4_K", QType::Q4K, 640, 2048),
        ("gemma ffn_down Q6_K", QType::Q6K, 640, 2048),
    ];
    // cargo passes `--bench`; the other arguments pick shapes by name.
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let pool = kernels::pool::global();
    let isas: Vec<Isa> = Isa::available()
        .into_iter()
        .filter(|&i| i != Isa::Scalar)
        .collect();
    println!("isas {isas:?}, threads {}", pool.threads());
    for (name, ty, rows, cols) in shapes {
        if !words.is_empty() && !words.iter().any(|w| name.contains(w.as_str())) {
            continue;
        }
        let bytes = rows * cols / ty.block_elems() * ty.block_bytes();
        // Deterministic pseudo-random blocks; f16 scales kept small and finite.
        let mut data: Vec<u8> = (0..bytes)
            .map(|i| ((i * 2_654_435_761) >> 13) as u8)
            .collect();
        for b in data.chunks_exact_mut(ty.block_bytes()) {
            b[0] = 0x00;
            b[1] = 0x20;
            if ty == QType::Q4_1 {
                b[2] = 0x00;
                b[3] = 0xa0;
            }
        }
        let w = QMatrix::new(ty, &data, rows, cols).expect("shape");
        let x: Vec<f32> = (0..128 * cols)
            .map(|i| ((i % 97) as f32 - 48.0) / 50.0)
            .collect();
        let mut y = vec![0f32; 128 * rows];
        for &isa in &isas {
            let label = format!("{name} {isa:?}");
            let prod = |x: &[f32], t: usize, y: &mut [f32]| {
                kernels::matmul_on(isa, pool, &w, x, t, y).expect("product")
            };
            measure(&label, (rows, cols), &prod, &x, &mut y, bytes);
        }
        if packed::available(ty) {
            let p = packed::PackedMatrix::new(ty, &data, rows, cols).expect("repack");
            let prod = |x: &[f32], t: usize, y: &mut [f32]| {
                packed::matmul_packed(&p, x, t, y).expect("product")
            };
            let label = format!("{name} repacked {:?}", Isa::detect());
            measure(&label, (rows, cols), &prod, &x, &mut y, bytes);
        }
    }
}

/// Rounds per figure.
const ROUNDS: usize = 5;

/// The shortest of [`ROUNDS`] timings of `f`, in seconds.
fn best_of(mut f: impl FnMut()) -> f64 {
    (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// A product `y = x W^T` of `tokens` rows.
type Product<'a> = dyn Fn(&[f32], usize, &mut [f32]) + 'a;

/// One shape on one kernel set: matrix-vector GB/s, 128-token tokens/s (best rounds).
fn measure(
    name: &str,
    (rows, cols): (usize, usize),
    prod: &Product<'_>,
    x: &[f32],
    y: &mut [f32],
    bytes: usize,
) {
    // Each figure is the best of ROUNDS rounds: on a shared host, the least disturbed.
    let reps = (200_000_000 / bytes / ROUNDS).clamp(3, 2000);
    let dt = best_of(|| {
        for _ in 0..reps {
            prod(&x[..cols], 1, &mut y[..rows]);
        }
    }) / reps as f64;
    if rows > 100_000 {
        println!(
            "{name:34} {rows:6}x{cols:<5} matvec {:8.2} us {:6.1} GB/s",
            dt * 1e6,
            bytes as f64 / dt / 1e9
        );
        return;
    }
    let preps = (reps / 32).max(2);
    let pt = best_of(|| {
        for _ in 0..preps {
            prod(x, 128, y);
        }
    }) / preps as f64;
    println!(
            "{name:34} {rows:6}x{cols:<5} matvec {:8.2} us {:6.1} GB/s | 128-token matmul {:8.3} ms {:8.0} tok/s",
            dt * 1e6,
            bytes as f64 / dt / 1e9,
            pt * 1e3,
            128.0 / pt
        );
}
