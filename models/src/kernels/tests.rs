//! Every kernel on every instruction set of this machine, against the scalar reference
//! and against candle's dequantize-then-f32 product, on awkward shapes.

use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};

use super::quant::{f16_round, f16_to_f32, f32_to_f16};
use super::*;

/// A random (rows, cols) matrix quantized by candle, with candle's dequantization.
fn random_weight(ty: GgmlDType, rows: usize, cols: usize, seed: u64) -> (Vec<u8>, Vec<f32>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let w: Vec<f32> = (0..rows * cols)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let t = Tensor::from_vec(w, (rows, cols), &Device::Cpu).unwrap();
    let q = QTensor::quantize(&t, ty).unwrap();
    let deq = q.dequantize(&Device::Cpu).unwrap().flatten_all().unwrap();
    (
        q.data().unwrap().into_owned(),
        deq.to_vec1::<f32>().unwrap(),
    )
}

fn random_x(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-2.0f32..2.0)).collect()
}

const TYPES: [(QType, GgmlDType); 6] = [
    (QType::Q4_0, GgmlDType::Q4_0),
    (QType::Q4_1, GgmlDType::Q4_1),
    (QType::Q5_0, GgmlDType::Q5_0),
    (QType::Q8_0, GgmlDType::Q8_0),
    (QType::Q4K, GgmlDType::Q4K),
    (QType::Q6K, GgmlDType::Q6K),
];

/// (rows, cols, tokens): 1 row, odd rows, 1..=3 blocks, widths not a multiple of 256,
/// token counts that are not a multiple of the wide tile (8 tokens).
const SHAPES: [(usize, usize, usize); 9] = [
    (1, 32, 1),
    (3, 64, 5),
    (7, 96, 3),
    (1, 576, 7),
    (17, 640, 1),
    (33, 1536, 2),
    (64, 576, 9),
    (5, 96, 17),
    (300, 640, 6),
];

/// The same for the 256-value K-quants: 1..=3 blocks and the gemma widths.
const SHAPES_K: [(usize, usize, usize); 6] = [
    (1, 256, 1),
    (3, 512, 5),
    (7, 768, 3),
    (17, 1024, 4),
    (33, 2048, 6),
    (2, 256, 9),
];

#[test]
fn every_isa_matches_scalar_and_dequantized_f32() {
    let pools = [Pool::new(1), Pool::new(3)];
    for (ti, &(ty, gg)) in TYPES.iter().enumerate() {
        let shapes: &[_] = if ty.block_elems() == 256 {
            &SHAPES_K
        } else {
            &SHAPES
        };
        for (si, &(rows, cols, tokens)) in shapes.iter().enumerate() {
            let seed = (ti * 100 + si) as u64;
            let (data, deq) = random_weight(gg, rows, cols, seed);
            // One shape with large activations (gemma's residual stream reaches the
            // thousands): the offset types must not lose their block sums to f16.
            let scale = if si == 4 { 4000.0 } else { 1.0 };
            let x: Vec<f32> = random_x(tokens * cols, seed + 7)
                .iter()
                .map(|v| v * scale)
                .collect();
            let w = QMatrix::new(ty, &data, rows, cols).unwrap();
            let mut reference = vec![0f32; tokens * rows];
            matmul_on(Isa::Scalar, &pools[0], &w, &x, tokens, &mut reference).unwrap();
            // Against the exact f32 product of candle's dequantized weights: the only
            // error is the 8-bit activation rounding, at most (1/2 + 127 * 2^-11) of the
            // block's step d = amax / 127 per value (the 32-block scale is f16-rounded).
            for t in 0..tokens {
                let xr = &x[t * cols..(t + 1) * cols];
                for r in 0..rows {
                    let wr = &deq[r * cols..(r + 1) * cols];
                    let exact: f64 = wr.iter().zip(xr).map(|(&a, &b)| f64::from(a * b)).sum();
                    let mut bound = 1e-4f64;
                    for (wb, xb) in wr.chunks(ty.block_elems()).zip(xr.chunks(ty.block_elems())) {
                        let step = xb.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
                        let wsum: f32 = wb.iter().map(|v| v.abs()).sum();
                        bound += f64::from(wsum * step) * 0.57;
                    }
                    let got = f64::from(reference[t * rows + r]);
                    assert!(
                        (got - exact).abs() <= bound * 1.001 + exact.abs() * 1e-5,
                        "{ty:?} {rows}x{cols} t{tokens} [{t},{r}]: scalar {got} vs f32 {exact} (bound {bound})"
                    );
                }
            }
            for isa in Isa::available() {
                for pool in &pools {
                    let mut y = vec![f32::NAN; tokens * rows];
                    matmul_on(isa, pool, &w, &x, tokens, &mut y).unwrap();
                    for (i, (&a, &b)) in y.iter().zip(&reference).enumerate() {
                        // Same integer sums; only the f32 summation order differs.
                        let tol = 2e-5 * (cols as f32).sqrt() * (1.0 + b.abs());
                        assert!(
                            (a - b).abs() <= tol,
                            "{isa:?} {ty:?} {rows}x{cols} t{tokens} threads {} [{i}]: {a} vs scalar {b}",
                            pool.threads()
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn scalar_dequantize_matches_candle() {
    for (ti, &(ty, gg)) in TYPES.iter().enumerate() {
        let cols = 2 * ty.block_elems();
        let (data, deq) = random_weight(gg, 3, cols, 900 + ti as u64);
        let mut mine = vec![0f32; 3 * cols];
        let rb = data.len() / 3;
        for r in 0..3 {
            scalar::dequantize_row(
                ty,
                &data[r * rb..(r + 1) * rb],
                &mut mine[r * cols..(r + 1) * cols],
            );
        }
        for (i, (a, b)) in mine.iter().zip(&deq).enumerate() {
            assert!(
                (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
                "{ty:?} [{i}]: {a} vs candle {b}"
            );
        }
    }
}

#[test]
fn f16_conversions_round_trip_and_round_to_nearest_even() {
    for h in 0u16..=0xffff {
        let v = f16_to_f32(h);
        if v.is_nan() {
            continue;
        }
        assert_eq!(f32_to_f16(v), h, "half bits {h:#06x} ({v})");
    }
    assert_eq!(f16_round(1.0 + 1.0 / 4096.0), 1.0); // tie, rounds to even
    assert_eq!(f16_round(1.0 + 3.0 / 4096.0), 1.0 + 1.0 / 1024.0);
    assert_eq!(f16_round(1.0 + 3.0 / 2048.0), 1.0 + 2.0 / 1024.0); // tie, rounds to even
    assert_eq!(f32_to_f16(1e6), 0x7c00);
}

#[test]
fn bad_shapes_are_errors_not_panics() {
    let data = vec![0u8; 20];
    assert!(QMatrix::new(QType::Q4_1, &data, 1, 33).is_err());
    assert!(QMatrix::new(QType::Q4_1, &data, 2, 32).is_err());
    let w = QMatrix::new(QType::Q4_1, &data, 1, 32).unwrap();
    let mut y = vec![0f32; 2];
    assert!(matmul(&w, &[0.0; 32], 2, &mut y).is_err());
    matmul(&w, &[0.0; 64], 2, &mut y).unwrap();
    assert_eq!(y, [0.0, 0.0]);
}

#[test]
fn four_row_decode_kernels_equal_the_one_token_kernel_bit_for_bit() {
    // The decode path runs 4 rows at a time; its results must not depend on how the
    // rows were grouped (so thread counts and row splits never change a token).
    let (rows, cols) = (8, 640);
    for isa in Isa::available() {
        for (ti, &(ty, gg)) in TYPES.iter().enumerate() {
            let Tiles::B32(widths, Some(r4)) = isa.tiles(ty) else {
                continue;
            };
            let t1 = widths[0];
            let (data, _) = random_weight(gg, rows, cols, 500 + ti as u64);
            let x = random_x(cols, 600 + ti as u64);
            let nb = cols / 32;
            let mut xq = vec![Q8Block::default(); nb];
            quant::quantize_q8(&x, &mut xq);
            let rb = data.len() / rows;
            for r0 in [0, 4] {
                let mut four = [0f32; 4];
                // SAFETY: rows r0..r0+4 of `data` are `rb` bytes apart, `nb` blocks each.
                unsafe { r4(data[r0 * rb..].as_ptr(), rb, nb, xq.as_ptr(), &mut four) };
                for (i, &v) in four.iter().enumerate() {
                    let mut one = [0f32; WIDE];
                    // SAFETY: row r0+i is `nb` blocks; `xq` is `nb` blocks.
                    unsafe {
                        t1(
                            data[(r0 + i) * rb..].as_ptr(),
                            nb,
                            xq.as_ptr(),
                            nb,
                            &mut one,
                        )
                    };
                    assert_eq!(
                        v.to_bits(),
                        one[0].to_bits(),
                        "{isa:?} {ty:?} row {}",
                        r0 + i
                    );
                }
            }
        }
    }
}

#[test]
fn a_token_gets_the_same_bits_in_a_product_of_any_token_count() {
    // A verification pass's rows must be the logits a decode step gives each token
    // alone (greedy drafts change no output), whether a wide tile or the one-token
    // kernels served it: 1 to 17 tokens cover every remainder of the wide tile.
    let pool = Pool::new(2);
    for isa in Isa::available() {
        for (ti, &(ty, gg)) in TYPES.iter().enumerate() {
            let (rows, cols) = (9, ty.block_elems() * 3);
            let (data, _) = random_weight(gg, rows, cols, 900 + ti as u64);
            let w = QMatrix::new(ty, &data, rows, cols).unwrap();
            let x = random_x(17 * cols, 950 + ti as u64);
            let alone: Vec<Vec<f32>> = (0..17)
                .map(|t| {
                    let mut y = vec![0f32; rows];
                    matmul_on(isa, &pool, &w, &x[t * cols..(t + 1) * cols], 1, &mut y).unwrap();
                    y
                })
                .collect();
            for tokens in 2..=17 {
                let mut y = vec![f32::NAN; tokens * rows];
                matmul_on(isa, &pool, &w, &x[..tokens * cols], tokens, &mut y).unwrap();
                for (t, want) in alone.iter().take(tokens).enumerate() {
                    let got = &y[t * rows..(t + 1) * rows];
                    let same = got
                        .iter()
                        .zip(want)
                        .all(|(a, b)| a.to_bits() == b.to_bits());
                    assert!(
                        same,
                        "{isa:?} {ty:?}: token {t} of {tokens} {got:?} vs alone {want:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn chosen_rows_get_the_bits_of_the_whole_product() {
    // Logits of the tokens a grammar allows are computed alone: each must be the bits
    // the whole output head gives that row, in any order, repeated or not.
    let pool = Pool::new(2);
    let ids = [0u32, 12, 5, 12, 1, 2, 3, 4, 13];
    for isa in Isa::available() {
        for (ti, &(ty, gg)) in TYPES.iter().enumerate() {
            let (rows, cols) = (14, ty.block_elems() * 3);
            let (data, _) = random_weight(gg, rows, cols, 1100 + ti as u64);
            let w = QMatrix::new(ty, &data, rows, cols).unwrap();
            let x = random_x(cols, 1150 + ti as u64);
            let mut whole = vec![0f32; rows];
            matmul_on(isa, &pool, &w, &x, 1, &mut whole).unwrap();
            let mut chosen = vec![f32::NAN; ids.len()];
            matvec_rows_on(isa, &w, &x, &ids, &mut chosen).unwrap();
            for (&id, v) in ids.iter().zip(&chosen) {
                assert_eq!(
                    v.to_bits(),
                    whole[id as usize].to_bits(),
                    "{isa:?} {ty:?} row {id}"
                );
            }
            assert!(matvec_rows_on(isa, &w, &x, &[14], &mut [0.0]).is_err());
            assert!(matvec_rows_on(isa, &w, &x, &[1, 2], &mut [0.0]).is_err());
        }
    }
}

/// Asserts that kernel sets `a` and `b` give the same bits for every type and shape.
fn assert_same_bits(a: Isa, b: Isa) {
    let pool = Pool::new(2);
    for (ti, &(ty, gg)) in TYPES.iter().enumerate() {
        let shapes: &[_] = if ty.block_elems() == 256 {
            &SHAPES_K
        } else {
            &SHAPES
        };
        for (si, &(rows, cols, tokens)) in shapes.iter().enumerate() {
            let (data, _) = random_weight(gg, rows, cols, (700 + ti * 10 + si) as u64);
            let x = random_x(tokens * cols, (800 + ti * 10 + si) as u64);
            let w = QMatrix::new(ty, &data, rows, cols).unwrap();
            let (mut ya, mut yb) = (vec![0f32; tokens * rows], vec![0f32; tokens * rows]);
            matmul_on(a, &pool, &w, &x, tokens, &mut ya).unwrap();
            matmul_on(b, &pool, &w, &x, tokens, &mut yb).unwrap();
            let same = ya.iter().zip(&yb).all(|(p, q)| p.to_bits() == q.to_bits());
            assert!(
                same,
                "{ty:?} {rows}x{cols} t{tokens}: {b:?} differs from {a:?}"
            );
        }
    }
}

/// Same integer sums, same float steps: on a CPU with AVX-512 VNNI the faster kernels
/// do not change a single logit against the AVX2 ones.
///
/// bora is built for the CPU it runs on (`-C target-cpu=native`, .cargo/config.toml), so
/// whether this CPU has VNNI is known when the test is compiled: built for one without
/// it, the test is `ignored` with that reason and counted as such by the test runner,
/// not passed. Built for one with it, the run-time detection must agree, or it fails.
#[test]
#[cfg_attr(
    not(all(target_feature = "avx512vnni", target_feature = "avx512vl")),
    ignore = "built for a CPU without AVX-512 VNNI: no VNNI kernels to compare"
)]
fn vnni_kernels_equal_avx2_bit_for_bit() {
    assert!(
        Isa::available().contains(&Isa::Avx512Vnni),
        "built for AVX-512 VNNI (target-cpu) but the kernels do not detect it: {:?}",
        Isa::available()
    );
    assert_same_bits(Isa::Avx2, Isa::Avx512Vnni);
}

#[cfg(target_arch = "aarch64")]
#[test]
fn dotprod_kernels_equal_plain_neon_bit_for_bit() {
    // SDOT and the plain NEON product put the same sums in the same lanes, and the float
    // steps are shared: a board with the dot product computes the same logits as one
    // without. (Without dotprod there is nothing to compare; see the VNNI test.)
    if !Isa::available().contains(&Isa::NeonDotprod) {
        eprintln!("no NEON dot product on this CPU: nothing to compare");
        return;
    }
    assert_same_bits(Isa::Neon, Isa::NeonDotprod);
}

#[test]
fn the_expected_instruction_sets_are_detected() {
    // CI names the kernel sets its CPU must have (scripts/cross-aarch64.sh runs qemu with
    // and without the dot product), so a detection fault cannot quietly skip a set.
    let found: Vec<String> = Isa::available().iter().map(|i| format!("{i:?}")).collect();
    match std::env::var("BORA_EXPECT_ISAS") {
        Ok(want) => {
            let want: Vec<&str> = want.split_whitespace().collect();
            assert_eq!(found, want, "kernel sets detected vs BORA_EXPECT_ISAS");
        }
        Err(_) => eprintln!("kernel sets on this CPU: {found:?} (BORA_EXPECT_ISAS unset)"),
    }
    assert_eq!(Isa::detect(), *Isa::available().last().unwrap());
}

#[cfg(target_arch = "aarch64")]
#[test]
fn hardware_f16_conversion_equals_the_software_one() {
    for h in 0u16..=0xffff {
        let soft = f16_to_f32(h);
        // SAFETY: two readable bytes.
        let hard = unsafe { neon::h2f(h.to_le_bytes().as_ptr()) };
        if soft.is_nan() {
            assert!(hard.is_nan(), "half bits {h:#06x}: {hard}");
        } else {
            assert_eq!(hard.to_bits(), soft.to_bits(), "half bits {h:#06x}");
        }
    }
}

/// Every code of every block of `data` (GGML rows of `ty`) at its largest: the integer
/// sums' worst case (31, 15 or -128 times +-127 in all 32 places; the K-quants' codes
/// and sub-scales at their largest magnitude, 15 x 63 and 63 x -128).
fn saturate(ty: QType, data: &mut [u8]) {
    for b in data.chunks_exact_mut(ty.block_bytes()) {
        let n = b.len();
        match ty {
            QType::Q8_0 => b[2..].fill(0x80),
            QType::Q4K => b[4..].fill(0xff),
            QType::Q6K => {
                b[..192].fill(0xff);
                b[192..208].fill(0x80);
            }
            QType::Q5_0 => {
                b[2..6].fill(0xff);
                b[n - 16..].fill(0xff);
            }
            QType::Q4_0 | QType::Q4_1 => b[n - 16..].fill(0xff),
        }
    }
}

#[test]
fn repacked_products_equal_the_scalar_reference_bit_for_bit() {
    // Eight rows per vector, the scalar reference's float steps: the repacked product
    // must be exactly the portable one, on every instruction set that runs it, for row
    // counts that leave a partial group, token counts past one wide tile, and codes and
    // activations at their extremes (where an i16 partial sum would overflow).
    let pool = Pool::new(2);
    for (ty, gty) in TYPES {
        let isas: Vec<Isa> = Isa::available()
            .into_iter()
            .filter(|&i| {
                let p = tiny_packed(ty);
                let x = vec![0.0; p.cols()];
                packed::matmul_packed_on(i, &pool, &p, &x, 1, &mut [0.0]).is_ok()
            })
            .collect();
        if cfg!(target_arch = "x86_64") {
            assert!(
                !isas.is_empty(),
                "no x86-64 kernel set runs repacked {ty:?}"
            );
        }
        // The last shape is the saturated one.
        let extra = |be: usize| [(9, 2 * be, 8), (16, 3 * be, 16), (16, 2 * be, 3)];
        let shapes: Vec<_> = if ty.block_elems() == 256 {
            SHAPES_K.iter().copied().chain(extra(256)).collect()
        } else {
            SHAPES.iter().copied().chain(extra(32)).collect()
        };
        let last = shapes.len() - 1;
        for (si, &(rows, cols, tokens)) in shapes.iter().enumerate() {
            let (mut data, _) = random_weight(gty, rows, cols, 900 + si as u64);
            let mut x = random_x(tokens * cols, 950 + si as u64);
            if si == last {
                saturate(ty, &mut data);
                let signs = [1.0, -1.0, 1.0];
                for (t, row) in x.chunks_exact_mut(cols).enumerate() {
                    row.fill(signs[t] * 2.0);
                }
            }
            let w = QMatrix::new(ty, &data, rows, cols).unwrap();
            let mut want = vec![0f32; tokens * rows];
            matmul_on(Isa::Scalar, &pool, &w, &x, tokens, &mut want).unwrap();
            let p = packed::PackedMatrix::new(ty, &data, rows, cols).unwrap();
            for &isa in &isas {
                let mut got = vec![0f32; tokens * rows];
                packed::matmul_packed_on(isa, &pool, &p, &x, tokens, &mut got).unwrap();
                let same = got
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(
                    same,
                    "{ty:?} {isa:?} {rows}x{cols} t{tokens}: repacked differs from scalar"
                );
            }
            if !isas.is_empty() {
                let ids: Vec<u32> = (0..rows as u32).rev().step_by(3).collect();
                let mut one = vec![0f32; ids.len()];
                packed::matvec_rows_packed(&p, &x[..cols], &ids, &mut one).unwrap();
                for (&id, v) in ids.iter().zip(&one) {
                    assert_eq!(v.to_bits(), want[id as usize].to_bits(), "{ty:?} row {id}");
                }
            }
        }
    }
}

#[test]
fn repacked_rows_read_back_as_their_ggml_blocks() {
    // A tied embedding is looked up from its repacked head: every row must come back.
    for (i, (ty, gty)) in TYPES.into_iter().enumerate() {
        let (rows, cols) = (11, 3 * ty.block_elems());
        let (data, _) = random_weight(gty, rows, cols, 990 + i as u64);
        let p = packed::PackedMatrix::new(ty, &data, rows, cols).unwrap();
        let rb = 3 * ty.block_bytes();
        let mut row = vec![0u8; rb];
        for r in 0..rows {
            p.ggml_blocks(r, 0, &mut row).unwrap();
            assert_eq!(row, data[r * rb..(r + 1) * rb], "{ty:?} row {r}");
            let bb = ty.block_bytes();
            p.ggml_blocks(r, 2, &mut row[..bb]).unwrap();
            assert_eq!(
                row[..bb],
                data[r * rb + 2 * bb..r * rb + 3 * bb],
                "{ty:?} row {r}"
            );
        }
    }
}

/// A one-block repacked matrix of `ty` (probes which instruction sets run the layout).
fn tiny_packed(ty: QType) -> packed::PackedMatrix {
    let cols = ty.block_elems();
    packed::PackedMatrix::new(ty, &vec![0u8; ty.block_bytes()], 1, cols).unwrap()
}

#[test]
fn repacking_refuses_bad_shapes_and_products_name_what_is_wrong() {
    assert!(packed::PackedMatrix::new(QType::Q4_1, &[0u8; 20], 1, 33).is_err());
    assert!(packed::PackedMatrix::new(QType::Q4_1, &[0u8; 20], 2, 32).is_err());
    let err = packed::PackedMatrix::new(QType::Q4K, &[0u8; 144], 1, 32).unwrap_err();
    assert!(
        format!("{err}").contains("Q4K") && format!("{err}").contains("256"),
        "{err}"
    );
    let p = tiny_packed(QType::Q8_0);
    assert!(p.ggml_blocks(1, 0, &mut [0u8; 34]).is_err());
    assert!(p.ggml_blocks(0, 0, &mut [0u8; 33]).is_err());
    assert!(p.ggml_blocks(0, 1, &mut [0u8; 34]).is_err());
    let p = tiny_packed(QType::Q4_1);
    let pool = Pool::new(1);
    let err = packed::matmul_packed_on(Isa::Scalar, &pool, &p, &[0.0; 32], 1, &mut [0.0]);
    assert!(format!("{}", err.unwrap_err()).contains("AVX2"));
    if packed::available(QType::Q4_1) {
        assert!(packed::matmul_packed(&p, &[0.0; 31], 1, &mut [0.0]).is_err());
        assert!(packed::matvec_rows_packed(&p, &[0.0; 32], &[1], &mut [0.0]).is_err());
    }
}
