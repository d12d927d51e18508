//! Portable reference kernels: one weight row times one quantized activation row.
//! Every SIMD kernel must agree with these up to f32 summation order.

use super::quant::{f16_to_f32, le16, Q8Block, QType};

/// Integer codes (unsigned for the offset types) of one weight block, its scale, and the
/// coefficient of the activation block sum: value_i = d * code_i + c (c = m or -8d/-16d).
#[inline]
fn unpack(ty: QType, b: &[u8], codes: &mut [i32; 32]) -> (f32, f32) {
    let d = f16_to_f32(le16(b, 0));
    match ty {
        QType::Q4_0 | QType::Q4_1 => {
            let qs = if ty == QType::Q4_0 {
                &b[2..18]
            } else {
                &b[4..20]
            };
            for j in 0..16 {
                codes[j] = i32::from(qs[j] & 0x0f);
                codes[j + 16] = i32::from(qs[j] >> 4);
            }
            if ty == QType::Q4_0 {
                (d, -8.0 * d)
            } else {
                (d, f16_to_f32(le16(b, 2)))
            }
        }
        QType::Q5_0 => {
            let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
            let qs = &b[6..22];
            for j in 0..16 {
                let h0 = ((qh >> j) & 1) << 4;
                let h1 = ((qh >> (j + 16)) & 1) << 4;
                codes[j] = (u32::from(qs[j] & 0x0f) | h0) as i32;
                codes[j + 16] = (u32::from(qs[j] >> 4) | h1) as i32;
            }
            (d, -16.0 * d)
        }
        QType::Q8_0 => {
            for (c, &q) in codes.iter_mut().zip(&b[2..34]) {
                *c = i32::from(q as i8);
            }
            (d, 0.0)
        }
        // 256-value blocks have their own reference (kquant.rs); never routed here.
        QType::Q4K | QType::Q6K => (0.0, 0.0),
    }
}

/// Dot product of one weight row (`x.len()` blocks of a 32-value `ty`) with one
/// activation row.
pub fn dot_row(ty: QType, row: &[u8], x: &[Q8Block]) -> f32 {
    let bb = ty.block_bytes();
    let mut codes = [0i32; 32];
    let mut acc = 0f32;
    for (b, xb) in row.chunks_exact(bb).zip(x) {
        let (d, c) = unpack(ty, b, &mut codes);
        let isum: i32 = codes
            .iter()
            .zip(&xb.qs)
            .map(|(&w, &q)| w * i32::from(q))
            .sum();
        let s = if ty == QType::Q4_1 { xb.s } else { xb.sx };
        acc += d * xb.d * isum as f32 + c * s;
    }
    acc
}

/// Dequantize one weight row (for tests and checks).
pub fn dequantize_row(ty: QType, row: &[u8], out: &mut [f32]) {
    if matches!(ty, QType::Q4K | QType::Q6K) {
        return super::kquant::dequantize_row(ty == QType::Q6K, row, out);
    }
    let mut codes = [0i32; 32];
    for (b, o) in row
        .chunks_exact(ty.block_bytes())
        .zip(out.chunks_exact_mut(32))
    {
        let (d, c) = unpack(ty, b, &mut codes);
        for (v, &q) in o.iter_mut().zip(&codes) {
            *v = d * q as f32 + c;
        }
    }
}
