//! Block formats: f16 scale conversion, the weight block sizes of the GGML types the
//! kernels handle, and the 8-bit activation blocks they multiply against.

/// A weight type the kernels multiply directly (GGML block layouts, bit for bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QType {
    /// 32 values: f16 scale, 4-bit codes minus 8.
    Q4_0,
    /// 32 values: f16 scale and minimum, 4-bit codes.
    Q4_1,
    /// 32 values: f16 scale, 5-bit codes minus 16 (high bits packed in a u32).
    Q5_0,
    /// 32 values: f16 scale, signed 8-bit codes.
    Q8_0,
    /// 256 values: f16 scale and minimum, 6-bit sub-scales and minimums per 32, 4-bit codes.
    Q4K,
    /// 256 values: f16 scale, i8 sub-scales per 16, 6-bit codes minus 32.
    Q6K,
}

impl QType {
    /// The kernels' type for a candle GGML type, if they handle it.
    pub fn from_ggml(t: candle_core::quantized::GgmlDType) -> Option<Self> {
        use candle_core::quantized::GgmlDType as G;
        match t {
            G::Q4_0 => Some(Self::Q4_0),
            G::Q4_1 => Some(Self::Q4_1),
            G::Q5_0 => Some(Self::Q5_0),
            G::Q8_0 => Some(Self::Q8_0),
            G::Q4K => Some(Self::Q4K),
            G::Q6K => Some(Self::Q6K),
            _ => None,
        }
    }

    /// Values per block.
    pub fn block_elems(self) -> usize {
        match self {
            Self::Q4K | Self::Q6K => 256,
            _ => 32,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            Self::Q4_0 => 18,
            Self::Q4_1 => 20,
            Self::Q5_0 => 22,
            Self::Q8_0 => 34,
            Self::Q4K => Q4K_BYTES,
            Self::Q6K => Q6K_BYTES,
        }
    }
}

/// Bytes of one Q4_K block (f16 d, f16 dmin, 12 scale bytes, 128 nibble bytes).
pub const Q4K_BYTES: usize = 144;
/// Bytes of one Q6_K block (128 low-nibble bytes, 64 high-bit bytes, 16 i8 scales, f16 d).
pub const Q6K_BYTES: usize = 210;

/// One activation block: 32 values as `d * qs[i]`, plus `s = d * sum(qs)` (llama.cpp's
/// Q8_1; the offset types need the sum). `d` and `s` are rounded through f16 exactly as
/// llama.cpp stores them, so products match its numerics.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Q8Block {
    /// Scale (f16-rounded).
    pub d: f32,
    /// Scale times the sum of the codes (f16-rounded, as llama.cpp's Q8_1 for Q4_1).
    pub s: f32,
    /// Scale times the sum of the codes, unrounded: the Q4_0/Q5_0 offsets cancel
    /// against the code product, so an f16-rounded (or overflowed) sum would not do.
    pub sx: f32,
    /// Codes in -127..=127.
    pub qs: [i8; 32],
}

/// Quantize `x` (a whole number of 32-blocks) into `out` (one block per 32 values).
pub fn quantize_q8(x: &[f32], out: &mut [Q8Block]) {
    for (xb, ob) in x.chunks_exact(32).zip(out.iter_mut()) {
        let amax = xb.iter().fold(0f32, |a, v| a.max(v.abs()));
        // As llama.cpp's x86 quantize_row_q8_0/q8_1: 127 / amax (not 1 / d) and
        // round half to even, so codes and sums match its bits exactly. bora does this on
        // every CPU, aarch64 included, so a board computes what x86 does. llama.cpp's
        // NEON path differs: it scales by 1 / d with d = amax / 127 (the same ties-to-even
        // rounding, vcvtnq_s32_f32), and 1 / (amax / 127) can be one ulp off 127 / amax,
        // so a value at a rounding tie may get a code one apart from llama.cpp on Arm.
        // Q8_K (K-quants) is the same reference code in llama.cpp on both.
        let d = amax / 127.0;
        let id = if amax != 0.0 { 127.0 / amax } else { 0.0 };
        let mut sum = 0i32;
        for (q, &v) in ob.qs.iter_mut().zip(xb) {
            // `as` saturates (and maps NaN to 0), so no input can overflow the code.
            let c = (v * id).round_ties_even() as i8;
            *q = c;
            sum += i32::from(c);
        }
        ob.d = f16_round(d);
        ob.s = f16_round(d * sum as f32);
        ob.sx = ob.d * sum as f32;
    }
}

/// IEEE half conversions, round to nearest even: one implementation for the crate,
/// checked bit for bit against candle's `half` in `model::cpu::ops`.
pub use crate::model::cpu::ops::{f16_bits_to_f32 as f16_to_f32, f32_to_f16_bits as f32_to_f16};

/// `v` rounded to the nearest f16 value.
#[inline]
pub fn f16_round(v: f32) -> f32 {
    f16_to_f32(f32_to_f16(v))
}

/// Little-endian u16 at `b[i..i + 2]`.
#[inline]
pub fn le16(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
