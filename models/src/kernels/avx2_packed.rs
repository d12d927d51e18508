//! x86-64 kernels of the repacked Q4_1 layout ([`super::packed`]): eight rows per
//! 256-bit vector, four activation codes broadcast per byte product. With AVX-512 VNNI
//! each product is one `vpdpbusd`; with plain AVX2, `maddubs` into i16 lanes (eight
//! chunks of at most 2 * 15 * 127 each stay below 2^15) and one `madd` to i32. Both give
//! the exact integer block sums; the float steps are the scalar reference's.

use std::arch::x86_64::*;

use super::packed::{GroupFn, GROUP, GROUP_BLOCK_BYTES};
use super::quant::Q8Block;
use super::WIDE;

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
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn isum_avx2(lo: &[__m256i; 4], hi: &[__m256i; 4], xb: &Q8Block) -> __m256i {
    let mut s16 = _mm256_setzero_si256();
    for k in 0..4 {
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(lo[k], word(xb, k)));
        s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(hi[k], word(xb, 4 + k)));
    }
    _mm256_madd_epi16(s16, _mm256_set1_epi16(1))
}

/// [`isum_avx2`] with AVX-512 VNNI's byte dot product (two chains of four).
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512vnni,avx512vl")]
fn isum_vnni(lo: &[__m256i; 4], hi: &[__m256i; 4], xb: &Q8Block) -> __m256i {
    let (mut a0, mut a1) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    for k in 0..4 {
        a0 = _mm256_dpbusd_epi32(a0, lo[k], word(xb, k));
        a1 = _mm256_dpbusd_epi32(a1, hi[k], word(xb, 4 + k));
    }
    _mm256_add_epi32(a0, a1)
}

/// Defines `$name::<T>`: one group of eight rows times `T` activation rows.
macro_rules! group_tile {
    ($name:ident, $feat:literal, $isum:ident) => {
        /// Eight interleaved rows times `T` (1 to WIDE) activation rows.
        ///
        /// # Safety
        /// `group` points to `nb` group-blocks; `x` to `T` rows of at least `nb` blocks
        /// spaced `xstride` blocks apart; the CPU supports the function's target features.
        #[target_feature(enable = $feat)]
        pub unsafe fn $name<const T: usize>(
            group: *const u8,
            nb: usize,
            x: *const Q8Block,
            xstride: usize,
            out: &mut [[f32; GROUP]; WIDE],
        ) {
            let m4 = _mm256_set1_epi8(0x0f);
            let mut acc = [_mm256_setzero_ps(); T];
            for b in 0..nb {
                // SAFETY: group-block b < nb lies inside the group (caller contract).
                let p = unsafe { group.add(b * GROUP_BLOCK_BYTES) };
                // SAFETY: 16 bytes of f16 scales, then 16 of minimums.
                let (dv, mv) = unsafe {
                    (
                        _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i)),
                        _mm256_cvtph_ps(_mm_loadu_si128(p.add(16) as *const __m128i)),
                    )
                };
                let mut lo = [_mm256_setzero_si256(); 4];
                let mut hi = [_mm256_setzero_si256(); 4];
                for k in 0..4 {
                    // SAFETY: chunk k is bytes 32 + 32k .. 64 + 32k of the group-block.
                    let q = unsafe { _mm256_loadu_si256(p.add(32 + 32 * k) as *const __m256i) };
                    lo[k] = _mm256_and_si256(q, m4);
                    hi[k] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                }
                for (t, a) in acc.iter_mut().enumerate() {
                    // SAFETY: token t < T, block b < nb <= xstride (caller contract).
                    let xb = unsafe { &*x.add(t * xstride + b) };
                    let isum = $isum(&lo, &hi, xb);
                    // acc + (d * d_x * sum + m * s_x), rounded step by step as the
                    // scalar reference rounds them (no fused multiply-add).
                    let scaled = _mm256_mul_ps(
                        _mm256_mul_ps(dv, _mm256_set1_ps(xb.d)),
                        _mm256_cvtepi32_ps(isum),
                    );
                    let term = _mm256_add_ps(scaled, _mm256_mul_ps(mv, _mm256_set1_ps(xb.s)));
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

mod plain {
    use super::*;
    group_tile!(tile, "avx2,fma,f16c", isum_avx2);
}

mod vnni {
    use super::*;
    group_tile!(tile, "avx2,fma,f16c,avx512vnni,avx512vl", isum_vnni);
}

/// Every width of the AVX2 group kernel.
pub fn plain() -> [GroupFn; WIDE] {
    use plain::tile;
    super::widths!(tile)
}

/// Every width of the AVX-512 VNNI group kernel.
pub fn vnni() -> [GroupFn; WIDE] {
    use vnni::tile;
    super::widths!(tile)
}
