//! aarch64 NEON kernels of the K-quants (Q4_K, Q6_K) against Q8_K activations, for both
//! NEON instruction sets (instantiated in `neon.rs` with `SDOT` and without): each 32-code
//! slice of a weight block is unpacked once and reused for `T` tokens; the per-16/32
//! scales multiply the i32 dot products, minimums and offsets go through the activation
//! block sums. All integer sums are exact, so both sets give the same bits.

/// The 8 six-bit scales and 8 six-bit minimums of a Q4_K block from its 12 packed bytes
/// at `p` (llama.cpp's layout; see `kquant::scale_min_k4`).
///
/// # Safety
/// 12 readable bytes at `p`.
#[inline]
pub(super) unsafe fn scales_mins_q4k(p: *const u8) -> ([i32; 8], [i16; 8]) {
    const LOW6: u32 = 0x3f3f_3f3f;
    const LOW4: u32 = 0x0f0f_0f0f;
    const LOW2: u32 = 0x0303_0303;
    let mut u = [0u32; 3];
    // SAFETY: 12 readable bytes (caller contract).
    unsafe { std::ptr::copy_nonoverlapping(p, u.as_mut_ptr() as *mut u8, 12) };
    let scales_lo = (u[0] & LOW6).to_le_bytes();
    let scales_hi = ((u[2] & LOW4) | (((u[0] >> 6) & LOW2) << 4)).to_le_bytes();
    let mins_lo = (u[1] & LOW6).to_le_bytes();
    let mins_hi = (((u[2] >> 4) & LOW4) | (((u[1] >> 6) & LOW2) << 4)).to_le_bytes();
    let mut sc = [0i32; 8];
    let mut mins = [0i16; 8];
    for i in 0..4 {
        sc[i] = i32::from(scales_lo[i]);
        sc[i + 4] = i32::from(scales_hi[i]);
        mins[i] = i16::from(mins_lo[i]);
        mins[i + 4] = i16::from(mins_hi[i]);
    }
    (sc, mins)
}

/// Defines `tile_q4k::<T>` and `tile_q6k::<T>` with the byte dot product `$dot` under the
/// target features `$feat` (expanded inside `neon.rs`'s per-set modules).
macro_rules! kquant_kernels {
    ($feat:literal, $dot:ident) => {
        /// One Q4_K weight row times `T` (1 to WIDE) Q8_K activation rows.
        ///
        /// # Safety
        /// `row` points to `nb` Q4_K blocks; `x` to `T` rows of at least `nb` blocks
        /// spaced `xstride` blocks apart; the CPU supports the function's target features.
        #[target_feature(enable = $feat)]
        pub unsafe fn tile_q4k<const T: usize>(
            row: *const u8,
            nb: usize,
            x: *const $crate::kernels::kquant::Q8KBlock,
            xstride: usize,
            out: &mut [f32; $crate::kernels::WIDE],
        ) {
            use $crate::kernels::kquant::Q4K_BYTES;
            use $crate::kernels::neon::h2f;
            use $crate::kernels::neon_k::scales_mins_q4k;
            let m4 = vdupq_n_u8(0x0f);
            let zero = vdupq_n_s32(0);
            let mut acc = [vdupq_n_f32(0.0); T];
            // The minimums' term per token: -dmin * d_x * sum_j m_j * (codes of slice j).
            let mut acc_m = [0f32; T];
            for b in 0..nb {
                // SAFETY: block b < nb lies inside the row (caller contract).
                let p = unsafe { row.add(b * Q4K_BYTES) };
                // SAFETY: 2-byte scales at the block start.
                let (d, dmin) = unsafe { (h2f(p), h2f(p.add(2))) };
                // SAFETY: 12 scale bytes at 4..16.
                let (sc, mins) = unsafe { scales_mins_q4k(p.add(4)) };
                let mut isum = [zero; T];
                for j in 0..4 {
                    let qs = p.wrapping_add(16 + 32 * j);
                    // SAFETY: bytes 16 + 32j .. 48 + 32j lie inside the block.
                    let (q0, q1) = unsafe { (vld1q_u8(qs), vld1q_u8(qs.add(16))) };
                    // Codes 64j..64j+32 (low nibbles) and 64j+32..64j+64 (high nibbles).
                    let lo0 = vreinterpretq_s8_u8(vandq_u8(q0, m4));
                    let lo1 = vreinterpretq_s8_u8(vandq_u8(q1, m4));
                    let hi0 = vreinterpretq_s8_u8(vshrq_n_u8::<4>(q0));
                    let hi1 = vreinterpretq_s8_u8(vshrq_n_u8::<4>(q1));
                    for (t, is) in isum.iter_mut().enumerate() {
                        // SAFETY: token t < T, block b < nb <= xstride (caller contract);
                        // the loads read codes 64j..64j+64 of the 256; the target features
                        // are enabled (caller contract).
                        let (s_lo, s_hi) = unsafe {
                            let xq = (*x.add(t * xstride + b)).qs.as_ptr().add(64 * j);
                            let s_lo =
                                $dot($dot(zero, lo0, vld1q_s8(xq)), lo1, vld1q_s8(xq.add(16)));
                            let s_hi = $dot(
                                $dot(zero, hi0, vld1q_s8(xq.add(32))),
                                hi1,
                                vld1q_s8(xq.add(48)),
                            );
                            (s_lo, s_hi)
                        };
                        *is = vmlaq_n_s32(vmlaq_n_s32(*is, s_lo, sc[2 * j]), s_hi, sc[2 * j + 1]);
                    }
                }
                // SAFETY: 8 readable i16.
                let mins = unsafe { vld1q_s16(mins.as_ptr()) };
                for t in 0..T {
                    // SAFETY: as above.
                    let xb = unsafe { &*x.add(t * xstride + b) };
                    acc[t] = vfmaq_n_f32(acc[t], vcvtq_f32_s32(isum[t]), d * xb.d);
                    // SAFETY: `bsums` is 16 readable i16.
                    let (b0, b1) = unsafe {
                        (
                            vld1q_s16(xb.bsums.as_ptr()),
                            vld1q_s16(xb.bsums.as_ptr().add(8)),
                        )
                    };
                    // Code sums per 32 (pairs of the per-16 sums, at most 2 * 16 * 127)
                    // times the 8 minimums.
                    let pair = vpaddq_s16(b0, b1);
                    let prod = vaddq_s32(
                        vmull_s16(vget_low_s16(mins), vget_low_s16(pair)),
                        vmull_high_s16(mins, pair),
                    );
                    acc_m[t] -= dmin * xb.d * vaddvq_s32(prod) as f32;
                }
            }
            for t in 0..T {
                out[t] = vaddvq_f32(acc[t]) + acc_m[t];
            }
        }

        /// One Q6_K weight row times `T` (1 to WIDE) Q8_K activation rows.
        ///
        /// # Safety
        /// As [`tile_q4k`], with Q6_K blocks.
        #[target_feature(enable = $feat)]
        pub unsafe fn tile_q6k<const T: usize>(
            row: *const u8,
            nb: usize,
            x: *const $crate::kernels::kquant::Q8KBlock,
            xstride: usize,
            out: &mut [f32; $crate::kernels::WIDE],
        ) {
            use $crate::kernels::kquant::Q6K_BYTES;
            use $crate::kernels::neon::h2f;
            let m4 = vdupq_n_u8(0x0f);
            let m3 = vdupq_n_u8(0x03);
            let m30 = vdupq_n_u8(0x30);
            let zero = vdupq_n_s32(0);
            let mut acc = [vdupq_n_f32(0.0); T];
            for b in 0..nb {
                // SAFETY: block b < nb lies inside the row (caller contract).
                let p = unsafe { row.add(b * Q6K_BYTES) };
                // SAFETY: the f16 scale is the block's last two bytes; the 16 i8
                // sub-scales lie at 192..208.
                let (d, sc8) = unsafe { (h2f(p.add(208)), vld1q_s8(p.add(192) as *const i8)) };
                let mut sc = [0i8; 16];
                // SAFETY: `sc` is 16 writable bytes.
                unsafe { vst1q_s8(sc.as_mut_ptr(), sc8) };
                let (sc_lo, sc_hi) = (vmovl_s8(vget_low_s8(sc8)), vmovl_high_s8(sc8));
                let mut isum = [zero; T];
                for n in 0..2 {
                    // SAFETY: low nibbles at 64n..64n+64, high bits at 128+32n..160+32n.
                    let (ql, qh) = unsafe {
                        let l = p.add(64 * n);
                        let h = p.add(128 + 32 * n);
                        (
                            [
                                vld1q_u8(l),
                                vld1q_u8(l.add(16)),
                                vld1q_u8(l.add(32)),
                                vld1q_u8(l.add(48)),
                            ],
                            [vld1q_u8(h), vld1q_u8(h.add(16))],
                        )
                    };
                    // Codes 128n + 32k + 16h + i (k < 4, h < 2, i < 16), as in
                    // kquant::unpack_q6k: 4 low bits from ql, 2 high bits from qh.
                    let mut codes = [[vdupq_n_s8(0); 2]; 4];
                    for h in 0..2 {
                        let (l0, l1, hb) = (ql[h], ql[h + 2], qh[h]);
                        let c = [
                            vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8::<4>(vandq_u8(hb, m3))),
                            vorrq_u8(vandq_u8(l1, m4), vandq_u8(vshlq_n_u8::<2>(hb), m30)),
                            vorrq_u8(vshrq_n_u8::<4>(l0), vandq_u8(hb, m30)),
                            vorrq_u8(vshrq_n_u8::<4>(l1), vandq_u8(vshrq_n_u8::<2>(hb), m30)),
                        ];
                        for k in 0..4 {
                            codes[k][h] = vreinterpretq_s8_u8(c[k]);
                        }
                    }
                    for (t, is) in isum.iter_mut().enumerate() {
                        for (k, ck) in codes.iter().enumerate() {
                            let g = 8 * n + 2 * k;
                            // SAFETY: token t < T, block b < nb <= xstride; codes
                            // 128n+32k..+32; the target features are enabled.
                            let (s0, s1) = unsafe {
                                let xq =
                                    (*x.add(t * xstride + b)).qs.as_ptr().add(128 * n + 32 * k);
                                (
                                    $dot(zero, ck[0], vld1q_s8(xq)),
                                    $dot(zero, ck[1], vld1q_s8(xq.add(16))),
                                )
                            };
                            *is = vmlaq_n_s32(
                                vmlaq_n_s32(*is, s0, i32::from(sc[g])),
                                s1,
                                i32::from(sc[g + 1]),
                            );
                        }
                    }
                }
                for t in 0..T {
                    // SAFETY: as above.
                    let xb = unsafe { &*x.add(t * xstride + b) };
                    // The codes' offset of 32, exact in the integer sum:
                    // 32 * sum_g sc_g * bsum_g.
                    // SAFETY: `bsums` is 16 readable i16.
                    let (b0, b1) = unsafe {
                        (
                            vld1q_s16(xb.bsums.as_ptr()),
                            vld1q_s16(xb.bsums.as_ptr().add(8)),
                        )
                    };
                    let off = vaddq_s32(
                        vaddq_s32(
                            vmull_s16(vget_low_s16(sc_lo), vget_low_s16(b0)),
                            vmull_high_s16(sc_lo, b0),
                        ),
                        vaddq_s32(
                            vmull_s16(vget_low_s16(sc_hi), vget_low_s16(b1)),
                            vmull_high_s16(sc_hi, b1),
                        ),
                    );
                    let net = vsubq_s32(isum[t], vshlq_n_s32::<5>(off));
                    acc[t] = vfmaq_n_f32(acc[t], vcvtq_f32_s32(net), d * xb.d);
                }
            }
            for t in 0..T {
                out[t] = vaddvq_f32(acc[t]);
            }
        }
    };
}
pub(crate) use kquant_kernels;
