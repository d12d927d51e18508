//! x86-64 AVX2 kernels of the K-quants (Q4_K, Q6_K) against Q8_K activations: each
//! 32-code slice of a weight block is unpacked once and reused for `T` tokens; the
//! per-16/32 scales multiply in the i16 -> i32 step, minimums and offsets go through the
//! activation block sums.

use std::arch::x86_64::*;

use super::avx2::{h2f, hsum};
use super::kquant::{scale_min_k4, Q8KBlock, Q4K_BYTES, Q6K_BYTES};

/// One Q4_K weight row times `T` (1..=4) Q8_K activation rows.
///
/// # Safety
/// `row` points to `nb` Q4_K blocks; `x` to `T` rows of at least `nb` blocks spaced
/// `xstride` blocks apart; the CPU supports AVX2, FMA and F16C.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn tile_q4k<const T: usize>(
    row: *const u8,
    nb: usize,
    x: *const Q8KBlock,
    xstride: usize,
    out: &mut [f32; 4],
) {
    let m4 = _mm256_set1_epi8(0x0f);
    let mut acc = [_mm256_setzero_ps(); T];
    let mut bias = [0f32; T];
    for b in 0..nb {
        // SAFETY: block b < nb lies inside the row (caller contract).
        let p = unsafe { row.add(b * Q4K_BYTES) };
        // SAFETY: as above, the block is 144 readable bytes.
        let blk = unsafe { std::slice::from_raw_parts(p, Q4K_BYTES) };
        // SAFETY: 2-byte scales at the block start.
        let (d, dmin) = unsafe { (h2f(p), h2f(p.add(2))) };
        let mut sm = [(0u8, 0u8); 8];
        for (j, s) in sm.iter_mut().enumerate() {
            *s = scale_min_k4(j, &blk[4..16]);
        }
        let mut isum = [_mm256_setzero_si256(); T];
        for j in 0..4 {
            // SAFETY: bytes 16 + 32j .. 48 + 32j lie inside the block.
            let q = unsafe { _mm256_loadu_si256(p.add(16 + 32 * j) as *const __m256i) };
            let lo = _mm256_and_si256(q, m4);
            let hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            let s_lo = _mm256_set1_epi16(i16::from(sm[2 * j].0));
            let s_hi = _mm256_set1_epi16(i16::from(sm[2 * j + 1].0));
            for (t, is) in isum.iter_mut().enumerate() {
                // SAFETY: token t < T, block b < nb <= xstride (caller contract); the
                // loads read codes 64j..64j+64 of the 256.
                let (x0, x1) = unsafe {
                    let xq = (*x.add(t * xstride + b)).qs.as_ptr().add(64 * j);
                    (
                        _mm256_loadu_si256(xq as *const __m256i),
                        _mm256_loadu_si256(xq.add(32) as *const __m256i),
                    )
                };
                let p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, x0), s_lo);
                let p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, x1), s_hi);
                *is = _mm256_add_epi32(*is, _mm256_add_epi32(p0, p1));
            }
        }
        for t in 0..T {
            // SAFETY: as above.
            let xb = unsafe { &*x.add(t * xstride + b) };
            acc[t] = _mm256_fmadd_ps(
                _mm256_set1_ps(d * xb.d),
                _mm256_cvtepi32_ps(isum[t]),
                acc[t],
            );
            let mut summ = 0i32;
            for (j, &(_, m)) in sm.iter().enumerate() {
                summ +=
                    i32::from(m) * (i32::from(xb.bsums[2 * j]) + i32::from(xb.bsums[2 * j + 1]));
            }
            bias[t] -= dmin * xb.d * summ as f32;
        }
    }
    for t in 0..T {
        // SAFETY: AVX2 is available (caller contract).
        out[t] = unsafe { hsum(acc[t]) } + bias[t];
    }
}

/// One Q6_K weight row times `T` (1..=4) Q8_K activation rows.
///
/// # Safety
/// As [`tile_q4k`], with Q6_K blocks.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn tile_q6k<const T: usize>(
    row: *const u8,
    nb: usize,
    x: *const Q8KBlock,
    xstride: usize,
    out: &mut [f32; 4],
) {
    let m4 = _mm256_set1_epi8(0x0f);
    let m3 = _mm256_set1_epi8(0x03);
    let m30 = _mm256_set1_epi8(0x30);
    let mut acc = [_mm256_setzero_ps(); T];
    let mut bias = [0f32; T];
    for b in 0..nb {
        // SAFETY: block b < nb lies inside the row (caller contract).
        let p = unsafe { row.add(b * Q6K_BYTES) };
        // SAFETY: as above, the block is 210 readable bytes.
        let blk = unsafe { std::slice::from_raw_parts(p, Q6K_BYTES) };
        // SAFETY: the f16 scale is the block's last two bytes.
        let d = unsafe { h2f(p.add(208)) };
        let mut sc = [0i16; 16];
        for (s, &v) in sc.iter_mut().zip(&blk[192..208]) {
            *s = i16::from(v as i8);
        }
        let mut isum = [_mm256_setzero_si256(); T];
        for n in 0..2 {
            // SAFETY: low nibbles at 64n..64n+64, high bits at 128+32n..160+32n.
            let (ql0, ql1, qh) = unsafe {
                (
                    _mm256_loadu_si256(p.add(64 * n) as *const __m256i),
                    _mm256_loadu_si256(p.add(64 * n + 32) as *const __m256i),
                    _mm256_loadu_si256(p.add(128 + 32 * n) as *const __m256i),
                )
            };
            let codes = [
                _mm256_or_si256(
                    _mm256_and_si256(ql0, m4),
                    _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(ql1, m4),
                    _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                    _mm256_and_si256(qh, m30),
                ),
                _mm256_or_si256(
                    _mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                    _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30),
                ),
            ];
            for (k, &c) in codes.iter().enumerate() {
                let g = 8 * n + 2 * k;
                let s = _mm256_set_m128i(_mm_set1_epi16(sc[g + 1]), _mm_set1_epi16(sc[g]));
                for (t, is) in isum.iter_mut().enumerate() {
                    // SAFETY: token t < T, block b < nb <= xstride; codes 128n+32k..+32.
                    let xq = unsafe {
                        let xp = (*x.add(t * xstride + b)).qs.as_ptr().add(128 * n + 32 * k);
                        _mm256_loadu_si256(xp as *const __m256i)
                    };
                    let prod = _mm256_madd_epi16(_mm256_maddubs_epi16(c, xq), s);
                    *is = _mm256_add_epi32(*is, prod);
                }
            }
        }
        for t in 0..T {
            // SAFETY: as above.
            let xb = unsafe { &*x.add(t * xstride + b) };
            acc[t] = _mm256_fmadd_ps(
                _mm256_set1_ps(d * xb.d),
                _mm256_cvtepi32_ps(isum[t]),
                acc[t],
            );
            let off: i32 = sc
                .iter()
                .zip(&xb.bsums)
                .map(|(&s, &bs)| i32::from(s) * i32::from(bs))
                .sum();
            bias[t] -= 32.0 * d * xb.d * off as f32;
        }
    }
    for t in 0..T {
        // SAFETY: AVX2 is available (caller contract).
        out[t] = unsafe { hsum(acc[t]) } + bias[t];
    }
}
