//! Micro-benchmark of bora's quantized kernels: GB/s of weight bytes per matrix-vector
//! product (decode) and tokens/s of a 128-token matrix-matrix product (prefill), on the
//! shapes of SmolLM2-135M and gemma-3-270m.
//!
//! `cargo bench -p bora-models --bench kernels` (threads: `CANDLE_NUM_THREADS`). Every
//! SIMD instruction set this CPU has is measured, side by side.

use std::time::Instant;

use bora_models::kernels::{self, Isa, QMatrix, QType};

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
    let pool = kernels::pool::global();
    let isas: Vec<Isa> = Isa::available()
        .into_iter()
        .filter(|&i| i != Isa::Scalar)
        .collect();
    println!("isas {isas:?}, threads {}", pool.threads());
    for (name, ty, rows, cols) in shapes {
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
            let name = format!("{name} {isa:?}");
            measure(&name, isa, pool, &w, &x, &mut y, bytes);
        }
    }
}

/// One shape on one instruction set: matrix-vector GB/s, 128-token tokens/s.
fn measure(
    name: &str,
    isa: Isa,
    pool: &kernels::Pool,
    w: &QMatrix<'_>,
    x: &[f32],
    y: &mut [f32],
    bytes: usize,
) {
    let (rows, cols) = (w.rows(), w.cols());
    let reps = (200_000_000 / bytes).clamp(3, 2000);
    let t0 = Instant::now();
    for _ in 0..reps {
        kernels::matmul_on(isa, pool, w, &x[..cols], 1, &mut y[..rows]).expect("matvec");
    }
    let dt = t0.elapsed().as_secs_f64() / reps as f64;
    if rows > 100_000 {
        println!(
            "{name:34} {rows:6}x{cols:<5} matvec {:8.2} us {:6.1} GB/s",
            dt * 1e6,
            bytes as f64 / dt / 1e9
        );
        return;
    }
    let preps = (reps / 32).max(2);
    let t1 = Instant::now();
    for _ in 0..preps {
        kernels::matmul_on(isa, pool, w, x, 128, y).expect("matmul");
    }
    let pt = t1.elapsed().as_secs_f64() / preps as f64;
    println!(
            "{name:34} {rows:6}x{cols:<5} matvec {:8.2} us {:6.1} GB/s | 128-token matmul {:8.3} ms {:8.0} tok/s",
            dt * 1e6,
            bytes as f64 / dt / 1e9,
            pt * 1e3,
            128.0 / pt
        );
}
