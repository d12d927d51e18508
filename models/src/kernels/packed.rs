//! Q4_1 weights repacked at load, eight rows interleaved (llama.cpp's repacking idea):
//! one 256-bit vector holds four codes of each of eight rows, so a byte dot product
//! against four activation codes broadcast to all lanes gives eight rows' sums at once,
//! and one scale multiply, conversion and add serve eight rows instead of one.
//!
//! Layout: rows in groups of [`GROUP`] (the last group padded with zero rows), each group
//! `nb` group-blocks of [`GROUP_BLOCK_BYTES`]: the eight rows' f16 scales, their eight
//! f16 minimums, then four 32-byte chunks, chunk k holding bytes 4k..4k+4 of each row's
//! 16 nibble bytes (row r at 4r). The same bytes as the GGML rows, reordered.
//!
//! Each row's value is the portable reference's, bit for bit ([`super::scalar::dot_row`]:
//! per block the exact integer sum, then `acc + (d * d_x * sum + m * s_x)` in that order),
//! so a repacked product equals the scalar one exactly, on every instruction set.

use super::quant::{Q8Block, QType};
use super::{pool, quantize_rows, with_scratch, Isa, MIN_PART_BYTES, WIDE};
use crate::{Error, Result};

/// Rows interleaved per group.
pub const GROUP: usize = 8;
/// Bytes of one group-block: 8 f16 scales, 8 f16 minimums, 8 rows x 16 nibble bytes.
pub const GROUP_BLOCK_BYTES: usize = GROUP * 20;

/// Eight rows times `T` (1 to [`WIDE`]) activation rows `xstride` blocks apart: row r of
/// the group for token t in `out[t][r]`.
pub(crate) type GroupFn = unsafe fn(
    group: *const u8,
    nb: usize,
    x: *const Q8Block,
    xstride: usize,
    out: &mut [[f32; GROUP]; WIDE],
);

/// A Q4_1 matrix of `rows` outputs by `cols` inputs in the interleaved layout, owned.
#[derive(Debug, Clone)]
pub struct PackedQ4_1 {
    data: Vec<u8>,
    rows: usize,
    cols: usize,
}

impl PackedQ4_1 {
    /// Repacks `data`, `rows` GGML Q4_1 rows of `cols` values (a multiple of 32).
    pub fn new(data: &[u8], rows: usize, cols: usize) -> Result<Self> {
        // The GGML rows' shape, checked as for any Q4_1 matrix.
        let (rows, cols) = {
            let m = super::QMatrix::new(QType::Q4_1, data, rows, cols)?;
            (m.rows(), m.cols())
        };
        let nb = cols / 32;
        let groups = rows.div_ceil(GROUP);
        let mut out = vec![0u8; groups * nb * GROUP_BLOCK_BYTES];
        for (r, row) in data.chunks_exact(nb * 20).enumerate() {
            let (g, lane) = (r / GROUP, r % GROUP);
            for (b, blk) in row.chunks_exact(20).enumerate() {
                let o = &mut out[(g * nb + b) * GROUP_BLOCK_BYTES..][..GROUP_BLOCK_BYTES];
                o[2 * lane..2 * lane + 2].copy_from_slice(&blk[0..2]);
                o[16 + 2 * lane..16 + 2 * lane + 2].copy_from_slice(&blk[2..4]);
                for k in 0..4 {
                    let at = 32 + 32 * k + 4 * lane;
                    o[at..at + 4].copy_from_slice(&blk[4 + 4 * k..8 + 4 * k]);
                }
            }
        }
        Ok(Self {
            data: out,
            rows,
            cols,
        })
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

/// Whether this CPU has kernels for the repacked layout (x86-64 with AVX2).
pub fn available() -> bool {
    super::group_kernels(Isa::detect()).is_some()
}

/// `y = x W^T` for a repacked `w` on the detected instruction set and the global pool.
pub fn matmul_packed(w: &PackedQ4_1, x: &[f32], tokens: usize, y: &mut [f32]) -> Result<()> {
    matmul_packed_on(Isa::detect(), pool::global(), w, x, tokens, y)
}

/// [`matmul_packed`] on a given instruction set and pool; an error where `isa` has no
/// kernels for the layout.
pub fn matmul_packed_on(
    isa: Isa,
    pool: &pool::Pool,
    w: &PackedQ4_1,
    x: &[f32],
    tokens: usize,
    y: &mut [f32],
) -> Result<()> {
    let (rows, cols) = (w.rows, w.cols);
    super::check_product((rows, cols), x, tokens, y)?;
    let Some(k) = super::group_kernels(isa) else {
        return Err(Error::InvalidArgument {
            name: "kernels::matmul_packed isa",
            value: format!("{isa:?}"),
            reason: "repacked Q4_1 runs on x86-64 with AVX2; keep GGML rows elsewhere".into(),
        });
    };
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
                let group = w.data[g * nb * GROUP_BLOCK_BYTES..].as_ptr();
                let lanes = (rows - g * GROUP).min(GROUP);
                for t in (0..tokens).step_by(WIDE) {
                    let width = (tokens - t).min(WIDE);
                    // SAFETY: group g is `nb` group-blocks (PackedQ4_1::new); tokens
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
pub fn matvec_rows_packed(w: &PackedQ4_1, x: &[f32], ids: &[u32], out: &mut [f32]) -> Result<()> {
    super::check_rows((w.rows, w.cols), x, ids, out)?;
    let Some(k) = super::group_kernels(Isa::detect()) else {
        return Err(Error::InvalidArgument {
            name: "kernels::matvec_rows_packed isa",
            value: format!("{:?}", Isa::detect()),
            reason: "repacked Q4_1 runs on x86-64 with AVX2".into(),
        });
    };
    let nb = w.cols / 32;
    with_scratch(nb, |xq: &mut [Q8Block]| {
        super::Act::quantize(x, xq);
        let mut o = [[0f32; GROUP]; WIDE];
        for (&id, y) in ids.iter().zip(out.iter_mut()) {
            let g = id as usize / GROUP;
            let group = w.data[g * nb * GROUP_BLOCK_BYTES..].as_ptr();
            // SAFETY: group g is `nb` group-blocks; `xq` holds the token's `nb` blocks.
            unsafe { k[0](group, nb, xq.as_ptr(), nb, &mut o) };
            *y = o[0][id as usize % GROUP];
        }
    });
    Ok(())
}
