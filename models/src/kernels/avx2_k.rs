//! x86-64 AVX2 kernels of the K-quants (Q4_K, Q6_K) against Q8_K activations: each
//! 32-code slice of a weight block is unpacked once and reused for `T` tokens; the
//! per-16/32 scales multiply in the i16 -> i32 step, minimums and offsets go through the
//! activation block sums.

use std::arch::x86_64::*;

use super::avx2::{h2f, hsum};
use super::kquant::{Q8KBlock, Q4K_BYTES, Q6K_BYTES};

/// One Q4_K weight row times `T` (1 to WIDE) Q8_K activation rows.
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
    out: &mut [f32; super::WIDE],
) {
    let m4 = _mm256_set1_epi8(0x0f);
    let mut acc = [_mm256_setzero_ps(); T];
    // The minimums' term per token: -dmin * d_x * sum_j m_j * (codes of sub-block j).
    let mut acc_m = [_mm_setzero_ps(); T];
    for b in 0..nb {
        // SAFETY: block b < nb lies inside the row (caller contract).
        let p = unsafe { row.add(b * Q4K_BYTES) };
        // SAFETY: 2-byte scales at the block start.
        let (d, dmin) = unsafe { (h2f(p), h2f(p.add(2))) };
        // SAFETY: the 12 scale bytes at 4..16.
        let (sc, mins) = unsafe { scales_mins_q4k(p.add(4)) };
        let mut isum = [_mm256_setzero_si256(); T];
        for j in 0..4 {
            // SAFETY: bytes 16 + 32j .. 48 + 32j lie inside the block.
            let q = unsafe { _mm256_loadu_si256(p.add(16 + 32 * j) as *const __m256i) };
            let lo = _mm256_and_si256(q, m4);
            let hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
            let s_lo = _mm256_set1_epi16(i16::from(sc[2 * j]));
            let s_hi = _mm256_set1_epi16(i16::from(sc[2 * j + 1]));
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
            // SAFETY: `bsums` is 16 readable i16.
            let bs = unsafe { _mm256_loadu_si256(xb.bsums.as_ptr() as *const __m256i) };
            // Code sums per 32 (pairs of the per-16 sums) times the 8 minimums.
            let pair = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
            let prod = _mm_madd_epi16(mins, pair);
            acc_m[t] = _mm_fmadd_ps(_mm_set1_ps(-(dmin * xb.d)), _mm_cvtepi32_ps(prod), acc_m[t]);
        }
    }
    for t in 0..T {
        let m = _mm_add_ps(acc_m[t], _mm_movehl_ps(acc_m[t], acc_m[t]));
        let m = _mm_add_ss(m, _mm_movehdup_ps(m));
        // SAFETY: AVX2 is available (caller contract).
        out[t] = unsafe { hsum(acc[t]) } + _mm_cvtss_f32(m);
    }
}

/// The 8 six-bit scales (bytes) and 8 six-bit minimums (as i16 lanes) of a Q4_K block
/// from its 12 packed bytes at `p` (llama.cpp's layout; see `kquant::scale_min_k4`).
///
/// # Safety
/// 12 readable bytes at `p`; the CPU supports AVX2.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn scales_mins_q4k(p: *const u8) -> ([u8; 8], __m128i) {
    const LOW6: u32 = 0x3f3f_3f3f;
    const LOW4: u32 = 0x0f0f_0f0f;
    const LOW2: u32 = 0x0303_0303;
    let mut u = [0u32; 3];
    // SAFETY: 12 readable bytes (caller contract).
    unsafe { std::ptr::copy_nonoverlapping(p, u.as_mut_ptr() as *mut u8, 12) };
    let scales_lo = u[0] & LOW6;
    let scales_hi = (u[2] & LOW4) | (((u[0] >> 6) & LOW2) << 4);
    let mins_lo = u[1] & LOW6;
    let mins_hi = ((u[2] >> 4) & LOW4) | (((u[1] >> 6) & LOW2) << 4);
    let mut sc = [0u8; 8];
    sc[..4].copy_from_slice(&scales_lo.to_le_bytes());
    sc[4..].copy_from_slice(&scales_hi.to_le_bytes());
    let mins = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, mins_hi as i32, mins_lo as i32));
    (sc, mins)
}

/// One Q6_K weight row times `T` (1 to WIDE) Q8_K activation rows.
///
/// # Safety
/// As [`tile_q4k`], with Q6_K blocks.
#[target_feature(enable = "avx2,fma,f16c")]
pub unsafe fn tile_q6k<const T: usize>(
    row: *const u8,
    nb: usize,
    x: *const Q8KBlock,
    xstride: usize,
    out: &mut [f32; super::WIDE],
) {
    let m4 = _mm256_set1_epi8(0x0f);
    let m3 = _mm256_set1_epi8(0x03);
    let m30 = _mm256_set1_epi8(0x30);
    let mut acc = [_mm256_setzero_ps(); T];
    for b in 0..nb {
        // SAFETY: block b < nb lies inside the row (caller contract).
        let p = unsafe { row.add(b * Q6K_BYTES) };
        // SAFETY: the f16 scale is the block's last two bytes.
        let d = unsafe { h2f(p.add(208)) };
        // SAFETY: the 16 i8 sub-scales at 192..208.
        let sc16 = _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(p.add(192) as *const __m128i) });
        let mut sc = [0i16; 16];
        // SAFETY: `sc` is 32 writable bytes.
        unsafe { _mm256_storeu_si256(sc.as_mut_ptr() as *mut __m256i, sc16) };
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
            // The codes' offset of 32, exact in the integer sum: 32 * sum_g sc_g * bsum_g.
            // SAFETY: `bsums` is 16 readable i16.
            let bs = unsafe { _mm256_loadu_si256(xb.bsums.as_ptr() as *const __m256i) };
            let off = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5);
            acc[t] = _mm256_fmadd_ps(
                _mm256_set1_ps(d * xb.d),
                _mm256_cvtepi32_ps(_mm256_sub_epi32(isum[t], off)),
                acc[t],
            );
        }
    }
    for t in 0..T {
        // SAFETY: AVX2 is available (caller contract).
        out[t] = unsafe { hsum(acc[t]) };
    }
}
