//! x86-64 kernels of the 32-value repacked layouts ([`super::packed`]: Q4_0, Q4_1, Q5_0,
//! Q8_0; the K-quants' are in `avx2_packed_k`):
//! eight rows per 256-bit vector, four activation codes broadcast per byte product. With
//! AVX-512 VNNI each product is one `vpdpbusd`; with plain AVX2, `maddubs` into i16 lanes
//! and `madd` to i32 (eight 4-bit chunks of at most 2 * 15 * 127 stay below 2^15, 5-bit
//! codes go to i32 every four chunks: 4 * 2 * 31 * 127 < 2^15, Q8_0's signed codes every
//! chunk: 2 * 128 * 127 < 2^15). Q8_0's codes are signed: as in llama.cpp, the byte
//! product takes their magnitudes and moves their signs onto the activation codes. All
//! give the exact integer block sums; the float steps are the scalar reference's.

use std::arch::x86_64::*;

use super::packed::{GroupFn, GroupTiles, GROUP};
use super::quant::{Q8Block, QType};
use super::WIDE;

/// Which type a kernel instance reads (a const parameter: one instance per type).
const Q4_0: u8 = 0;
const Q4_1: u8 = 1;
const Q5_0: u8 = 2;
const Q8_0: u8 = 3;

/// GGML block bytes of kernel type `kind`.
const fn block_bytes(kind: u8) -> usize {
    match kind {
        Q4_0 => 18,
        Q4_1 => 20,
        Q5_0 => 22,
        _ => 34,
    }
}

/// Activation codes 4j..4j+4 of `xb` (j < 8) in every 32-bit lane.
#[inline]
#[target_feature(enable = "avx2")]
fn word(xb: &Q8Block, j: usize) -> __m256i {
    let c = &xb.qs[4 * j..4 * j + 4];
    _mm256_set1_epi32(i32::from_le_bytes([
        c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8,
    ]))
}

/// The exact integer sums of one block for eight rows (`lo[k]`, `hi[k]`: codes 4k..4k+4
/// and 16+4k..20+4k of each row) against one activation block: AVX2's byte products.
/// `kind` Q5_0: codes up to 31, summed to i32 every four chunks; Q8_0: signed codes.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn isum_avx2(lo: &[__m256i; 4], hi: &[__m256i; 4], xb: &Q8Block, kind: u8) -> __m256i {
    let ones = _mm256_set1_epi16(1);
    if kind == Q8_0 {
        let mut a = _mm256_setzero_si256();
        for (k, w) in lo.iter().chain(hi).enumerate() {
            let (wa, xs) = (_mm256_sign_epi8(*w, *w), _mm256_sign_epi8(word(xb, k), *w));
            a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(wa, xs), ones));
        }
        return a;
    }
    let (mut a, mut b) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    for k in 0..4 {
        a = _mm256_add_epi16(a, _mm256_maddubs_epi16(lo[k], word(xb, k)));
        b = _mm256_add_epi16(b, _mm256_maddubs_epi16(hi[k], word(xb, 4 + k)));
    }
    if kind == Q5_0 {
        _mm256_add_epi32(_mm256_madd_epi16(a, ones), _mm256_madd_epi16(b, ones))
    } else {
        _mm256_madd_epi16(_mm256_add_epi16(a, b), ones)
    }
}

/// [`isum_avx2`] with AVX-512 VNNI's byte dot product (two chains of four).
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512vnni,avx512vl")]
fn isum_vnni(lo: &[__m256i; 4], hi: &[__m256i; 4], xb: &Q8Block, kind: u8) -> __m256i {
    let (mut a0, mut a1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    for k in 0..4 {
        let (mut w0, mut x0) = (lo[k], word(xb, k));
        let (mut w1, mut x1) = (hi[k], word(xb, 4 + k));
        if kind == Q8_0 {
            (w0, x0) = (_mm256_sign_epi8(w0, w0), _mm256_sign_epi8(x0, w0));
            (w1, x1) = (_mm256_sign_epi8(w1, w1), _mm256_sign_epi8(x1, w1));
        }
        a0 = _mm256_dpbusd_epi32(a0, w0, x0);
        a1 = _mm256_dpbusd_epi32(a1, w1, x1);
    }
    _mm256_add_epi32(a0, a1)
}

/// Defines `$name::<T, KIND>`: one group of eight rows of type `KIND` times `T` rows.
macro_rules! group_tile {
    ($name:ident, $feat:literal, $isum:ident) => {
        /// Eight interleaved rows times `T` (1 to WIDE) activation rows.
        ///
        /// # Safety
        /// `group` points to `nb` group-blocks of `KIND`; `x` to `T` rows of at least `nb`
        /// blocks spaced `xstride` blocks apart; the CPU supports the target features.
        #[target_feature(enable = $feat)]
        pub unsafe fn $name<const T: usize, const KIND: u8>(
            group: *const u8,
            nb: usize,
            x: *const Q8Block,
            xstride: usize,
            out: &mut [[f32; GROUP]; WIDE],
        ) {
            let bytes = GROUP * block_bytes(KIND);
            let nib = bytes - if KIND == Q8_0 { 256 } else { 128 };
            let m4 = _mm256_set1_epi8(0x0f);
            let mut acc = [_mm256_setzero_ps(); T];
            for b in 0..nb {
                // SAFETY: group-block b < nb lies inside the group (caller contract).
                let p = unsafe { group.add(b * bytes) };
                // SAFETY: 16 bytes of f16 scales at the start.
                let dv = _mm256_cvtph_ps(unsafe { _mm_loadu_si128(p as *const __m128i) });
                // The coefficient of the activation sum, as the scalar reference's
                // `unpack` computes it: the minimum, or -8d / -16d.
                let cv = match KIND {
                    Q4_1 => {
                        // SAFETY: 16 bytes of f16 minimums after the scales.
                        let m = unsafe { _mm_loadu_si128(p.add(16) as *const __m128i) };
                        _mm256_cvtph_ps(m)
                    }
                    Q4_0 => _mm256_mul_ps(_mm256_set1_ps(-8.0), dv),
                    Q5_0 => _mm256_mul_ps(_mm256_set1_ps(-16.0), dv),
                    _ => _mm256_setzero_ps(),
                };
                let mut lo = [_mm256_setzero_si256(); 4];
                let mut hi = [_mm256_setzero_si256(); 4];
                for k in 0..4 {
                    if KIND == Q8_0 {
                        // Signed codes as they are: chunks k and 4 + k.
                        let at = |c: usize| p.wrapping_add(nib + 32 * c) as *const __m256i;
                        // SAFETY: chunks k, 4 + k < 8 are 32 bytes each inside the
                        // group-block (Q8_0's is 16 + 8 * 32 bytes).
                        lo[k] = unsafe { _mm256_loadu_si256(at(k)) };
                        // SAFETY: as above.
                        hi[k] = unsafe { _mm256_loadu_si256(at(4 + k)) };
                        continue;
                    }
                    // SAFETY: chunk k is 32 bytes at nib + 32k of the group-block.
                    let q = unsafe { _mm256_loadu_si256(p.add(nib + 32 * k) as *const __m256i) };
                    lo[k] = _mm256_and_si256(q, m4);
                    hi[k] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                }
                if KIND == Q5_0 {
                    // SAFETY: the eight high-bit words after the scales.
                    let qh = unsafe { _mm256_loadu_si256(p.add(16) as *const __m256i) };
                    let bit4 = _mm256_set1_epi8(0x10);
                    for k in 0..4 {
                        // Bit 8i + k is code 4k + i's high bit, bit 8i + 4 + k code 16 + 4k + i's.
                        let up = _mm256_sll_epi32(qh, _mm_cvtsi32_si128(4 - k as i32));
                        let down = _mm256_srl_epi32(qh, _mm_cvtsi32_si128(k as i32));
                        lo[k] = _mm256_or_si256(lo[k], _mm256_and_si256(up, bit4));
                        hi[k] = _mm256_or_si256(hi[k], _mm256_and_si256(down, bit4));
                    }
                }
                for (t, a) in acc.iter_mut().enumerate() {
                    // SAFETY: token t < T, block b < nb <= xstride (caller contract).
                    let xb = unsafe { &*x.add(t * xstride + b) };
                    let isum = $isum(&lo, &hi, xb, KIND);
                    let s = if KIND == Q4_1 { xb.s } else { xb.sx };
                    // acc + (d * d_x * sum + c * s), rounded step by step as the scalar
                    // reference rounds them (no fused multiply-add).
                    let scaled = _mm256_mul_ps(
                        _mm256_mul_ps(dv, _mm256_set1_ps(xb.d)),
                        _mm256_cvtepi32_ps(isum),
                    );
                    // Q8_0's c is 0: adding 0 * s (+-0) changes no sum the accumulator,
                    // which starts at +0 and so is never -0, can hold. Skipped.
                    let term = if KIND == Q8_0 {
                        scaled
                    } else {
                        _mm256_add_ps(scaled, _mm256_mul_ps(cv, _mm256_set1_ps(s)))
                    };
                    *a = _mm256_add_ps(*a, term);
                }
            }
            for (t, a) in acc.iter().enumerate() {
                // SAFETY: 8 writable floats.
                unsafe { _mm256_storeu_ps(out[t].as_mut_ptr(), *a) };
            }
        }
    };
}

/// Every width of `tile` for `ty` (the K-quants' from `k`).
macro_rules! by_type {
    ($tile:path, $k:path, $ty:expr) => {{
        use $tile as tile;
        let b32 = |w: [GroupFn<Q8Block>; WIDE]| Some(GroupTiles::B32(w));
        match $ty {
            QType::Q4_0 => b32(super::widths!(tile, Q4_0)),
            QType::Q4_1 => b32(super::widths!(tile, Q4_1)),
            QType::Q5_0 => b32(super::widths!(tile, Q5_0)),
            QType::Q8_0 => b32(super::widths!(tile, Q8_0)),
            QType::Q4K | QType::Q6K => $k($ty),
        }
    }};
}

mod plain {
    use super::*;
    group_tile!(tile, "avx2,fma,f16c", isum_avx2);
}

mod vnni {
    use super::*;
    group_tile!(tile, "avx2,fma,f16c,avx512vnni,avx512vl", isum_vnni);
}

/// Every width of the AVX2 group kernel for `ty`.
pub fn plain(ty: QType) -> Option<GroupTiles> {
    by_type!(plain::tile, super::avx2_packed_k::plain, ty)
}

/// Every width of the AVX-512 VNNI group kernel for `ty`.
pub fn vnni(ty: QType) -> Option<GroupTiles> {
    by_type!(vnni::tile, super::avx2_packed_k::vnni, ty)
}
