//! The element-wise parts of Whisper's forward pass that candle runs through scalar libm
//! calls on the CPU: the row softmax of attention scores and the erf GELU. Here they run
//! in place, branch-free so the compiler vectorizes them, with `exp` and `erf` by
//! polynomials accurate to a few ulp (Cephes' `expf`; the rational `erf` Eigen and
//! TensorFlow use). Measured on tiny.en, one thread: about a quarter of the encoder's time
//! went to libm's `expf`/`erff` before. Other devices use candle's own ops.

use candle_core::{CpuStorage, InplaceOp1, Layout, Tensor};

use crate::Result;

/// `e^x` for f32, within 2 ulp of libm's over the range where it is not 0 or infinite;
/// exactly 0 below -87.3 (so a `-inf` mask gives 0).
#[inline(always)]
#[allow(clippy::manual_clamp)] // max/min: one vector instruction each, no NaN assertion
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 * 2^23 rounds to an integer held in the low mantissa bits (no casts, so
    // the loop vectorizes).
    const MAGIC: f32 = 12_582_912.0;
    let xc = x.max(-87.3).min(88.3);
    let t = xc.mul_add(LOG2E, MAGIC);
    let n = t - MAGIC;
    let r = n.mul_add(-LN2_LO, n.mul_add(-LN2_HI, xc));
    let mut p = 1.987_569_1e-4f32;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5);
    let y = p.mul_add(r * r, r) + 1.0;
    // 2^n: n + 127 into the exponent field (n is in [-126, 127] after the clamp).
    let scale = f32::from_bits(t.to_bits().wrapping_sub(0x4B40_0000 - 127) << 23);
    if x < -87.3 {
        0.0
    } else {
        y * scale
    }
}

/// `erf(x)` for f32 (a rational approximation on [-4, 4], ±1 outside).
#[inline(always)]
#[allow(clippy::manual_clamp)] // as in `exp`
fn erf(x: f32) -> f32 {
    let x = x.max(-4.0).min(4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10f32;
    p = p.mul_add(x2, 2.770_681_4e-8);
    p = p.mul_add(x2, -2.101_024_1e-6);
    p = p.mul_add(x2, -5.692_506_4e-5);
    p = p.mul_add(x2, -7.349_906_3e-4);
    p = p.mul_add(x2, -2.954_600_1e-3);
    p = p.mul_add(x2, -1.609_603_3e-2);
    let mut q = -1.456_607_2e-5f32;
    q = q.mul_add(x2, -2.133_740_6e-4);
    q = q.mul_add(x2, -1.682_827e-3);
    q = q.mul_add(x2, -7.373_329_2e-3);
    q = q.mul_add(x2, -1.426_474e-2);
    x * p / q
}

/// Lanes of the reductions below: independent partial results let them vectorize.
const LANES: usize = 16;

/// Softmax of each row of `width` values, in place.
pub fn softmax_rows(data: &mut [f32], width: usize) {
    for row in data.chunks_exact_mut(width) {
        let mut lanes = [f32::NEG_INFINITY; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for c in &mut chunks {
            for (m, &v) in lanes.iter_mut().zip(c) {
                *m = m.max(v);
            }
        }
        let max = chunks
            .remainder()
            .iter()
            .chain(&lanes)
            .copied()
            .fold(f32::NEG_INFINITY, f32::max);
        for v in row.iter_mut() {
            *v = exp(*v - max);
        }
        let mut lanes = [0f32; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for c in &mut chunks {
            for (s, &v) in lanes.iter_mut().zip(c) {
                *s += v;
            }
        }
        let sum: f32 = lanes.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>();
        let inv = 1.0 / sum;
        for v in row.iter_mut() {
            *v *= inv;
        }
    }
}

/// `x * (1 + erf(x / sqrt 2)) / 2` on every value, in place.
pub fn gelu_erf(data: &mut [f32]) {
    for v in data.iter_mut() {
        let x = *v;
        *v = 0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
    }
}

/// `out[r] = w[r] . h` for every row `r` of `w` (`out.len()` rows of `h.len()` f16
/// values, row-major): Whisper's output projection for one token, reading the f16
/// embeddings (half the bytes of f32; the products are the same, as f16 -> f32 is exact).
/// Rows are split over `threads` scoped threads.
pub fn gemv_f16(w: &[half::f16], h: &[f32], out: &mut [f32], threads: usize) {
    let width = h.len();
    let rows_per = out.len().div_ceil(threads.max(1)).max(1);
    let run = |w: &[half::f16], out: &mut [f32]| {
        use half::slice::HalfFloatSliceExt;
        let mut row_f32 = vec![0f32; width];
        for (row, o) in w.chunks_exact(width).zip(out.iter_mut()) {
            row.convert_to_f32_slice(&mut row_f32);
            let mut lanes = [0f32; LANES];
            let mut a = row_f32.chunks_exact(LANES);
            let mut b = h.chunks_exact(LANES);
            for (a, b) in (&mut a).zip(&mut b) {
                for ((l, &x), &y) in lanes.iter_mut().zip(a).zip(b) {
                    *l = x.mul_add(y, *l);
                }
            }
            let tail: f32 = a
                .remainder()
                .iter()
                .zip(b.remainder())
                .map(|(x, y)| x * y)
                .sum();
            *o = lanes.iter().sum::<f32>() + tail;
        }
    };
    if threads <= 1 {
        run(w, out);
        return;
    }
    std::thread::scope(|s| {
        for (w, out) in w.chunks(rows_per * width).zip(out.chunks_mut(rows_per)) {
            s.spawn(move || run(w, out));
        }
    });
}

/// Query rows per block of [`self_attention`]: a block's scores for one head are
/// `ATTN_BLOCK x n` f32 (768 KB for 128 x 1500), about an L2's worth.
pub const ATTN_BLOCK: usize = 128;

/// Multi-head self-attention straight from a fused projection, on the CPU: `qkv` is `n`
/// rows of `[q | k | v]` (`3 * width` each, q already scaled); returns the `n x width`
/// attention output, heads side by side. The scores go through one reused block buffer
/// and the products read q, k and v in place (no per-head copies, no allocation per
/// block), on gemm as candle's matrix product is.
pub fn self_attention(qkv: &[f32], n: usize, width: usize, heads: usize) -> Vec<f32> {
    let dh = width / heads;
    let row = 3 * width;
    assert!(
        dh * heads == width && qkv.len() == n * row,
        "qkv is n rows of 3 * width"
    );
    let threads = candle_core::utils::get_num_threads();
    let par = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let mut out = vec![0f32; n * width];
    let mut scores = vec![0f32; ATTN_BLOCK.min(n) * n];
    for start in (0..n).step_by(ATTN_BLOCK) {
        let len = ATTN_BLOCK.min(n - start);
        for h in 0..heads {
            let (q0, k0, v0) = (h * dh, width + h * dh, 2 * width + h * dh);
            // SAFETY: the scores are `len x n` in `scores` (len <= ATTN_BLOCK, rows n
            // apart); q is rows start..start+len, columns q0..q0+dh of `qkv` and k^T reads
            // rows 0..n, columns k0..k0+dh: all inside `qkv`, n rows of `row` values.
            unsafe {
                gemm::gemm(
                    len,
                    n,
                    dh,
                    scores.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    qkv.as_ptr().add(start * row + q0),
                    1,
                    row as isize,
                    qkv.as_ptr().add(k0),
                    row as isize,
                    1,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    par,
                );
            }
            softmax_rows(&mut scores[..len * n], n);
            // SAFETY: out rows start..start+len, columns h*dh..(h+1)*dh are inside `out`
            // (n rows of width); the scores are as above; v reads rows 0..n, columns
            // v0..v0+dh of `qkv`.
            unsafe {
                gemm::gemm(
                    len,
                    dh,
                    n,
                    out.as_mut_ptr().add(start * width + h * dh),
                    1,
                    width as isize,
                    false,
                    scores.as_ptr(),
                    1,
                    n as isize,
                    qkv.as_ptr().add(v0),
                    1,
                    row as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    par,
                );
            }
        }
    }
    out
}

/// The ops as candle in-place ops on a contiguous f32 CPU tensor.
enum Inplace {
    Softmax,
    Gelu,
}

impl InplaceOp1 for Inplace {
    fn name(&self) -> &'static str {
        match self {
            Inplace::Softmax => "bora-whisper-softmax",
            Inplace::Gelu => "bora-whisper-gelu-erf",
        }
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let (CpuStorage::F32(values), Some((start, end))) = (storage, layout.contiguous_offsets())
        else {
            candle_core::bail!("{}: needs a contiguous f32 tensor", self.name());
        };
        let data = &mut values[start..end];
        match self {
            Inplace::Softmax => softmax_rows(data, layout.dims().last().copied().unwrap_or(1)),
            Inplace::Gelu => gelu_erf(data),
        }
        Ok(())
    }
}

/// Whether `x` can be changed in place by these ops (a contiguous f32 CPU tensor).
fn in_place(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == candle_core::DType::F32 && x.is_contiguous()
}

/// Softmax over the last dimension; `x` must be a fresh result (nothing else views its
/// storage) as it is overwritten on the CPU.
pub fn softmax_last_dim(x: Tensor) -> Result<Tensor> {
    if in_place(&x) {
        x.inplace_op1(&Inplace::Softmax)?;
        Ok(x)
    } else {
        Ok(candle_nn::ops::softmax_last_dim(&x)?)
    }
}

/// The erf GELU; `x` must be a fresh result, as for [`softmax_last_dim`].
pub fn gelu(x: Tensor) -> Result<Tensor> {
    if in_place(&x) {
        x.inplace_op1(&Inplace::Gelu)?;
        Ok(x)
    } else {
        Ok(x.gelu_erf()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_a_few_ulp_of_libm() {
        let mut worst = 0f32;
        for i in -87_000..88_000 {
            let x = i as f32 * 1e-3 + 1e-4;
            let (a, b) = (exp(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 4.0 * f32::EPSILON, "relative error {worst}");
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn gelu_matches_the_erf_definition() {
        let mut worst = 0f64;
        for i in -10_000..10_000 {
            let x = i as f32 * 1e-3;
            let mut v = [x];
            gelu_erf(&mut v);
            let exact = 0.5 * x as f64 * (1.0 + erf_f64(x as f64 / std::f64::consts::SQRT_2));
            worst = worst.max((v[0] as f64 - exact).abs() / (x.abs() as f64).max(1.0));
        }
        assert!(worst < 1e-6, "error {worst} (relative to |x|, at least 1)");
    }

    /// The reference: erf's Maclaurin series in f64 below 3, its asymptotic form above.
    fn erf_f64(x: f64) -> f64 {
        if x.abs() < 3.0 {
            // Maclaurin series: converges fast enough in f64 below 3.
            let mut sum = x;
            let mut term = x;
            for n in 1..200 {
                term *= -x * x / n as f64;
                sum += term / (2 * n + 1) as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        } else {
            x.signum() * (1.0 - (-x * x).exp() / (x.abs() * std::f64::consts::PI.sqrt()))
        }
    }

    #[test]
    fn gemv_f16_equals_the_f32_product() {
        let (rows, width) = (37, 50);
        let w: Vec<half::f16> = (0..rows * width)
            .map(|i| half::f16::from_f32(((i * 7919) % 201) as f32 / 100.0 - 1.0))
            .collect();
        let h: Vec<f32> = (0..width).map(|i| (i as f32 * 0.37).sin()).collect();
        for threads in [1, 3] {
            let mut out = vec![0f32; rows];
            gemv_f16(&w, &h, &mut out, threads);
            for (r, &o) in out.iter().enumerate() {
                let exact: f64 = (0..width)
                    .map(|i| w[r * width + i].to_f64() * h[i] as f64)
                    .sum();
                assert!((o as f64 - exact).abs() < 1e-5, "row {r}: {o} vs {exact}");
            }
        }
    }

    #[test]
    fn self_attention_equals_the_definition() {
        let (n, width, heads) = (131, 12, 3);
        let qkv: Vec<f32> = (0..n * 3 * width)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let out = self_attention(&qkv, n, width, heads);
        let dh = width / heads;
        for i in [0, 64, 127, 128, 130] {
            for h in 0..heads {
                let at = |r: usize, part: usize, d: usize| {
                    qkv[r * 3 * width + part * width + h * dh + d] as f64
                };
                let s: Vec<f64> = (0..n)
                    .map(|j| (0..dh).map(|d| at(i, 0, d) * at(j, 1, d)).sum())
                    .collect();
                let max = s.iter().copied().fold(f64::MIN, f64::max);
                let e: Vec<f64> = s.iter().map(|v| (v - max).exp()).collect();
                let z: f64 = e.iter().sum();
                for d in 0..dh {
                    let want: f64 = (0..n).map(|j| e[j] / z * at(j, 2, d)).sum();
                    let got = out[i * width + h * dh + d] as f64;
                    assert!(
                        (got - want).abs() < 1e-5,
                        "row {i} head {h} dim {d}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn softmax_rows_sum_to_one() {
        let mut v = vec![1.0, 2.0, 3.0, f32::NEG_INFINITY, 0.5, 0.5];
        softmax_rows(&mut v, 3);
        assert!((v[..3].iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(v[3], 0.0);
        assert!((v[4] - 0.5).abs() < 1e-7);
    }
}
