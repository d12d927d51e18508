//! The repacked layouts of the 256-value K-quants (Q4_K, Q6_K): eight rows' blocks
//! interleaved as the 32-value types' are ([`super`]), with the sub-block scales spread
//! out one byte per row and sub-block so a kernel loads eight rows' scales in one move.
//!
//! Q4_K group-block (1184 bytes): eight f16 `d` (16), eight f16 `dmin` (16), the 6-bit
//! scales as bytes, sub-block j's eight at 32 + 8j (64), the minimums likewise at 96 + 8j
//! (64), then 32 code chunks of 32 bytes (chunk c: bytes 4c..4c+4 of each row's 128 nibble
//! bytes, row r at 4r). The 12 packed scale bytes of a row are rebuilt exactly on the way
//! back ([`unpack_block`]): every bit of them is a scale or minimum bit.
//!
//! Q6_K group-block (1680 bytes, the same as eight GGML blocks): eight f16 `d` (16), the
//! 16 signed sub-scales, sub-block g's eight at 16 + 8g (128), then 48 code chunks over
//! each row's 128 low-nibble bytes followed by its 64 high-bit bytes.

use super::{get_chunks, put_chunks, GROUP};
use crate::kernels::kquant::scale_min_k4;
use crate::kernels::QType;

/// Where a Q4_K group-block's parts start.
pub(crate) const Q4K_DMIN: usize = 16;
/// Start of the Q4_K sub-block scales (one byte per row and sub-block).
pub(crate) const Q4K_SCALES: usize = 32;
/// Start of the Q4_K sub-block minimums.
pub(crate) const Q4K_MINS: usize = 96;
/// Start of the Q4_K code chunks.
pub(crate) const Q4K_CODES: usize = 160;
/// Bytes of one Q4_K group-block.
pub(crate) const Q4K_GROUP_BYTES: usize = Q4K_CODES + GROUP * 128;
/// Start of the Q6_K sub-scales.
pub(crate) const Q6K_SCALES: usize = 16;
/// Start of the Q6_K code chunks (low nibbles, then high bits).
pub(crate) const Q6K_CODES: usize = 144;
/// Bytes of one Q6_K group-block.
pub(crate) const Q6K_GROUP_BYTES: usize = Q6K_CODES + GROUP * 192;

/// Bytes of one group-block of K-quant `ty`.
pub(super) fn group_block_bytes(ty: QType) -> usize {
    if ty == QType::Q4K {
        Q4K_GROUP_BYTES
    } else {
        Q6K_GROUP_BYTES
    }
}

/// Writes GGML block `blk` of K-quant `ty` as row `lane` of group-block `o`.
pub(super) fn repack_block(ty: QType, blk: &[u8], lane: usize, o: &mut [u8]) {
    if ty == QType::Q4K {
        o[2 * lane..2 * lane + 2].copy_from_slice(&blk[0..2]);
        o[Q4K_DMIN + 2 * lane..Q4K_DMIN + 2 * lane + 2].copy_from_slice(&blk[2..4]);
        for j in 0..8 {
            let (sc, m) = scale_min_k4(j, &blk[4..16]);
            o[Q4K_SCALES + GROUP * j + lane] = sc;
            o[Q4K_MINS + GROUP * j + lane] = m;
        }
        put_chunks(&blk[16..144], lane, &mut o[Q4K_CODES..]);
    } else {
        o[2 * lane..2 * lane + 2].copy_from_slice(&blk[208..210]);
        for g in 0..16 {
            o[Q6K_SCALES + GROUP * g + lane] = blk[192 + g];
        }
        put_chunks(&blk[..192], lane, &mut o[Q6K_CODES..]);
    }
}

/// Reads row `lane` of group-block `o` back into GGML block `blk` ([`repack_block`]'s
/// inverse).
pub(super) fn unpack_block(ty: QType, o: &[u8], lane: usize, blk: &mut [u8]) {
    if ty == QType::Q4K {
        blk[0..2].copy_from_slice(&o[2 * lane..2 * lane + 2]);
        blk[2..4].copy_from_slice(&o[Q4K_DMIN + 2 * lane..Q4K_DMIN + 2 * lane + 2]);
        let sc = |j: usize| o[Q4K_SCALES + GROUP * j + lane];
        let m = |j: usize| o[Q4K_MINS + GROUP * j + lane];
        // scale_min_k4's encoding: sub-blocks 0..4 in the low six bits of bytes 0..4
        // (scales) and 4..8 (minimums), whose top two bits hold bits 4..6 of sub-blocks
        // 4..8; bytes 8..12 hold those sub-blocks' low four bits (scale, then minimum).
        for j in 0..4 {
            blk[4 + j] = sc(j) | ((sc(j + 4) >> 4) << 6);
            blk[8 + j] = m(j) | ((m(j + 4) >> 4) << 6);
            blk[12 + j] = (sc(j + 4) & 0x0f) | ((m(j + 4) & 0x0f) << 4);
        }
        get_chunks(&o[Q4K_CODES..], lane, &mut blk[16..144]);
    } else {
        blk[208..210].copy_from_slice(&o[2 * lane..2 * lane + 2]);
        for g in 0..16 {
            blk[192 + g] = o[Q6K_SCALES + GROUP * g + lane];
        }
        get_chunks(&o[Q6K_CODES..], lane, &mut blk[..192]);
    }
}
