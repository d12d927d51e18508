//! Element-wise and row kernels of the lean CPU forward: RMS norm, rotary embedding,
//! softmax, SiLU and llama.cpp's f16-table GELU, over plain f32 slices.

use crate::model::config::RopeStyle;

/// `out = x / sqrt(mean(x^2) + eps) * w` for one row, summing squares in f64 as ggml does.
pub fn rms_norm_row(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let sum: f64 = x.iter().map(|&v| f64::from(v * v)).sum();
    let mean = (sum / x.len() as f64) as f32;
    let scale = 1.0 / (mean + eps).sqrt();
    for ((o, &v), &g) in out.iter_mut().zip(x).zip(w) {
        *o = v * scale * g;
    }
}

/// RMS norm of every `w.len()`-wide row of `x`, in place.
pub fn rms_norm_rows_inplace(x: &mut [f32], w: &[f32], eps: f32) {
    for row in x.chunks_exact_mut(w.len()) {
        let sum: f64 = row.iter().map(|&v| f64::from(v * v)).sum();
        let mean = (sum / row.len() as f64) as f32;
        let scale = 1.0 / (mean + eps).sqrt();
        for (v, &g) in row.iter_mut().zip(w) {
            *v = *v * scale * g;
        }
    }
}

/// Rotate one head `x` (head_dim wide) by the angles whose cosines and sines are `cos`,
/// `sin` (head_dim / 2 each): pairs (2i, 2i+1) when interleaved, (i, i + half) for neox.
pub fn rope_head(x: &mut [f32], cos: &[f32], sin: &[f32], style: RopeStyle) {
    let half = cos.len();
    match style {
        RopeStyle::Interleaved => {
            for (i, pair) in x.chunks_exact_mut(2).enumerate().take(half) {
                let (a, b) = (pair[0], pair[1]);
                pair[0] = a * cos[i] - b * sin[i];
                pair[1] = a * sin[i] + b * cos[i];
            }
        }
        RopeStyle::Neox => {
            let (lo, hi) = x.split_at_mut(half);
            for i in 0..half {
                let (a, b) = (lo[i], hi[i]);
                lo[i] = a * cos[i] - b * sin[i];
                hi[i] = a * sin[i] + b * cos[i];
            }
        }
    }
}

/// Softmax of `x` in place (max subtracted first).
pub fn softmax_inplace(x: &mut [f32]) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0f32;
    for v in x.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// Dot product of two equally long slices (eight partial sums so it vectorises).
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ac, ar) = a.split_at(a.len() - a.len() % 8);
    let (bc, br) = b.split_at(ac.len());
    for (x, y) in ac.chunks_exact(8).zip(bc.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ar.iter().zip(br) {
        s += x * y;
    }
    s
}

/// `y += a * x`.
#[inline]
pub fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o += a * v;
    }
}

/// `g = silu(g) * u`, element-wise.
pub fn silu_mul(g: &mut [f32], u: &[f32]) {
    for (a, &b) in g.iter_mut().zip(u) {
        *a = *a / (1.0 + (-*a).exp()) * b;
    }
}

/// `g = gelu(g) * u` through llama.cpp's table (see [`GeluTable`]); 8 values at a time
/// with F16C's conversion and a gather where the CPU has them (the same results: both
/// round to nearest even).
pub fn gelu_mul(table: &GeluTable, g: &mut [f32], u: &[f32]) {
    let n = g.len().min(u.len());
    // Only x86-64 has a vector path (aarch64 converts per value).
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if table.values.len() == 1 << 16 && *F16C {
        done = n / 8 * 8;
        // SAFETY: the CPU has AVX2 and F16C (checked above); the table has an entry for
        // every f16 bit pattern; `done` <= the length of both slices.
        unsafe { gelu_mul_avx2(&table.values, &mut g[..done], &u[..done]) };
    }
    for (a, &b) in g[done..n].iter_mut().zip(&u[done..n]) {
        *a = table.apply(*a) * b;
    }
}

/// Whether this CPU converts f32 to f16 in hardware (with AVX2 for the gather).
#[cfg(target_arch = "x86_64")]
static F16C: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("f16c")
});

/// [`gelu_mul`] over whole groups of 8.
///
/// # Safety
/// The CPU has AVX2 and F16C; `values` has 65536 entries; `g` and `u` have the same
/// length, a multiple of 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,f16c")]
unsafe fn gelu_mul_avx2(values: &[f32], g: &mut [f32], u: &[f32]) {
    use std::arch::x86_64::*;
    let (lo, hi) = (_mm256_set1_ps(-10.0), _mm256_set1_ps(10.0));
    for (gc, uc) in g.chunks_exact_mut(8).zip(u.chunks_exact(8)) {
        // SAFETY: 8 readable and writable floats in each chunk; every index is an f16
        // bit pattern, inside the 65536-entry table (caller contract).
        unsafe {
            let x = _mm256_loadu_ps(gc.as_ptr());
            let h = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(x);
            let t = _mm256_i32gather_ps::<4>(values.as_ptr(), _mm256_cvtepu16_epi32(h));
            // x >= 10 gives x, x <= -10 gives 0, anything else the table.
            let r = _mm256_blendv_ps(t, x, _mm256_cmp_ps::<_CMP_GE_OQ>(x, hi));
            let r = _mm256_andnot_ps(_mm256_cmp_ps::<_CMP_LE_OQ>(x, lo), r);
            _mm256_storeu_ps(
                gc.as_mut_ptr(),
                _mm256_mul_ps(r, _mm256_loadu_ps(uc.as_ptr())),
            );
        }
    }
}

/// GELU (tanh form) as llama.cpp's CPU backend computes it: inputs at or below -10 give
/// 0, at or above 10 give the input, others index a table by their f16 value that holds
/// f16 results of the f32 formula. Matching this rounding keeps greedy continuations
/// identical to llama.cpp's where two tokens are nearly tied.
#[derive(Debug, Clone)]
pub struct GeluTable {
    values: Vec<f32>,
}

impl Default for GeluTable {
    fn default() -> Self {
        Self::new()
    }
}

impl GeluTable {
    /// Build the 65536-entry table (256 KiB).
    pub fn new() -> Self {
        const SQRT_2_OVER_PI: f32 = 0.797_884_6;
        const COEF_A: f32 = 0.044_715;
        let values = (0..=u16::MAX)
            .map(|h| {
                let x = f16_bits_to_f32(h);
                let y = 0.5 * x * (1.0 + (SQRT_2_OVER_PI * x * (1.0 + COEF_A * x * x)).tanh());
                f16_bits_to_f32(f32_to_f16_bits(y))
            })
            .collect();
        Self { values }
    }

    /// A table with no entries, for models that do not use GELU on the CPU.
    pub fn empty() -> Self {
        Self { values: Vec::new() }
    }

    /// GELU of one value.
    #[inline]
    pub fn apply(&self, x: f32) -> f32 {
        if x <= -10.0 {
            0.0
        } else if x >= 10.0 {
            x
        } else {
            let h = f32_to_f16_bits(x) as usize;
            self.values.get(h).copied().unwrap_or(f32::NAN)
        }
    }
}

/// IEEE half-precision bits of `x`, rounded to nearest even (as F16C and `half` do).
#[inline]
pub fn f32_to_f16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xff) as i32;
    let man = b & 0x7f_ffff;
    if exp == 0xff {
        let nan = if man != 0 {
            0x200 | (man >> 13) as u16
        } else {
            0
        };
        return sign | 0x7c00 | nan;
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        let m = man | 0x80_0000;
        let shift = (14 - e) as u32;
        let h = m >> shift;
        let rem = m & ((1 << shift) - 1);
        let halfway = 1 << (shift - 1);
        let h = if rem > halfway || (rem == halfway && h & 1 == 1) {
            h + 1
        } else {
            h
        };
        return sign | h as u16;
    }
    let h = ((e as u32) << 10) | (man >> 13);
    let rem = man & 0x1fff;
    // A carry out of the mantissa correctly bumps the exponent (up to infinity).
    let h = if rem > 0x1000 || (rem == 0x1000 && h & 1 == 1) {
        h + 1
    } else {
        h
    };
    sign | h as u16
}

/// The f32 value of IEEE half-precision bits.
#[inline]
pub fn f16_bits_to_f32(h: u16) -> f32 {
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    if exp == 0 {
        let v = man as f32 * (1.0 / 16_777_216.0); // man * 2^-24
        return if sign != 0 { -v } else { v };
    }
    let bits = if exp == 0x1f {
        sign | 0x7f80_0000 | (man << 13)
    } else {
        sign | ((exp + 112) << 23) | (man << 13)
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device, Tensor};

    #[test]
    fn f16_rounding_matches_candles_half() -> crate::Result<()> {
        let mut xs: Vec<f32> = vec![0.0, -0.0, 1.0, -2.5, 65504.0, 65520.0, 1e6, 1e-8, 3e-5];
        xs.extend((0..20_000).map(|i| ((i as f32) * 0.37).sin() * 10f32.powi(i % 13 - 8)));
        xs.extend((0..2000).map(|i| f32::from_bits(0x3380_0000 + i * 4099)));
        let t = Tensor::new(xs.as_slice(), &Device::Cpu)?;
        let want = t
            .to_dtype(DType::F16)?
            .to_dtype(DType::F32)?
            .to_vec1::<f32>()?;
        for (x, w) in xs.iter().zip(&want) {
            let got = f16_bits_to_f32(f32_to_f16_bits(*x));
            assert_eq!(got.to_bits(), w.to_bits(), "f16 round trip of {x:e}");
        }
        Ok(())
    }

    #[test]
    fn gelu_table_is_gelu_with_llama_cpp_clamps() {
        let t = GeluTable::new();
        assert_eq!(t.apply(0.0), 0.0);
        assert!((t.apply(1.0) - 0.8412).abs() < 1e-3);
        assert!((t.apply(-1.0) + 0.1588).abs() < 1e-3);
        assert_eq!(t.apply(-12.0), 0.0);
        assert_eq!(t.apply(12.5), 12.5);
    }

    #[test]
    fn gelu_mul_in_groups_of_8_equals_one_by_one() {
        // Values across the clamps, at their edges, tiny, huge and not-a-number; a
        // length that leaves a tail of 5 for the one-by-one path.
        let t = GeluTable::new();
        let mut g: Vec<f32> = (0..4003)
            .map(|i| (i as f32 - 2000.0) * 0.0071 * if i % 7 == 0 { 100.0 } else { 1.0 })
            .collect();
        g[..6].copy_from_slice(&[-10.0, 10.0, -9.999, 9.999, 1e-30, f32::NAN]);
        let u: Vec<f32> = (0..g.len()).map(|i| 1.0 + (i % 13) as f32 * 0.25).collect();
        let want: Vec<f32> = g.iter().zip(&u).map(|(&a, &b)| t.apply(a) * b).collect();
        gelu_mul(&t, &mut g, &u);
        for (i, (a, b)) in g.iter().zip(&want).enumerate() {
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "[{i}] {a} vs {b}"
            );
        }
    }

    #[test]
    fn rope_styles_pair_the_right_elements() {
        // A quarter turn maps (a, b) to (-b, a).
        let (c, s) = ([0.0f32, 1.0], [1.0f32, 0.0]);
        let mut x = [1.0f32, 2.0, 3.0, 4.0];
        rope_head(&mut x, &c, &s, RopeStyle::Interleaved);
        assert_eq!(x, [-2.0, 1.0, 3.0, 4.0]);
        let mut x = [1.0f32, 2.0, 3.0, 4.0];
        rope_head(&mut x, &c, &s, RopeStyle::Neox);
        assert_eq!(x, [-3.0, 2.0, 1.0, 4.0]);
    }

    #[test]
    fn rms_norm_and_softmax_are_normalised() {
        let mut out = [0f32; 4];
        rms_norm_row(
            &[2.0, -2.0, 2.0, -2.0],
            &[1.0, 2.0, 1.0, 1.0],
            0.0,
            &mut out,
        );
        assert_eq!(out, [1.0, -2.0, 1.0, -1.0]);
        let mut p = [1.0f32, 1.0, f32::NEG_INFINITY];
        softmax_inplace(&mut p);
        assert_eq!(p, [0.5, 0.5, 0.0]);
    }
}
