//! 32-value weight blocks with unsigned codes (Q4_0, Q4_1, Q5_0) repacked at load, eight
//! rows interleaved (llama.cpp's repacking idea): one 256-bit vector holds four codes of
//! each of eight rows, so a byte dot product against four activation codes broadcast to
//! all lanes gives eight rows' sums at once, and one scale multiply, conversion and add
//! serve eight rows instead of one.
//!
//! Layout: rows in groups of [`GROUP`] (the last group padded with zero rows), each group
//! `nb` group-blocks of [`group_block_bytes`]: the eight rows' f16 scales (16 bytes); for
//! Q4_1 their eight f16 minimums (16 bytes), for Q5_0 their eight high-bit words (32
//! bytes, bits reordered so that bit `8i + k` is the high bit of code `4k + i`); then four
//! 32-byte chunks, chunk k holding bytes 4k..4k+4 of each row's 16 nibble bytes (row r at
//! 4r). The same bytes as the GGML rows, reordered.
//!
//! Each row's value is the portable reference's, bit for bit ([`super::scalar::dot_row`]:
//! per block the exact integer sum of unsigned codes, then `acc + (d * d_x * sum + c * s)`
//! in that order, `c` the minimum or -8d / -16d), so a repacked product equals the
//! scalar one exactly, on every instruction set.

use super::quant::{Q8Block, QType};
use super::{pool, quantize_rows, with_scratch, Isa, MIN_PART_BYTES, WIDE};
use crate::{Error, Result};

/// Rows interleaved per group.
pub const GROUP: usize = 8;

/// Bytes of one group-block of `ty`: eight rows' blocks.
pub fn group_block_bytes(ty: QType) -> usize {
    GROUP * ty.block_bytes()
}

/// Eight rows times `T` (1 to [`WIDE`]) activation rows `xstride` blocks apart: row r of
/// the group for token t in `out[t][r]`.
pub(crate) type GroupFn = unsafe fn(
    group: *const u8,
    nb: usize,
    x: *const Q8Block,
    xstride: usize,
    out: &mut [[f32; GROUP]; WIDE],
);

/// A matrix of `rows` outputs by `cols` inputs in the interleaved layout, owned.
#[derive(Debug, Clone)]
pub struct PackedMatrix {
    data: Vec<u8>,
    ty: QType,
    rows: usize,
    cols: usize,
}

/// Whether `ty` has a repacked layout (32-value blocks of unsigned codes).
pub fn supports(ty: QType) -> bool {
    matches!(ty, QType::Q4_0 | QType::Q4_1 | QType::Q5_0)
}

impl PackedMatrix {
    /// Repacks `data`, `rows` GGML rows of `ty` of `cols` values (a multiple of 32); an
    /// error for a type without a repacked layout or a shape that does not fit `data`.
    pub fn new(ty: QType, data: &[u8], rows: usize, cols: usize) -> Result<Self> {
        if !supports(ty) {
            return Err(Error::InvalidArgument {
                name: "kernels::PackedMatrix type",
                value: format!("{ty:?}"),
                reason: "only Q4_0, Q4_1 and Q5_0 have a repacked layout".into(),
            });
        }
        // The GGML rows' shape, checked as for any matrix of `ty`.
        let (rows, cols) = {
            let m = super::QMatrix::new(ty, data, rows, cols)?;
            (m.rows(), m.cols())
        };
        let (bb, gbb, nb) = (ty.block_bytes(), group_block_bytes(ty), cols / 32);
        let mut out = vec![0u8; rows.div_ceil(GROUP) * nb * gbb];
        for (r, row) in data.chunks_exact(nb * bb).enumerate() {
            let (g, lane) = (r / GROUP, r % GROUP);
            for (b, blk) in row.chunks_exact(bb).enumerate() {
                let o = &mut out[(g * nb + b) * gbb..][..gbb];
                repack_block(ty, blk, lane, o);
            }
        }
        Ok(Self {
            data: out,
            ty,
            rows,
            cols,
        })
    }

    /// The weight type.
    pub fn qtype(&self) -> QType {
        self.ty
    }

    /// Output rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Input width.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Bytes held (the GGML rows' bytes, plus the padding of the last group).
    pub fn bytes(&self) -> usize {
        self.data.len()
    }
}

/// Writes GGML block `blk` of `ty` as row `lane` of group-block `o`.
fn repack_block(ty: QType, blk: &[u8], lane: usize, o: &mut [u8]) {
    o[2 * lane..2 * lane + 2].copy_from_slice(&blk[0..2]);
    let qs = &blk[blk.len() - 16..];
    let nib = o.len() - 128;
    for k in 0..4 {
        let at = nib + 32 * k + 4 * lane;
        o[at..at + 4].copy_from_slice(&qs[4 * k..4 * k + 4]);
    }
    match ty {
        QType::Q4_1 => o[16 + 2 * lane..16 + 2 * lane + 2].copy_from_slice(&blk[2..4]),
        QType::Q5_0 => {
            let qh = u32::from_le_bytes([blk[2], blk[3], blk[4], blk[5]]);
            // Bit e of qh (code e) to bit 8 * (e % 4) + e / 4.
            let moved = (0..32).fold(0u32, |acc, e| {
                acc | (((qh >> e) & 1) << (8 * (e % 4) + e / 4))
            });
            o[16 + 4 * lane..20 + 4 * lane].copy_from_slice(&moved.to_le_bytes());
        }
        _ => {}
    }
}

/// Whether this CPU has kernels for the repacked layout of `ty` (x86-64 with AVX2).
pub fn available(ty: QType) -> bool {
    super::group_kernels(Isa::detect(), ty).is_some()
}

/// `y = x W^T` for a repacked `w` on the detected instruction set and the global pool.
pub fn matmul_packed(w: &PackedMatrix, x: &[f32], tokens: usize, y: &mut [f32]) -> Result<()> {
    matmul_packed_on(Isa::detect(), pool::global(), w, x, tokens, y)
}

/// [`matmul_packed`] on a given instruction set and pool; an error where `isa` has no
/// kernels for the layout.
pub fn matmul_packed_on(
    isa: Isa,
    pool: &pool::Pool,
    w: &PackedMatrix,
    x: &[f32],
    tokens: usize,
    y: &mut [f32],
) -> Result<()> {
    let (rows, cols) = (w.rows, w.cols);
    super::check_product((rows, cols), x, tokens, y)?;
    let Some(k) = super::group_kernels(isa, w.ty) else {
        return Err(Error::InvalidArgument {
            name: "kernels::matmul_packed isa",
            value: format!("{isa:?}"),
            reason: "repacked weights run on x86-64 with AVX2; keep GGML rows elsewhere".into(),
        });
    };
    let gbb = group_block_bytes(w.ty);
    if tokens == 0 || rows == 0 {
        return Ok(());
    }
    let nb = cols / 32;
    with_scratch(tokens * nb, |xq: &mut [Q8Block]| {
        quantize_rows(pool, x, tokens, xq);
        let xq: &[Q8Block] = xq;
        let out = pool::PartPtr::new(y.as_mut_ptr());
        let groups = rows.div_ceil(GROUP);
        let job = |part: usize, parts: usize| {
            let (g0, g1) = (groups * part / parts, groups * (part + 1) / parts);
            let mut o = [[0f32; GROUP]; WIDE];
            for g in g0..g1 {
                let group = w.data[g * nb * gbb..].as_ptr();
                let lanes = (rows - g * GROUP).min(GROUP);
                for t in (0..tokens).step_by(WIDE) {
                    let width = (tokens - t).min(WIDE);
                    // SAFETY: group g is `nb` group-blocks (PackedMatrix::new); tokens
                    // t..t+width each have `nb` blocks in `xq` at stride `nb`.
                    unsafe { k[width - 1](group, nb, xq.as_ptr().add(t * nb), nb, &mut o) };
                    for (i, ot) in o[..width].iter().enumerate() {
                        for (r, &v) in ot[..lanes].iter().enumerate() {
                            // SAFETY: (t + i, g * GROUP + r) is inside y (tokens x rows,
                            // checked above); group g belongs to this part alone.
                            unsafe { *out.at((t + i) * rows + g * GROUP + r) = v };
                        }
                    }
                }
            }
        };
        pool.run_parts((tokens * w.data.len()).div_ceil(MIN_PART_BYTES), &job);
    });
    Ok(())
}

/// Chosen outputs of one input row (`out[i]` is row `ids[i]`), the bits of
/// [`matmul_packed`]: each chosen row's group is computed on this thread.
pub fn matvec_rows_packed(w: &PackedMatrix, x: &[f32], ids: &[u32], out: &mut [f32]) -> Result<()> {
    super::check_rows((w.rows, w.cols), x, ids, out)?;
    let Some(k) = super::group_kernels(Isa::detect(), w.ty) else {
        return Err(Error::InvalidArgument {
            name: "kernels::matvec_rows_packed isa",
            value: format!("{:?}", Isa::detect()),
            reason: "repacked weights run on x86-64 with AVX2".into(),
        });
    };
    let (nb, gbb) = (w.cols / 32, group_block_bytes(w.ty));
    with_scratch(nb, |xq: &mut [Q8Block]| {
        super::Act::quantize(x, xq);
        let mut o = [[0f32; GROUP]; WIDE];
        for (&id, y) in ids.iter().zip(out.iter_mut()) {
            let g = id as usize / GROUP;
            let group = w.data[g * nb * gbb..].as_ptr();
            // SAFETY: group g is `nb` group-blocks; `xq` holds the token's `nb` blocks.
            unsafe { k[0](group, nb, xq.as_ptr(), nb, &mut o) };
            *y = o[0][id as usize % GROUP];
        }
    });
    Ok(())
}
