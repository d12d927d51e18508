//! x86-64 kernels of the K-quants' repacked layouts ([`super::packed`]'s `k`: Q4_K,
//! Q6_K): eight rows per 256-bit vector, four activation codes broadcast per byte
//! product, as the 32-value types'. A sub-block's eight rows are summed exactly in i32
//! lanes (AVX-512 VNNI: `vpdpbusd`; AVX2: `maddubs` then `madd`, at most 2 * 63 * 127 per
//! i16), then multiplied by the eight rows' sub-block scales (`vpmulld`), so each row's
//! block sum is the exact integer of the scalar reference ([`super::kquant::dot_q4k`],
//! [`super::kquant::dot_q6k`]) and the float steps are its own: a repacked K-quant
//! product equals the scalar one bit for bit.
//!
//! Each block's unpacked codes serve `T` tokens: Q4_K's in four passes of 64 codes
//! (16 vectors), Q6_K's in four of 64 (16 vectors, four sub-blocks of 16 codes).

use std::arch::x86_64::*;

use super::kquant::Q8KBlock;
use super::packed::k::{Q4K_CODES, Q4K_DMIN, Q4K_GROUP_BYTES, Q4K_MINS, Q4K_SCALES};
use super::packed::k::{Q6K_CODES, Q6K_GROUP_BYTES, Q6K_SCALES};
use super::packed::{GroupFn, GroupTiles, GROUP};
use super::quant::QType;
use super::WIDE;

/// Activation codes i..i+4 of `xb` (i <= 252) in every 32-bit lane.
#[inline]
#[target_feature(enable = "avx2")]
fn word(xb: &Q8KBlock, i: usize) -> __m256i {
    let c = &xb.qs[i..i + 4];
    _mm256_set1_epi32(i32::from_le_bytes([
        c[0] as u8, c[1] as u8, c[2] as u8, c[3] as u8,
    ]))
}

/// `acc` plus, per i32 lane, the four products of unsigned bytes `w` and signed `x`
/// (AVX2: pairs into i16, which no code here can saturate, then pairs of those).
#[inline]
#[target_feature(enable = "avx2,fma,f16c")]
fn dp_avx2(acc: __m256i, w: __m256i, x: __m256i) -> __m256i {
    let pairs = _mm256_maddubs_epi16(w, x);
    _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
}

/// [`dp_avx2`] in one instruction (AVX-512 VNNI): the same sums.
#[inline]
#[target_feature(enable = "avx2,fma,f16c,avx512vnni,avx512vl")]
fn dp_vnni(acc: __m256i, w: __m256i, x: __m256i) -> __m256i {
    _mm256_dpbusd_epi32(acc, w, x)
}

/// Eight rows' bytes at `p` (one per row) widened to i32 lanes, unsigned or signed.
///
/// # Safety
/// 8 readable bytes at `p`; the CPU supports AVX2.
#[inline]
#[target_feature(enable = "avx2")]
unsafe fn lanes8(p: *const u8, signed: bool) -> __m256i {
    // SAFETY: 8 readable bytes (caller contract).
    let v = unsafe { _mm_loadl_epi64(p as *const __m128i) };
    if signed {
        _mm256_cvtepi8_epi32(v)
    } else {
        _mm256_cvtepu8_epi32(v)
    }
}

/// Defines `$name::plain`/`vnni` kernels of both K-quants with byte product `$dp`.
macro_rules! k_tiles {
    ($name:ident, $feat:literal, $dp:ident) => {
        mod $name {
            use super::*;

            /// Eight interleaved Q4_K rows times `T` (1 to WIDE) activation rows.
            ///
            /// # Safety
            /// `group` points to `nb` Q4_K group-blocks; `x` to `T` rows of at least `nb`
            /// blocks spaced `xstride` blocks apart; the CPU supports the target features.
            #[target_feature(enable = $feat)]
            pub unsafe fn q4k<const T: usize>(
                group: *const u8,
                nb: usize,
                x: *const Q8KBlock,
                xstride: usize,
                out: &mut [[f32; GROUP]; WIDE],
            ) {
                let m4 = _mm256_set1_epi8(0x0f);
                let mut acc = [_mm256_setzero_ps(); T];
                for b in 0..nb {
                    // SAFETY: group-block b < nb lies inside the group (caller contract).
                    let p = unsafe { group.add(b * Q4K_GROUP_BYTES) };
                    // SAFETY: the eight f16 d and dmin at 0 and Q4K_DMIN; eight bytes of
                    // scales and of minimums per sub-block after them.
                    let (dv, mv, sc, mn) = unsafe {
                        let dv = _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i));
                        let m = _mm_loadu_si128(p.add(Q4K_DMIN) as *const __m128i);
                        let sc: [__m256i; 8] =
                            std::array::from_fn(|j| lanes8(p.add(Q4K_SCALES + 8 * j), false));
                        // Minimums of sub-blocks 2h and 2h + 1 as the i16 pair of each lane.
                        let mn: [__m256i; 4] = std::array::from_fn(|h| {
                            let lo = lanes8(p.add(Q4K_MINS + 16 * h), false);
                            let hi = lanes8(p.add(Q4K_MINS + 16 * h + 8), false);
                            _mm256_or_si256(lo, _mm256_slli_epi32(hi, 16))
                        });
                        (dv, _mm256_cvtph_ps(m), sc, mn)
                    };
                    let mut sumi = [_mm256_setzero_si256(); T];
                    for pr in 0..4 {
                        // Chunk 8pr + k: codes 64pr + 4k.. (low nibbles) and 64pr + 32 + 4k..
                        // (high nibbles) of each row: sub-blocks 2pr and 2pr + 1.
                        let mut lo = [_mm256_setzero_si256(); 8];
                        let mut hi = [_mm256_setzero_si256(); 8];
                        for k in 0..8 {
                            let at = Q4K_CODES + 32 * (8 * pr + k);
                            // SAFETY: chunk 8pr + k < 32 lies inside the group-block.
                            let q = unsafe { _mm256_loadu_si256(p.add(at) as *const __m256i) };
                            lo[k] = _mm256_and_si256(q, m4);
                            hi[k] = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);
                        }
                        for (t, s) in sumi.iter_mut().enumerate() {
                            // SAFETY: token t < T, block b < nb <= xstride (caller contract).
                            let xb = unsafe { &*x.add(t * xstride + b) };
                            let (mut a, mut c) = (_mm256_setzero_si256(), _mm256_setzero_si256());
                            for k in 0..8 {
                                a = $dp(a, lo[k], word(xb, 64 * pr + 4 * k));
                                c = $dp(c, hi[k], word(xb, 64 * pr + 32 + 4 * k));
                            }
                            let a = _mm256_mullo_epi32(a, sc[2 * pr]);
                            let c = _mm256_mullo_epi32(c, sc[2 * pr + 1]);
                            *s = _mm256_add_epi32(*s, _mm256_add_epi32(a, c));
                        }
                    }
                    for (t, a) in acc.iter_mut().enumerate() {
                        // SAFETY: as above.
                        let xb = unsafe { &*x.add(t * xstride + b) };
                        // The minimums' sum: sub-block j's minimum times the codes of its
                        // 32 activations (the pair of 16-value sums), four i16 pairs.
                        // SAFETY: `bsums` is 16 readable i16.
                        let bs = unsafe { _mm256_loadu_si256(xb.bsums.as_ptr() as *const __m256i) };
                        let pair = _mm_hadd_epi16(
                            _mm256_castsi256_si128(bs),
                            _mm256_extracti128_si256(bs, 1),
                        );
                        let mut words = [0i32; 4];
                        // SAFETY: 16 writable bytes.
                        unsafe { _mm_storeu_si128(words.as_mut_ptr() as *mut __m128i, pair) };
                        let mut summ = _mm256_setzero_si256();
                        for (h, &w) in words.iter().enumerate() {
                            let prod = _mm256_madd_epi16(mn[h], _mm256_set1_epi32(w));
                            summ = _mm256_add_epi32(summ, prod);
                        }
                        // acc + d_x * (d * sumi - dmin * summ), the reference's steps.
                        let sd = _mm256_mul_ps(dv, _mm256_cvtepi32_ps(sumi[t]));
                        let sm = _mm256_mul_ps(mv, _mm256_cvtepi32_ps(summ));
                        let term = _mm256_mul_ps(_mm256_set1_ps(xb.d), _mm256_sub_ps(sd, sm));
                        *a = _mm256_add_ps(*a, term);
                    }
                }
                for (t, a) in acc.iter().enumerate() {
                    // SAFETY: 8 writable floats.
                    unsafe { _mm256_storeu_ps(out[t].as_mut_ptr(), *a) };
                }
            }

            /// Eight interleaved Q6_K rows times `T` (1 to WIDE) activation rows.
            ///
            /// # Safety
            /// As [`q4k`], with Q6_K group-blocks.
            #[target_feature(enable = $feat)]
            pub unsafe fn q6k<const T: usize>(
                group: *const u8,
                nb: usize,
                x: *const Q8KBlock,
                xstride: usize,
                out: &mut [[f32; GROUP]; WIDE],
            ) {
                let m4 = _mm256_set1_epi8(0x0f);
                let m3 = _mm256_set1_epi8(0x03);
                let m30 = _mm256_set1_epi8(0x30);
                let mut acc = [_mm256_setzero_ps(); T];
                for b in 0..nb {
                    // SAFETY: group-block b < nb lies inside the group (caller contract).
                    let p = unsafe { group.add(b * Q6K_GROUP_BYTES) };
                    // SAFETY: the eight f16 d at 0; eight signed scales per sub-block.
                    let (dv, sc) = unsafe {
                        let dv = _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i));
                        let sc: [__m256i; 16] =
                            std::array::from_fn(|g| lanes8(p.add(Q6K_SCALES + 8 * g), true));
                        (dv, sc)
                    };
                    // Sub-scales 2h and 2h + 1 as the i16 pair of each lane (the offset).
                    let low = _mm256_set1_epi32(0xffff);
                    let sp: [__m256i; 8] = std::array::from_fn(|h| {
                        let hi = _mm256_slli_epi32(sc[2 * h + 1], 16);
                        _mm256_or_si256(_mm256_and_si256(sc[2 * h], low), hi)
                    });
                    // Chunk c of the codes region at Q6K_CODES + 32c.
                    let chunk = |c: usize| {
                        // SAFETY: chunk c < 48 lies inside the group-block.
                        unsafe { _mm256_loadu_si256(p.add(Q6K_CODES + 32 * c) as *const __m256i) }
                    };
                    let mut sumi = [_mm256_setzero_si256(); T];
                    for n in 0..2 {
                        for half in 0..2 {
                            // codes[o][kk]: codes 128n + 32o + 4k.. of each row, k = 4 half + kk,
                            // from low-nibble bytes l and l + 32 (l = 64n + 4k) and high-bit
                            // byte 32n + 4k, as GGML packs them: sub-block 8n + 2o + half.
                            let mut codes = [[_mm256_setzero_si256(); 4]; 4];
                            for kk in 0..4 {
                                let k = 4 * half + kk;
                                let (ql0, ql1) = (chunk(16 * n + k), chunk(16 * n + 8 + k));
                                let qh = chunk(32 + 8 * n + k);
                                let hi2 = |v: __m256i| _mm256_and_si256(v, m30);
                                codes[0][kk] = _mm256_or_si256(
                                    _mm256_and_si256(ql0, m4),
                                    _mm256_slli_epi16(_mm256_and_si256(qh, m3), 4),
                                );
                                codes[1][kk] = _mm256_or_si256(
                                    _mm256_and_si256(ql1, m4),
                                    hi2(_mm256_slli_epi16(qh, 2)),
                                );
                                codes[2][kk] = _mm256_or_si256(
                                    _mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                                    hi2(qh),
                                );
                                codes[3][kk] = _mm256_or_si256(
                                    _mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                                    hi2(_mm256_srli_epi16(qh, 2)),
                                );
                            }
                            for (t, s) in sumi.iter_mut().enumerate() {
                                // SAFETY: token t < T, block b < nb <= xstride.
                                let xb = unsafe { &*x.add(t * xstride + b) };
                                for (o, cs) in codes.iter().enumerate() {
                                    let g = 8 * n + 2 * o + half;
                                    let mut a = _mm256_setzero_si256();
                                    for (kk, &c) in cs.iter().enumerate() {
                                        let i = 128 * n + 32 * o + 4 * (4 * half + kk);
                                        a = $dp(a, c, word(xb, i));
                                    }
                                    *s = _mm256_add_epi32(*s, _mm256_mullo_epi32(a, sc[g]));
                                }
                            }
                        }
                    }
                    for (t, a) in acc.iter_mut().enumerate() {
                        // SAFETY: as above.
                        let xb = unsafe { &*x.add(t * xstride + b) };
                        // The codes' offset of 32, exact: 32 * sum_g sc_g * bsum_g.
                        let mut off = _mm256_setzero_si256();
                        for (h, &s) in sp.iter().enumerate() {
                            // Activation sums 2h and 2h + 1 as the i16 pair of a lane.
                            let lo = i32::from(xb.bsums[2 * h] as u16);
                            let pair = lo | (i32::from(xb.bsums[2 * h + 1]) << 16);
                            let prod = _mm256_madd_epi16(s, _mm256_set1_epi32(pair));
                            off = _mm256_add_epi32(off, prod);
                        }
                        let sumi = _mm256_sub_epi32(sumi[t], _mm256_slli_epi32(off, 5));
                        // acc + d_x * d * sumi, the reference's steps.
                        let dd = _mm256_mul_ps(_mm256_set1_ps(xb.d), dv);
                        *a = _mm256_add_ps(*a, _mm256_mul_ps(dd, _mm256_cvtepi32_ps(sumi)));
                    }
                }
                for (t, a) in acc.iter().enumerate() {
                    // SAFETY: 8 writable floats.
                    unsafe { _mm256_storeu_ps(out[t].as_mut_ptr(), *a) };
                }
            }

            /// Every width of the kernel for K-quant `ty`.
            pub fn tiles(ty: QType) -> Option<GroupTiles> {
                use super::super::widths;
                let w: [GroupFn<Q8KBlock>; WIDE] = match ty {
                    QType::Q4K => widths!(q4k),
                    QType::Q6K => widths!(q6k),
                    _ => return None,
                };
                Some(GroupTiles::K(w))
            }
        }
    };
}

k_tiles!(plain_k, "avx2,fma,f16c", dp_avx2);
k_tiles!(vnni_k, "avx2,fma,f16c,avx512vnni,avx512vl", dp_vnni);

/// Every width of the AVX2 group kernel for K-quant `ty`.
pub fn plain(ty: QType) -> Option<GroupTiles> {
    plain_k::tiles(ty)
}

/// Every width of the AVX-512 VNNI group kernel for K-quant `ty`.
pub fn vnni(ty: QType) -> Option<GroupTiles> {
    vnni_k::tiles(ty)
}
