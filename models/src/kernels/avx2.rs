//! x86-64 AVX2 + FMA + F16C kernels: one weight row times `T` activation rows, each
//! weight block unpacked once into 32 bytes and reused for all `T` tokens; and the same
//! kernels with AVX-512 VNNI's one-instruction byte dot product (`vpdpbusd` on 256-bit
//! vectors) in place of AVX2's two, giving the same integer sums.
//!
//! Q4_1 codes are unsigned, so `maddubs` (u8 x i8) multiplies them directly and its
//! minimum is applied through the activation block sum (llama.cpp's Q8_1 `s`); Q4_0 and
//! Q5_0 codes are made signed (q - 8, q - 16) and, like Q8_0, use the sign trick
//! (|w| x sign(x, w)), so their offsets stay exact in the integer product.

use std::arch::x86_64::*;

use super::quant::Q8Block;
use super::QType;

/// Whether this CPU runs these kernels.
pub fn available() -> bool {
    is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("f16c")
}

/// Whether this CPU also runs the VNNI variants (AVX-512 VNNI on 256-bit vectors).
pub fn vnni_available() -> bool {
    available() && is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl")
}

/// Unsigned bytes `a` times signed bytes `b`, each 4 adjacent products summed into 8 i32
/// lanes (AVX2: pairs into saturating i16, then pairs of those; no code here is large
/// enough to saturate: at most 2 * 128 * 127).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn dot_avx2(a: __m256i, b: __m256i) -> __m256i {
    _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1))
}

/// [`dot_avx2`] in one instruction (AVX-512 VNNI): the same sums.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512vnni,avx512vl")]
unsafe fn dot_vnni(a: __m256i, b: __m256i) -> __m256i {
    _mm256_dpbusd_epi32(_mm256_setzero_si256(), a, b)
}

/// f16 at `p` (unaligned) to f32.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn h2f(p: *const u8) -> f32 {
    // SAFETY: the caller guarantees two readable bytes at `p`.
    let h = unsafe { std::ptr::read_unaligned(p as *const u16) };
    _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(h))))
}

/// 16 packed nibble bytes at `p` to 32 codes: low nibbles first, then high nibbles.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn nibbles(p: *const u8) -> __m256i {
    // SAFETY: the caller guarantees 16 readable bytes at `p`.
    let q = unsafe { _mm_loadu_si128(p as *const __m128i) };
    let m4 = _mm_set1_epi8(0x0f);
    let lo = _mm_and_si128(q, m4);
    let hi = _mm_and_si128(_mm_srli_epi16(q, 4), m4);
    _mm256_set_m128i(hi, lo)
}

/// Bit i of the u32 at `p` to 0x10 in byte i.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn high_bits(p: *const u8) -> __m256i {
    // SAFETY: the caller guarantees 4 readable bytes at `p`.
    let x = unsafe { std::ptr::read_unaligned(p as *const u32) };
    let shuf = _mm256_set_epi64x(
        0x0303_0303_0303_0303,
        0x0202_0202_0202_0202,
        0x0101_0101_0101_0101,
        0,
    );
    let bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(x as i32), shuf);
    let mask = _mm256_set1_epi64x(0x7fbf_dfef_f7fb_fdfe);
    let set = _mm256_cmpeq_epi8(_mm256_or_si256(bytes, mask), _mm256_set1_epi64x(-1));
    _mm256_and_si256(set, _mm256_set1_epi8(0x10))
}

/// Sum of the 8 lanes.
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
pub(super) unsafe fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}

/// Defines `$name::<T>`: row of `nb` blocks times `T` activation rows spaced `xstride`
/// blocks apart, results in `out[..T]`. `$unpack(p) -> (codes, d, c)` decodes one block
/// (value = d * code + c); `$signed` selects the signed-code product.
macro_rules! tile {
    ($name:ident, $feat:literal, $dot:ident, $bb:expr, $unpack:ident, $signed:expr, $sum:ident) => {
        /// One weight row times `T` (1 to WIDE) activation rows.
        ///
        /// # Safety
        /// `row` points to `nb` blocks; `x` to `T` rows of at least `nb` blocks spaced
        /// `xstride` blocks apart; the CPU supports the function's target features.
        #[target_feature(enable = $feat)]
        pub unsafe fn $name<const T: usize>(
            row: *const u8,
            nb: usize,
            x: *const Q8Block,
            xstride: usize,
            out: &mut [f32; super::super::WIDE],
        ) {
            let mut acc = [_mm256_setzero_ps(); T];
            let mut bias = [0f32; T];
            for b in 0..nb {
                // SAFETY: block b < nb lies inside the row (caller contract).
                let (w, d, c) = unsafe { $unpack(row.add(b * $bb)) };
                let wa = if $signed { _mm256_sign_epi8(w, w) } else { w };
                for t in 0..T {
                    // SAFETY: token t < T, block b < nb <= xstride (caller contract).
                    let xb = unsafe { &*x.add(t * xstride + b) };
                    // SAFETY: `qs` is 32 readable bytes.
                    let xq = unsafe { _mm256_loadu_si256(xb.qs.as_ptr() as *const __m256i) };
                    let xs = if $signed { _mm256_sign_epi8(xq, w) } else { xq };
                    // SAFETY: the target features are enabled (caller contract).
                    let s32 = unsafe { $dot(wa, xs) };
                    acc[t] =
                        _mm256_fmadd_ps(_mm256_set1_ps(d * xb.d), _mm256_cvtepi32_ps(s32), acc[t]);
                    if !$signed {
                        // Signed codes carry no minimum (c is 0): skip the term.
                        bias[t] += c * xb.$sum;
                    }
                }
            }
            for t in 0..T {
                // SAFETY: AVX2 is available (caller contract).
                out[t] = unsafe { hsum(acc[t]) } + bias[t];
            }
        }
    };
}

/// Defines `$name`: four weight rows `rstride` bytes apart times one activation row
/// (decode), results in `out`. Each row's sum runs in the same order as `tile::<1>`'s,
/// so the results are bit for bit the same; the four rows give the core four independent
/// chains and share each activation block load.
macro_rules! rows4 {
    ($name:ident, $feat:literal, $dot:ident, $bb:expr, $unpack:ident, $signed:expr, $sum:ident) => {
        /// Four weight rows times one activation row.
        ///
        /// # Safety
        /// `row + r * rstride` (r < 4) each point to `nb` blocks; `x` to `nb` blocks; the
        /// CPU supports the function's target features.
        #[target_feature(enable = $feat)]
        pub unsafe fn $name(
            row: *const u8,
            rstride: usize,
            nb: usize,
            x: *const Q8Block,
            out: &mut [f32; 4],
        ) {
            let mut acc = [_mm256_setzero_ps(); 4];
            let mut bias = [0f32; 4];
            // The next four rows, fetched ahead in step with this group's progress: the
            // hardware prefetcher alone loses track of four interleaved streams.
            let ahead = row.wrapping_add(4 * rstride);
            let step = 4 * rstride / nb.max(1) + 1;
            for b in 0..nb {
                let pf = ahead.wrapping_add(b * step);
                _mm_prefetch::<_MM_HINT_T0>(pf as *const i8);
                _mm_prefetch::<_MM_HINT_T0>(pf.wrapping_add(64) as *const i8);
                // SAFETY: block b < nb of the activation row (caller contract).
                let xb = unsafe { &*x.add(b) };
                // SAFETY: `qs` is 32 readable bytes.
                let xq = unsafe { _mm256_loadu_si256(xb.qs.as_ptr() as *const __m256i) };
                for r in 0..4 {
                    // SAFETY: block b < nb of row r < 4 (caller contract).
                    let (w, d, c) = unsafe { $unpack(row.add(r * rstride + b * $bb)) };
                    let wa = if $signed { _mm256_sign_epi8(w, w) } else { w };
                    let xs = if $signed { _mm256_sign_epi8(xq, w) } else { xq };
                    // SAFETY: the target features are enabled (caller contract).
                    let s32 = unsafe { $dot(wa, xs) };
                    acc[r] =
                        _mm256_fmadd_ps(_mm256_set1_ps(d * xb.d), _mm256_cvtepi32_ps(s32), acc[r]);
                    if !$signed {
                        bias[r] += c * xb.$sum;
                    }
                }
            }
            for r in 0..4 {
                // SAFETY: AVX2 is available (caller contract).
                out[r] = unsafe { hsum(acc[r]) } + bias[r];
            }
        }
    };
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn unpack_q4_0(p: *const u8) -> (__m256i, f32, f32) {
    // SAFETY: `p` is one 18-byte Q4_0 block: f16 d, 16 nibble bytes.
    unsafe {
        // Signed codes (q - 8): the offset stays inside the exact integer product,
        // as in llama.cpp, instead of cancelling against a float block sum.
        let d = h2f(p);
        (
            _mm256_sub_epi8(nibbles(p.add(2)), _mm256_set1_epi8(8)),
            d,
            0.0,
        )
    }
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn unpack_q4_1(p: *const u8) -> (__m256i, f32, f32) {
    // SAFETY: `p` is one 20-byte Q4_1 block: f16 d, f16 m, 16 nibble bytes.
    unsafe { (nibbles(p.add(4)), h2f(p), h2f(p.add(2))) }
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn unpack_q5_0(p: *const u8) -> (__m256i, f32, f32) {
    // SAFETY: `p` is one 22-byte Q5_0 block: f16 d, u32 high bits, 16 nibble bytes.
    unsafe {
        let d = h2f(p);
        let q = _mm256_or_si256(nibbles(p.add(6)), high_bits(p.add(2)));
        // Signed codes (q - 16), exact in the integer product like llama.cpp's.
        (_mm256_sub_epi8(q, _mm256_set1_epi8(16)), d, 0.0)
    }
}

#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn unpack_q8_0(p: *const u8) -> (__m256i, f32, f32) {
    // SAFETY: `p` is one 34-byte Q8_0 block: f16 d, 32 signed codes.
    unsafe { (_mm256_loadu_si256(p.add(2) as *const __m256i), h2f(p), 0.0) }
}

/// Instantiates every 32-block kernel for one instruction set into module `$m`.
macro_rules! kernels {
    ($m:ident, $feat:literal, $dot:ident) => {
        mod $m {
            use super::*;
            tile!(tile_q4_0, $feat, $dot, 18, unpack_q4_0, true, sx);
            tile!(tile_q4_1, $feat, $dot, 20, unpack_q4_1, false, s);
            tile!(tile_q5_0, $feat, $dot, 22, unpack_q5_0, true, sx);
            tile!(tile_q8_0, $feat, $dot, 34, unpack_q8_0, true, sx);
            rows4!(rows4_q4_0, $feat, $dot, 18, unpack_q4_0, true, sx);
            rows4!(rows4_q4_1, $feat, $dot, 20, unpack_q4_1, false, s);
            rows4!(rows4_q5_0, $feat, $dot, 22, unpack_q5_0, true, sx);
            rows4!(rows4_q8_0, $feat, $dot, 34, unpack_q8_0, true, sx);

            /// The 1- to WIDE-token and 4-row kernels for `ty` (K-quants: AVX2's).
            pub fn tiles(ty: QType) -> super::super::Tiles {
                use super::super::avx2_k::{tile_q4k, tile_q6k};
                use super::super::widths;
                use super::super::Tiles::{B32, K};
                match ty {
                    QType::Q4_0 => B32(widths!(tile_q4_0), Some(rows4_q4_0)),
                    QType::Q4_1 => B32(widths!(tile_q4_1), Some(rows4_q4_1)),
                    QType::Q5_0 => B32(widths!(tile_q5_0), Some(rows4_q5_0)),
                    QType::Q8_0 => B32(widths!(tile_q8_0), Some(rows4_q8_0)),
                    QType::Q4K => K(widths!(tile_q4k), None),
                    QType::Q6K => K(widths!(tile_q6k), None),
                }
            }
        }
    };
}

kernels!(plain, "avx2,fma,f16c", dot_avx2);
kernels!(vnni, "avx2,fma,f16c,avx512vnni,avx512vl", dot_vnni);

/// The kernels for `ty`: with AVX-512 VNNI's byte dot product when `vnni`, except for
/// Q4_1, whose VNNI prefill measured slower (16-core Xeon host of an H200, 1 thread,
/// 128-token products: Q4_1 14.3k -> 13.1k tok/s, while Q4_0 9.8k -> 11.2k, Q5_0 9.1k
/// -> 10.3k, Q8_0 0.50k -> 0.57k; matrix-vector 3-10% faster throughout).
pub fn tiles(ty: QType, vnni: bool) -> super::Tiles {
    if vnni && ty != QType::Q4_1 {
        vnni::tiles(ty)
    } else {
        plain::tiles(ty)
    }
}
