//! K-quants (256-value super-blocks): the Q8_K activation block and the portable
//! reference dot products of Q4_K and Q6_K weight blocks with it.

use super::quant::{f16_to_f32, le16};

/// One activation super-block: 256 values as `d * qs[i]`, with the code sums of each
/// 16 values (the K-quants' minimums and offsets act per 16 or 32 values).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Q8KBlock {
    /// Scale (f32, as llama.cpp's Q8_K).
    pub d: f32,
    /// Codes in -127..=127.
    pub qs: [i8; 256],
    /// Sum of codes 16i..16i+16.
    pub bsums: [i16; 16],
}

impl Default for Q8KBlock {
    fn default() -> Self {
        Self {
            d: 0.0,
            qs: [0; 256],
            bsums: [0; 16],
        }
    }
}

/// Quantize `x` (a whole number of 256-blocks) into `out`, as llama.cpp's
/// `quantize_row_q8_K`: the value of largest magnitude maps to -127 exactly.
pub fn quantize_q8k(x: &[f32], out: &mut [Q8KBlock]) {
    for (xb, ob) in x.chunks_exact(256).zip(out.iter_mut()) {
        let (mut amax, mut max) = (0f32, 0f32);
        for &v in xb {
            if v.abs() > amax {
                amax = v.abs();
                max = v;
            }
        }
        if amax == 0.0 {
            *ob = Q8KBlock::default();
            continue;
        }
        let iscale = -127.0 / max;
        for (q, &v) in ob.qs.iter_mut().zip(xb) {
            // llama.cpp's nearest_int: round half to even.
            *q = ((iscale * v).round_ties_even() as i32).min(127) as i8;
        }
        for (s, g) in ob.bsums.iter_mut().zip(ob.qs.chunks_exact(16)) {
            *s = g.iter().map(|&q| i16::from(q)).sum();
        }
        ob.d = 1.0 / iscale;
    }
}

/// Scale and minimum (6 bits each) of sub-block `j` (0..8) of a Q4_K/Q5_K block.
#[inline]
pub fn scale_min_k4(j: usize, q: &[u8]) -> (u8, u8) {
    if j < 4 {
        (q[j] & 63, q[j + 4] & 63)
    } else {
        (
            (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4),
            (q[j + 4] >> 4) | ((q[j] >> 6) << 4),
        )
    }
}

pub use super::quant::{Q4K_BYTES, Q6K_BYTES};

/// 256 unsigned codes of a Q4_K block, its 8 (scale, min) pairs, d and dmin:
/// value_i = d * sc[i/32] * code_i - dmin * m[i/32].
pub fn unpack_q4k(b: &[u8], codes: &mut [u8; 256]) -> ([(u8, u8); 8], f32, f32) {
    let mut sm = [(0u8, 0u8); 8];
    for (j, s) in sm.iter_mut().enumerate() {
        *s = scale_min_k4(j, &b[4..16]);
    }
    let qs = &b[16..144];
    for j in 0..4 {
        for l in 0..32 {
            codes[64 * j + l] = qs[32 * j + l] & 0x0f;
            codes[64 * j + 32 + l] = qs[32 * j + l] >> 4;
        }
    }
    (sm, f16_to_f32(le16(b, 0)), f16_to_f32(le16(b, 2)))
}

/// 256 unsigned 6-bit codes of a Q6_K block, its 16 scales and d:
/// value_i = d * sc[i/16] * (code_i - 32).
pub fn unpack_q6k(b: &[u8], codes: &mut [u8; 256]) -> ([i8; 16], f32) {
    for n in 0..2 {
        let ql = &b[64 * n..64 * n + 64];
        let qh = &b[128 + 32 * n..128 + 32 * n + 32];
        let c = &mut codes[128 * n..128 * n + 128];
        for l in 0..32 {
            c[l] = (ql[l] & 0x0f) | ((qh[l] & 3) << 4);
            c[l + 32] = (ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4);
            c[l + 64] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
            c[l + 96] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
        }
    }
    let mut sc = [0i8; 16];
    for (s, &v) in sc.iter_mut().zip(&b[192..208]) {
        *s = v as i8;
    }
    (sc, f16_to_f32(le16(b, 208)))
}

/// Reference dot product of a Q4_K row with a Q8_K activation row.
pub fn dot_q4k(row: &[u8], x: &[Q8KBlock]) -> f32 {
    let mut codes = [0u8; 256];
    let mut acc = 0f32;
    for (b, xb) in row.chunks_exact(Q4K_BYTES).zip(x) {
        let (sm, d, dmin) = unpack_q4k(b, &mut codes);
        let (mut sumi, mut summ) = (0i32, 0i32);
        for (j, &(sc, m)) in sm.iter().enumerate() {
            let r = 32 * j..32 * j + 32;
            let isum: i32 = codes[r.clone()]
                .iter()
                .zip(&xb.qs[r])
                .map(|(&c, &q)| i32::from(c) * i32::from(q))
                .sum();
            sumi += i32::from(sc) * isum;
            summ += i32::from(m) * (i32::from(xb.bsums[2 * j]) + i32::from(xb.bsums[2 * j + 1]));
        }
        acc += xb.d * (d * sumi as f32 - dmin * summ as f32);
    }
    acc
}

/// Reference dot product of a Q6_K row with a Q8_K activation row.
pub fn dot_q6k(row: &[u8], x: &[Q8KBlock]) -> f32 {
    let mut codes = [0u8; 256];
    let mut acc = 0f32;
    for (b, xb) in row.chunks_exact(Q6K_BYTES).zip(x) {
        let (sc, d) = unpack_q6k(b, &mut codes);
        let mut sumi = 0i32;
        for (g, &s) in sc.iter().enumerate() {
            let r = 16 * g..16 * g + 16;
            let isum: i32 = codes[r.clone()]
                .iter()
                .zip(&xb.qs[r])
                .map(|(&c, &q)| i32::from(c) * i32::from(q))
                .sum();
            sumi += i32::from(s) * (isum - 32 * i32::from(xb.bsums[g]));
        }
        acc += xb.d * d * sumi as f32;
    }
    acc
}

/// Dequantize one Q4_K or Q6_K row (for tests).
pub fn dequantize_row(q6: bool, row: &[u8], out: &mut [f32]) {
    let mut codes = [0u8; 256];
    let bb = if q6 { Q6K_BYTES } else { Q4K_BYTES };
    for (b, o) in row.chunks_exact(bb).zip(out.chunks_exact_mut(256)) {
        if q6 {
            let (sc, d) = unpack_q6k(b, &mut codes);
            for (i, v) in o.iter_mut().enumerate() {
                *v = d * f32::from(sc[i / 16]) * (f32::from(codes[i]) - 32.0);
            }
        } else {
            let (sm, d, dmin) = unpack_q4k(b, &mut codes);
            for (i, v) in o.iter_mut().enumerate() {
                let (s, m) = sm[i / 32];
                *v = d * f32::from(s) * f32::from(codes[i]) - dmin * f32::from(m);
            }
        }
    }
}
