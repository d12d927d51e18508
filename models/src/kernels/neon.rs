//! aarch64 NEON kernels of the 32-value block types: one weight row times `T` activation
//! rows, each weight block unpacked once into two 16-byte code vectors and reused for all
//! `T` tokens; and the 4-row decode kernel. Two instruction sets share the code: with the
//! dot-product extension (`SDOT`, ARMv8.2-A and later: Jetson Orin's Cortex-A78AE, Pi 5's
//! Cortex-A76) and without it (widening multiplies and pairwise adds: Cortex-A53/A72).
//!
//! Every code fits a signed byte here (Q4_1's 0..15 too), so one signed byte product
//! serves all four types: Q4_0 and Q5_0 codes are made signed (q - 8, q - 16) so their
//! offsets stay exact in the integer product, as in llama.cpp; Q4_1's minimum goes
//! through the activation block sum (llama.cpp's Q8_1 `s`).
//!
//! [`dot_plain`] puts every 4-byte sum in the same lane as `SDOT` does, so both sets give
//! the same integer vectors, then the same float steps: the same bits (tested).

use std::arch::aarch64::*;
use std::arch::asm;

use super::quant::Q8Block;
use super::QType;

/// Whether this CPU runs the plain NEON kernels (every aarch64 Linux CPU does).
pub fn available() -> bool {
    std::arch::is_aarch64_feature_detected!("neon")
}

/// Whether this CPU also has the dot-product extension (`SDOT`).
pub fn dotprod_available() -> bool {
    available() && std::arch::is_aarch64_feature_detected!("dotprod")
}

/// `acc` plus the signed byte products of `a` and `b`, each 4 adjacent products summed
/// into one i32 lane (lane i: bytes 4i..4i+4): one `SDOT`.
///
/// # Safety
/// The CPU has the dot-product extension.
#[inline]
#[target_feature(enable = "neon,dotprod")]
pub(super) unsafe fn dot_sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: SDOT exists on this CPU (caller contract); it reads and writes registers only.
    // The intrinsic (vdotq_s32) is not stable in Rust 1.95 (stdarch_neon_dotprod).
    unsafe {
        asm!(
            "sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
            acc = inout(vreg) acc,
            a = in(vreg) a,
            b = in(vreg) b,
            options(pure, nomem, nostack, preserves_flags)
        )
    };
    acc
}

/// [`dot_sdot`] without the extension: the same sums in the same lanes. The products of
/// bytes 0..8 and 8..16 (i16), pairs of them (at most 2 * 128 * 127 = 32512, so no i16
/// wraps), then pairs of pairs added into `acc`.
///
/// # Safety
/// The CPU has NEON (every aarch64 Linux CPU).
#[inline]
#[target_feature(enable = "neon")]
pub(super) unsafe fn dot_plain(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    let hi = vmull_high_s8(a, b);
    vpadalq_s16(acc, vpaddq_s16(lo, hi))
}

/// f16 at `p` (unaligned) to f32, in hardware (`FCVT`, base ARMv8 floating point):
/// the same value as `quant::f16_to_f32` for every non-NaN half (tested).
///
/// # Safety
/// Two readable bytes at `p`.
#[inline]
pub(super) unsafe fn h2f(p: *const u8) -> f32 {
    // SAFETY: the caller guarantees two readable bytes at `p`.
    let h = unsafe { std::ptr::read_unaligned(p as *const u16) };
    let out: f32;
    // SAFETY: FCVT (half to single precision) is part of every aarch64 CPU's floating
    // point; it reads and writes registers only.
    unsafe {
        asm!(
            "fcvt {out:s}, {h:h}",
            h = in(vreg) h as i16,
            out = lateout(vreg) out,
            options(pure, nomem, nostack, preserves_flags)
        )
    };
    out
}

/// 16 packed nibble bytes at `p` to 32 codes: low nibbles (codes 0..16), high nibbles
/// (codes 16..32).
///
/// # Safety
/// 16 readable bytes at `p`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn nibbles(p: *const u8) -> (uint8x16_t, uint8x16_t) {
    // SAFETY: 16 readable bytes (caller contract).
    let q = unsafe { vld1q_u8(p) };
    (vandq_u8(q, vdupq_n_u8(0x0f)), vshrq_n_u8::<4>(q))
}

/// Bits 0..16 and 16..32 of the u32 at `p` to 0x10 in bytes 0..16 of two vectors.
///
/// # Safety
/// 4 readable bytes at `p`.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn high_bits(p: *const u8) -> (uint8x16_t, uint8x16_t) {
    // SAFETY: 4 readable bytes (caller contract).
    let h = unsafe { std::ptr::read_unaligned(p as *const [u8; 4]) };
    let bit = vcombine_u8(
        vcreate_u8(0x8040_2010_0804_0201),
        vcreate_u8(0x8040_2010_0804_0201),
    );
    let lo = vtstq_u8(vcombine_u8(vdup_n_u8(h[0]), vdup_n_u8(h[1])), bit);
    let hi = vtstq_u8(vcombine_u8(vdup_n_u8(h[2]), vdup_n_u8(h[3])), bit);
    let b4 = vdupq_n_u8(0x10);
    (vandq_u8(lo, b4), vandq_u8(hi, b4))
}

/// One weight block decoded: codes 0..16, codes 16..32, scale d and offset coefficient c
/// (value = d * code + c; c is 0 for the signed-code types).
type Block = (int8x16_t, int8x16_t, f32, f32);

/// Decodes the Q4_0 block at `p`.
///
/// # Safety
/// `p` points to one 18-byte Q4_0 block.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn unpack_q4_0(p: *const u8) -> Block {
    // SAFETY: `p` is one 18-byte Q4_0 block: f16 d, 16 nibble bytes.
    let (lo, hi, d) = unsafe {
        let (lo, hi) = nibbles(p.add(2));
        (lo, hi, h2f(p))
    };
    let eight = vdupq_n_s8(8);
    (
        vsubq_s8(vreinterpretq_s8_u8(lo), eight),
        vsubq_s8(vreinterpretq_s8_u8(hi), eight),
        d,
        0.0,
    )
}

/// Decodes the Q4_1 block at `p`.
///
/// # Safety
/// `p` points to one 20-byte Q4_1 block.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn unpack_q4_1(p: *const u8) -> Block {
    // SAFETY: `p` is one 20-byte Q4_1 block: f16 d, f16 m, 16 nibble bytes.
    unsafe {
        let (lo, hi) = nibbles(p.add(4));
        (
            vreinterpretq_s8_u8(lo),
            vreinterpretq_s8_u8(hi),
            h2f(p),
            h2f(p.add(2)),
        )
    }
}

/// Decodes the Q5_0 block at `p`.
///
/// # Safety
/// `p` points to one 22-byte Q5_0 block.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn unpack_q5_0(p: *const u8) -> Block {
    // SAFETY: `p` is one 22-byte Q5_0 block: f16 d, u32 high bits, 16 nibble bytes.
    let ((lo, hi), (hlo, hhi), d) = unsafe { (nibbles(p.add(6)), high_bits(p.add(2)), h2f(p)) };
    let sixteen = vdupq_n_s8(16);
    (
        vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, hlo)), sixteen),
        vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(hi, hhi)), sixteen),
        d,
        0.0,
    )
}

/// Decodes the Q8_0 block at `p`.
///
/// # Safety
/// `p` points to one 34-byte Q8_0 block.
#[inline]
#[target_feature(enable = "neon")]
unsafe fn unpack_q8_0(p: *const u8) -> Block {
    // SAFETY: `p` is one 34-byte Q8_0 block: f16 d, 32 signed codes.
    unsafe {
        (
            vld1q_s8(p.add(2) as *const i8),
            vld1q_s8(p.add(18) as *const i8),
            h2f(p),
            0.0,
        )
    }
}

/// Defines `$name::<T>`: row of `nb` blocks times `T` activation rows spaced `xstride`
/// blocks apart, results in `out[..T]`. `$unpack(p)` decodes one block; `$offset` says
/// whether the type has a minimum (applied through the activation sum `$sum`).
macro_rules! tile {
    ($name:ident, $feat:literal, $dot:ident, $bb:expr, $unpack:ident, $offset:expr, $sum:ident) => {
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
            let mut acc = [vdupq_n_f32(0.0); T];
            let mut bias = [0f32; T];
            for b in 0..nb {
                // SAFETY: block b < nb lies inside the row (caller contract).
                let (w0, w1, d, c) = unsafe { $unpack(row.add(b * $bb)) };
                for t in 0..T {
                    // SAFETY: token t < T, block b < nb <= xstride (caller contract).
                    let xb = unsafe { &*x.add(t * xstride + b) };
                    // SAFETY: `qs` is 32 readable bytes; the target features are enabled
                    // (caller contract).
                    let s = unsafe {
                        let q = xb.qs.as_ptr();
                        let s = $dot(vdupq_n_s32(0), w0, vld1q_s8(q));
                        $dot(s, w1, vld1q_s8(q.add(16)))
                    };
                    acc[t] = vfmaq_n_f32(acc[t], vcvtq_f32_s32(s), d * xb.d);
                    if $offset {
                        // Signed codes carry no minimum (c is 0): skip the term.
                        bias[t] += c * xb.$sum;
                    }
                }
            }
            for t in 0..T {
                out[t] = vaddvq_f32(acc[t]) + bias[t];
            }
        }
    };
}

/// Defines `$name`: four weight rows `rstride` bytes apart times one activation row
/// (decode), results in `out`. Each row's sum runs in the same order as `tile::<1>`'s,
/// so the results are bit for bit the same; the four rows give the core four independent
/// chains and share each activation block load.
macro_rules! rows4 {
    ($name:ident, $feat:literal, $dot:ident, $bb:expr, $unpack:ident, $offset:expr, $sum:ident) => {
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
            let mut acc = [vdupq_n_f32(0.0); 4];
            let mut bias = [0f32; 4];
            for b in 0..nb {
                // SAFETY: block b < nb of the activation row (caller contract).
                let xb = unsafe { &*x.add(b) };
                let q = xb.qs.as_ptr();
                // SAFETY: `qs` is 32 readable bytes.
                let (x0, x1) = unsafe { (vld1q_s8(q), vld1q_s8(q.add(16))) };
                for r in 0..4 {
                    // SAFETY: block b < nb of row r < 4 (caller contract).
                    let (w0, w1, d, c) = unsafe { $unpack(row.add(r * rstride + b * $bb)) };
                    // SAFETY: the target features are enabled (caller contract).
                    let s = unsafe { $dot($dot(vdupq_n_s32(0), w0, x0), w1, x1) };
                    acc[r] = vfmaq_n_f32(acc[r], vcvtq_f32_s32(s), d * xb.d);
                    if $offset {
                        bias[r] += c * xb.$sum;
                    }
                }
            }
            for r in 0..4 {
                out[r] = vaddvq_f32(acc[r]) + bias[r];
            }
        }
    };
}

/// Instantiates every kernel for one instruction set into module `$m`.
macro_rules! kernels {
    ($m:ident, $feat:literal, $dot:ident) => {
        mod $m {
            use super::*;
            tile!(tile_q4_0, $feat, $dot, 18, unpack_q4_0, false, sx);
            tile!(tile_q4_1, $feat, $dot, 20, unpack_q4_1, true, s);
            tile!(tile_q5_0, $feat, $dot, 22, unpack_q5_0, false, sx);
            tile!(tile_q8_0, $feat, $dot, 34, unpack_q8_0, false, sx);
            rows4!(rows4_q4_0, $feat, $dot, 18, unpack_q4_0, false, sx);
            rows4!(rows4_q4_1, $feat, $dot, 20, unpack_q4_1, true, s);
            rows4!(rows4_q5_0, $feat, $dot, 22, unpack_q5_0, false, sx);
            rows4!(rows4_q8_0, $feat, $dot, 34, unpack_q8_0, false, sx);
            super::super::neon_k::kquant_kernels!($feat, $dot);

            /// The 1- to WIDE-token and 4-row kernels for `ty`.
            pub fn tiles(ty: QType) -> super::super::Tiles {
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

kernels!(plain, "neon", dot_plain);
kernels!(sdot, "neon,dotprod", dot_sdot);

/// The kernels for `ty`: with `SDOT` when `dotprod` (the caller checked the CPU has it).
pub fn tiles(ty: QType, dotprod: bool) -> super::Tiles {
    if dotprod {
        sdot::tiles(ty)
    } else {
        plain::tiles(ty)
    }
}
