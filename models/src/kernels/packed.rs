//! 32-value weight blocks (Q4_0, Q4_1, Q5_0, Q8_0) repacked at load, eight rows
//! interleaved (llama.cpp's repacking idea): one 256-bit vector holds four codes of each
//! of eight rows, so a byte dot product against four activation codes broadcast to all
//! lanes gives eight rows' sums at once, and one scale multiply, conversion and add serve
//! eight rows instead of one.
//!
//! Layout: rows in groups of [`GROUP`] (the last group padded with zero rows), each group
//! `nb` group-blocks of [`group_block_bytes`]: the eight rows' f16 scales (16 bytes); for
//! Q4_1 their eight f16 minimums (16 bytes), for Q5_0 their eight high-bit words (32
//! bytes, bits reordered so that bit `8i + k` is the high bit of code `4k + i`); then the
//! code chunks of 32 bytes, chunk k holding bytes 4k..4k+4 of each row's code bytes (row
//! r at 4r): four chunks of the 16 nibble bytes, or for Q8_0 eight of the 32 signed
//! codes. The same bytes as the GGML rows, reordered: [`PackedMatrix::ggml_blocks`] gives
//! a row back (a tied embedding is looked up from its repacked head).
//!
//! The K-quants (Q4_K, Q6_K) have layouts of their own in the same spirit ([`k`]).
//!
//! Each row's value is the portable reference's, bit for bit ([`super::scalar::dot_row`]:
//! per block the exact integer sum of the codes, then `acc + (d * d_x * sum + c * s)` in
//! that order, `c` the minimum, -8d / -16d, or 0 for Q8_0; for the K-quants
//! [`super::kquant::dot_q4k`] and [`super::kquant::dot_q6k`]), so a repacked product
//! equals the scalar one exactly, on every instruction set.

pub(crate) mod k;

use super::quant::{Q8Block, QType};
use super::{pool, quantize_rows, with_scratch, Act, Isa, Q8KBlock, MIN_PART_BYTES, WIDE};
use crate::{Error, Result};

/// Rows interleaved per group.
pub const GROUP: usize = 8;

/// Bytes of one group-block of `ty`: eight rows' blocks (a Q4_K one holds its scales
/// spread out: 1184 bytes for 8 x 144).
pub fn group_block_bytes(ty: QType) -> usize {
    match ty {
        QType::Q4K | QType::Q6K => k::group_block_bytes(ty),
        _ => GROUP * ty.block_bytes(),
    }
}

/// Eight rows times `T` (1 to [`WIDE`]) activation rows `xstride` blocks apart: row r of
/// the group for token t in `out[t][r]`.
pub(crate) type GroupFn<A> = unsafe fn(
    group: *const u8,
    nb: usize,
    x: *const A,
    xstride: usize,
    out: &mut [[f32; GROUP]; WIDE],
);

/// The group kernels of one repacked type, of every width, by activation format (x86-64
/// has them; elsewhere nothing builds one).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) enum GroupTiles {
    /// 32-value blocks against [`Q8Block`] activations.
    B32([GroupFn<Q8Block>; WIDE]),
    /// K-quant blocks against [`Q8KBlock`] activations.
    K([GroupFn<Q8KBlock>; WIDE]),
}

/// A matrix of `rows` outputs by `cols` inputs in the interleaved layout, owned.
#[derive(Debug, Clone)]
pub struct PackedMatrix {
    data: Vec<u8>,
    ty: QType,
    rows: usize,
    cols: usize,
}

/// Whether `ty` has a repacked layout (every type the kernels handle).
pub fn supports(ty: QType) -> bool {
    matches!(
        ty,
        QType::Q4_0 | QType::Q4_1 | QType::Q5_0 | QType::Q8_0 | QType::Q4K | QType::Q6K
    )
}

/// Bytes of codes in one GGML block of `ty` (at its end): 16 nibble bytes, or 32 codes.
fn code_bytes(ty: QType) -> usize {
    if ty == QType::Q8_0 {
        32
    } else {
        16
    }
}

impl PackedMatrix {
    /// Repacks `data`, `rows` GGML rows of `ty` of `cols` values (a multiple of 32); an
    /// error for a type without a repacked layout or a shape that does not fit `data`.
    pub fn new(ty: QType, data: &[u8], rows: usize, cols: usize) -> Result<Self> {
        // The GGML rows' shape, checked as for any matrix of `ty`.
        super::QMatrix::new(ty, data, rows, cols)?;
        let mut rest = data;
        Self::from_reader(ty, rows, cols, |buf| {
            let (now, later) = rest.split_at(buf.len());
            buf.copy_from_slice(now);
            rest = later;
            Ok(())
        })
    }

    /// Repacks `rows` GGML rows of `ty` of `cols` values that `read` supplies in order,
    /// one group (up to eight rows) per call into the buffer it is given: a matrix is
    /// never held twice (a tied embedding read from its file). An error for a type
    /// without a repacked layout, a width that is not whole blocks, or `read`'s error.
    pub fn from_reader(
        ty: QType,
        rows: usize,
        cols: usize,
        mut read: impl FnMut(&mut [u8]) -> Result<()>,
    ) -> Result<Self> {
        if !supports(ty) || !cols.is_multiple_of(ty.block_elems()) {
            return Err(Error::InvalidArgument {
                name: "kernels::PackedMatrix",
                value: format!("{ty:?} {rows}x{cols}"),
                reason: format!(
                    "only rows of whole {}-value blocks have a repacked layout",
                    ty.block_elems()
                ),
            });
        }
        let (bb, gbb) = (ty.block_bytes(), group_block_bytes(ty));
        let nb = cols / ty.block_elems();
        let mut out = vec![0u8; rows.div_ceil(GROUP) * nb * gbb];
        let mut buf = vec![0u8; GROUP * nb * bb];
        for g in 0..rows.div_ceil(GROUP) {
            let lanes = (rows - g * GROUP).min(GROUP);
            let buf = &mut buf[..lanes * nb * bb];
            read(buf)?;
            for (lane, row) in buf.chunks_exact(nb * bb).enumerate() {
                for (b, blk) in row.chunks_exact(bb).enumerate() {
                    let o = &mut out[(g * nb + b) * gbb..][..gbb];
                    repack_block(ty, blk, lane, o);
                }
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

    /// Blocks `first..` of row `row` as GGML blocks, written into `out` (a whole number of
    /// blocks); an error when they are outside the matrix.
    pub fn ggml_blocks(&self, row: usize, first: usize, out: &mut [u8]) -> Result<()> {
        let (bb, gbb) = (self.ty.block_bytes(), group_block_bytes(self.ty));
        let nb = self.cols / self.ty.block_elems();
        let count = out.len() / bb;
        if row >= self.rows || !out.len().is_multiple_of(bb) || first + count > nb {
            return Err(Error::InvalidArgument {
                name: "kernels::PackedMatrix::ggml_blocks",
                value: format!("row {row}, blocks {first}.., {} bytes", out.len()),
                reason: format!(
                    "the matrix has {} rows of {nb} blocks of {bb} bytes",
                    self.rows
                ),
            });
        }
        let (g, lane) = (row / GROUP, row % GROUP);
        for (b, blk) in (first..).zip(out.chunks_exact_mut(bb)) {
            let o = &self.data[(g * nb + b) * gbb..][..gbb];
            unpack_block(self.ty, o, lane, blk);
        }
        Ok(())
    }
}

/// Writes a row's code bytes `codes` (a multiple of 4) as row `lane` of the chunks at
/// `dst`: bytes 4c..4c+4 to chunk c, at 32c + 4 * lane.
fn put_chunks(codes: &[u8], lane: usize, dst: &mut [u8]) {
    for (c, four) in codes.chunks_exact(4).enumerate() {
        dst[32 * c + 4 * lane..][..4].copy_from_slice(four);
    }
}

/// Reads row `lane` of the chunks at `src` back into `codes` ([`put_chunks`]' inverse).
fn get_chunks(src: &[u8], lane: usize, codes: &mut [u8]) {
    for (c, four) in codes.chunks_exact_mut(4).enumerate() {
        four.copy_from_slice(&src[32 * c + 4 * lane..][..4]);
    }
}

/// Writes GGML block `blk` of `ty` as row `lane` of group-block `o`.
fn repack_block(ty: QType, blk: &[u8], lane: usize, o: &mut [u8]) {
    if matches!(ty, QType::Q4K | QType::Q6K) {
        return k::repack_block(ty, blk, lane, o);
    }
    o[2 * lane..2 * lane + 2].copy_from_slice(&blk[0..2]);
    let n = code_bytes(ty);
    let nib = o.len() - GROUP * n;
    put_chunks(&blk[blk.len() - n..], lane, &mut o[nib..]);
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

/// Reads row `lane` of group-block `o` back into GGML block `blk` ([`repack_block`]'s
/// inverse).
fn unpack_block(ty: QType, o: &[u8], lane: usize, blk: &mut [u8]) {
    if matches!(ty, QType::Q4K | QType::Q6K) {
        return k::unpack_block(ty, o, lane, blk);
    }
    blk[0..2].copy_from_slice(&o[2 * lane..2 * lane + 2]);
    let (n, bb) = (code_bytes(ty), blk.len());
    get_chunks(&o[o.len() - GROUP * n..], lane, &mut blk[bb - n..]);
    match ty {
        QType::Q4_1 => blk[2..4].copy_from_slice(&o[16 + 2 * lane..16 + 2 * lane + 2]),
        QType::Q5_0 => {
            let w = &o[16 + 4 * lane..20 + 4 * lane];
            let moved = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            let qh = (0..32).fold(0u32, |acc, e| {
                acc | (((moved >> (8 * (e % 4) + e / 4)) & 1) << e)
            });
            blk[2..6].copy_from_slice(&qh.to_le_bytes());
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
    super::check_product((w.rows, w.cols), x, tokens, y)?;
    let tiles = group_tiles(isa, w.ty, "kernels::matmul_packed isa")?;
    if tokens == 0 || w.rows == 0 {
        return Ok(());
    }
    match tiles {
        GroupTiles::B32(k) => run_groups(pool, w, x, tokens, y, &k),
        GroupTiles::K(k) => run_groups(pool, w, x, tokens, y, &k),
    }
    Ok(())
}

/// The group kernels of `ty` on `isa`, or an error naming `what` where it has none.
fn group_tiles(isa: Isa, ty: QType, what: &'static str) -> Result<GroupTiles> {
    super::group_kernels(isa, ty).ok_or_else(|| Error::InvalidArgument {
        name: what,
        value: format!("{isa:?}"),
        reason: "repacked weights run on x86-64 with AVX2; keep GGML rows elsewhere".into(),
    })
}

/// Quantize `x` into this thread's scratch, then run the group kernels `k` over every
/// group of eight rows, [`WIDE`] tokens at a time, groups split over the pool.
fn run_groups<A: Act>(
    pool: &pool::Pool,
    w: &PackedMatrix,
    x: &[f32],
    tokens: usize,
    y: &mut [f32],
    k: &[GroupFn<A>; WIDE],
) {
    let rows = w.rows;
    let (nb, gbb) = (w.cols / A::ELEMS, group_block_bytes(w.ty));
    with_scratch(tokens * nb, |xq: &mut [A]| {
        quantize_rows(pool, x, tokens, xq);
        let xq: &[A] = xq;
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
}

/// Chosen outputs of one input row (`out[i]` is row `ids[i]`), the bits of
/// [`matmul_packed`]: each chosen row's group is computed on this thread, once for a run
/// of ids in one group (ids in ascending order share groups).
pub fn matvec_rows_packed(w: &PackedMatrix, x: &[f32], ids: &[u32], out: &mut [f32]) -> Result<()> {
    super::check_rows((w.rows, w.cols), x, ids, out)?;
    match group_tiles(Isa::detect(), w.ty, "kernels::matvec_rows_packed isa")? {
        GroupTiles::B32(k) => rows_of_groups(w, x, ids, out, k[0]),
        GroupTiles::K(k) => rows_of_groups(w, x, ids, out, k[0]),
    }
    Ok(())
}

/// Quantize `x` once, then compute each chosen row's group with the one-token kernel `k`
/// (ids checked by the caller).
fn rows_of_groups<A: Act>(
    w: &PackedMatrix,
    x: &[f32],
    ids: &[u32],
    out: &mut [f32],
    k: GroupFn<A>,
) {
    let (nb, gbb) = (w.cols / A::ELEMS, group_block_bytes(w.ty));
    with_scratch(nb, |xq: &mut [A]| {
        A::quantize(x, xq);
        let mut o = [[0f32; GROUP]; WIDE];
        let mut last = usize::MAX;
        for (&id, y) in ids.iter().zip(out.iter_mut()) {
            let g = id as usize / GROUP;
            if g != last {
                let group = w.data[g * nb * gbb..].as_ptr();
                // SAFETY: group g is `nb` group-blocks; `xq` holds the token's `nb` blocks.
                unsafe { k(group, nb, xq.as_ptr(), nb, &mut o) };
                last = g;
            }
            *y = o[0][id as usize % GROUP];
        }
    });
}
