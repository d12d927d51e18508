//! bora's quantized CPU kernels: `y = x W^T` straight from GGML weight blocks.
//!
//! The activation rows are quantized once per product to 8-bit blocks (llama.cpp's
//! Q8_1 layout, f16-rounded scales), then every weight row is an integer dot product per
//! block with f32 scale accumulation. Prefill takes [`WIDE`] tokens per pass over a weight
//! row, so each unpacked weight block is reused that many times; decode takes 4 rows per
//! pass. The instruction set is detected once (AVX-512 VNNI or AVX2+FMA+F16C on x86-64,
//! NEON with or without the dot-product extension on aarch64, else the portable scalar
//! reference); output rows are split
//! over the [`pool`] threads, and one thread runs inline with no pool at all.
//!
//! On x86-64 with AVX2 the weights are repacked at load ([`packed`], every type): eight
//! rows interleaved, so one byte product serves eight rows, each row summed exactly as
//! the scalar reference.

pub mod kquant;
pub mod packed;
pub mod pool;
pub mod quant;
pub mod scalar;

#[cfg(target_arch = "x86_64")]
mod avx2;
#[cfg(target_arch = "x86_64")]
mod avx2_k;
#[cfg(target_arch = "x86_64")]
mod avx2_packed;
#[cfg(target_arch = "x86_64")]
mod avx2_packed_k;
#[cfg(target_arch = "aarch64")]
mod neon;
#[cfg(target_arch = "aarch64")]
mod neon_k;

#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::sync::OnceLock;
use std::thread::LocalKey;

pub use kquant::Q8KBlock;
pub use pool::Pool;
pub use quant::{Q8Block, QType};

use crate::{Error, Result};

/// One weight row (`nb` blocks at `row`) times `T` activation rows `xstride` blocks
/// apart (`T` fixed per function: 1 or [`WIDE`]), results in `out[..T]`.
pub(crate) type TileFn<A> =
    unsafe fn(row: *const u8, nb: usize, x: *const A, xstride: usize, out: &mut [f32; WIDE]);

/// Four weight rows (`nb` blocks each, `rstride` bytes apart from `row`) times one
/// activation row of `nb` blocks at `x`, results in `out`; bit for bit what the 1-token
/// [`TileFn`] gives row by row.
pub(crate) type RowsFn<A> =
    unsafe fn(row: *const u8, rstride: usize, nb: usize, x: *const A, out: &mut [f32; 4]);

/// The tile kernel of every width from 1 to [`WIDE`] tokens, at index width - 1.
pub(crate) type Widths<A> = [TileFn<A>; WIDE];

/// Every width of a generic tile function `f::<T>` (or `f::<T, K>`, `K` a const item) as
/// [`Widths`] (`WIDE` is 8).
macro_rules! widths {
    ($f:ident $(, $k:ident)?) => {
        [
            $f::<1 $(, $k)?>, $f::<2 $(, $k)?>, $f::<3 $(, $k)?>, $f::<4 $(, $k)?>,
            $f::<5 $(, $k)?>, $f::<6 $(, $k)?>, $f::<7 $(, $k)?>, $f::<8 $(, $k)?>,
        ]
    };
}
pub(crate) use widths;

/// The 1- to [`WIDE`]-token kernels of one weight type, by activation format, and the
/// 4-row kernel for single tokens (decode) where the instruction set has one.
pub(crate) enum Tiles {
    /// 32-value weight blocks against [`Q8Block`] activations.
    B32(Widths<Q8Block>, Option<RowsFn<Q8Block>>),
    /// 256-value K-quant blocks against [`Q8KBlock`] activations.
    K(Widths<Q8KBlock>, Option<RowsFn<Q8KBlock>>),
}

/// An activation block format: how rows are quantized and where the scratch lives.
trait Act: Copy + Default + Sync + 'static {
    /// Values per block.
    const ELEMS: usize;
    /// Quantize whole blocks of `x` into `out`.
    fn quantize(x: &[f32], out: &mut [Self]);
    /// This thread's reusable buffer.
    fn scratch() -> &'static LocalKey<RefCell<Vec<Self>>>;
}

thread_local! {
    /// Quantized activations of the current product, reused between calls.
    static SCRATCH: RefCell<Vec<Q8Block>> = const { RefCell::new(Vec::new()) };
    /// The same for K-quant products.
    static SCRATCH_K: RefCell<Vec<Q8KBlock>> = const { RefCell::new(Vec::new()) };
}

impl Act for Q8Block {
    const ELEMS: usize = 32;
    fn quantize(x: &[f32], out: &mut [Self]) {
        quant::quantize_q8(x, out)
    }
    fn scratch() -> &'static LocalKey<RefCell<Vec<Self>>> {
        &SCRATCH
    }
}

impl Act for Q8KBlock {
    const ELEMS: usize = 256;
    fn quantize(x: &[f32], out: &mut [Self]) {
        kquant::quantize_q8k(x, out)
    }
    fn scratch() -> &'static LocalKey<RefCell<Vec<Self>>> {
        &SCRATCH_K
    }
}

/// Tokens per pass of the wide tile over a weight row (prefill): each unpacked weight
/// block serves this many tokens.
pub(crate) const WIDE: usize = 8;

/// Weight bytes (times tokens) a thread must have to be worth involving in a product:
/// smaller products use fewer threads (waking and joining a worker costs about a
/// microsecond; 32 KiB take several). Measured on a 16-core machine before this limit,
/// SmolLM2 decode fell from 96 tok/s at 4 threads to 37 at 16.
const MIN_PART_BYTES: usize = 32 * 1024;

/// An instruction set the kernels can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isa {
    /// Portable Rust, the reference every other kernel is tested against.
    Scalar,
    /// x86-64 AVX2 with FMA and F16C.
    Avx2,
    /// AVX2 plus AVX-512 VNNI (with VL): the byte dot products in one instruction.
    Avx512Vnni,
    /// aarch64 NEON (Advanced SIMD) without the dot-product extension (Cortex-A53/A72).
    Neon,
    /// NEON with the dot-product extension (`SDOT`; ARMv8.2-A and later, e.g. Jetson
    /// Orin's Cortex-A78AE): the same results as [`Isa::Neon`], bit for bit.
    NeonDotprod,
}

impl Isa {
    /// The fastest instruction set this CPU supports (detected once).
    pub fn detect() -> Self {
        static ISA: OnceLock<Isa> = OnceLock::new();
        *ISA.get_or_init(|| Self::available().last().copied().unwrap_or(Self::Scalar))
    }

    /// Every instruction set this CPU supports, slowest (scalar) first.
    pub fn available() -> Vec<Self> {
        #[allow(unused_mut)]
        let mut v = vec![Self::Scalar];
        #[cfg(target_arch = "x86_64")]
        if avx2::available() {
            v.push(Self::Avx2);
        }
        #[cfg(target_arch = "x86_64")]
        if avx2::vnni_available() {
            v.push(Self::Avx512Vnni);
        }
        #[cfg(target_arch = "aarch64")]
        if neon::available() {
            v.push(Self::Neon);
        }
        #[cfg(target_arch = "aarch64")]
        if neon::dotprod_available() {
            v.push(Self::NeonDotprod);
        }
        v
    }

    fn tiles(self, ty: QType) -> Tiles {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => avx2::tiles(ty, false),
            #[cfg(target_arch = "x86_64")]
            Self::Avx512Vnni => avx2::tiles(ty, true),
            #[cfg(target_arch = "aarch64")]
            Self::Neon => neon::tiles(ty, false),
            #[cfg(target_arch = "aarch64")]
            Self::NeonDotprod => neon::tiles(ty, true),
            _ => scalar_tiles(ty),
        }
    }
}

/// The kernels of `ty`'s repacked layout ([`packed`]) of every width for `isa`, where
/// it has them (x86-64 with AVX2).
fn group_kernels(isa: Isa, ty: QType) -> Option<packed::GroupTiles> {
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => avx2_packed::plain(ty),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512Vnni => avx2_packed::vnni(ty),
        _ => {
            let _ = ty;
            None
        }
    }
}

fn scalar_tiles(ty: QType) -> Tiles {
    macro_rules! wrap {
        ($act:ty, $bb:expr, $dot:expr) => {{
            /// # Safety
            /// As [`TileFn`].
            unsafe fn tw<const T: usize>(
                row: *const u8,
                nb: usize,
                x: *const $act,
                xs: usize,
                o: &mut [f32; WIDE],
            ) {
                // SAFETY: caller contract of TileFn.
                unsafe { tile_scalar::<$act, T>($dot, $bb, row, nb, x, xs, o) }
            }
            widths!(tw) as Widths<$act>
        }};
    }
    macro_rules! b32 {
        ($t:expr) => {{
            let w = wrap!(Q8Block, $t.block_bytes(), |r: &[u8], x: &[Q8Block]| {
                scalar::dot_row($t, r, x)
            });
            Tiles::B32(w, None)
        }};
    }
    match ty {
        QType::Q4_0 => b32!(QType::Q4_0),
        QType::Q4_1 => b32!(QType::Q4_1),
        QType::Q5_0 => b32!(QType::Q5_0),
        QType::Q8_0 => b32!(QType::Q8_0),
        QType::Q4K => Tiles::K(wrap!(Q8KBlock, kquant::Q4K_BYTES, kquant::dot_q4k), None),
        QType::Q6K => Tiles::K(wrap!(Q8KBlock, kquant::Q6K_BYTES, kquant::dot_q6k), None),
    }
}

/// # Safety
/// As [`TileFn`], with `row` holding `nb` blocks of `bb` bytes.
unsafe fn tile_scalar<A, const T: usize>(
    dot: impl Fn(&[u8], &[A]) -> f32,
    bb: usize,
    row: *const u8,
    nb: usize,
    x: *const A,
    xstride: usize,
    out: &mut [f32; WIDE],
) {
    // SAFETY: the caller guarantees `nb` blocks of `bb` bytes at `row`.
    let rr = unsafe { std::slice::from_raw_parts(row, nb * bb) };
    for (t, o) in out.iter_mut().enumerate().take(T) {
        // SAFETY: the caller guarantees `nb` blocks for token t at `x + t * xstride`.
        let xr = unsafe { std::slice::from_raw_parts(x.add(t * xstride), nb) };
        *o = dot(rr, xr);
    }
}

/// A borrowed quantized matrix of `rows` outputs by `cols` inputs, row-major GGML blocks.
#[derive(Debug, Clone, Copy)]
pub struct QMatrix<'a> {
    ty: QType,
    data: &'a [u8],
    rows: usize,
    cols: usize,
}

impl<'a> QMatrix<'a> {
    /// View `data` as a (rows, cols) matrix of `ty`; `cols` must be a whole number of
    /// blocks and `data` exactly the matrix's bytes.
    pub fn new(ty: QType, data: &'a [u8], rows: usize, cols: usize) -> Result<Self> {
        let be = ty.block_elems();
        if !cols.is_multiple_of(be) || data.len() != rows * (cols / be) * ty.block_bytes() {
            return Err(Error::InvalidArgument {
                name: "kernels::QMatrix",
                value: format!("{ty:?} {rows}x{cols}, {} bytes", data.len()),
                reason: format!(
                    "the row width must be a multiple of {be} and the data {} bytes",
                    rows * (cols / be) * ty.block_bytes()
                ),
            });
        }
        Ok(Self {
            ty,
            data,
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

    /// Weight type.
    pub fn qtype(&self) -> QType {
        self.ty
    }

    /// Bytes of one row.
    fn row_bytes(&self) -> usize {
        self.cols / self.ty.block_elems() * self.ty.block_bytes()
    }
}

/// `y = x W^T` on the detected instruction set and the process-wide pool: `x` is
/// `tokens` rows of `w.cols()` f32, `y` receives `tokens` rows of `w.rows()` f32.
pub fn matmul(w: &QMatrix<'_>, x: &[f32], tokens: usize, y: &mut [f32]) -> Result<()> {
    matmul_on(Isa::detect(), pool::global(), w, x, tokens, y)
}

/// Quantize `tokens` rows of `x` into `xq`, split over the pool by tokens when there are
/// enough of them (prefill: otherwise the other threads wait through it). Each block is
/// quantized alone, so the split never changes a bit.
fn quantize_rows<A: Act>(pool: &Pool, x: &[f32], tokens: usize, xq: &mut [A]) {
    let (cols, nb) = (x.len() / tokens.max(1), xq.len() / tokens.max(1));
    let parts = (x.len() / MIN_QUANT_VALUES).min(tokens);
    if parts < 2 {
        return A::quantize(x, xq);
    }
    let xp = pool::PartPtr::new(xq.as_mut_ptr());
    pool.run_parts(parts, &|part, parts| {
        let (t0, t1) = (tokens * part / parts, tokens * (part + 1) / parts);
        // SAFETY: rows t0..t1 of `xq` (nb blocks each) belong to this part alone.
        let out = unsafe { std::slice::from_raw_parts_mut(xp.at(t0 * nb), (t1 - t0) * nb) };
        A::quantize(&x[t0 * cols..t1 * cols], out);
    });
}

/// Activation values a thread must have to be worth involving in their quantization.
const MIN_QUANT_VALUES: usize = 16 * 1024;

/// [`matmul`] on a given instruction set and pool (tests compare every combination).
pub fn matmul_on(
    isa: Isa,
    pool: &Pool,
    w: &QMatrix<'_>,
    x: &[f32],
    tokens: usize,
    y: &mut [f32],
) -> Result<()> {
    check_product((w.rows, w.cols), x, tokens, y)?;
    if tokens == 0 || w.rows == 0 {
        return Ok(());
    }
    match isa.tiles(w.ty) {
        Tiles::B32(tiles, r4) => run(pool, w, x, tokens, y, &tiles, r4),
        Tiles::K(tiles, r4) => run(pool, w, x, tokens, y, &tiles, r4),
    }
    Ok(())
}

/// Checks that `x` holds `tokens` rows of `cols` and `y` as many rows of `rows`.
fn check_product((rows, cols): (usize, usize), x: &[f32], tokens: usize, y: &[f32]) -> Result<()> {
    if x.len() != tokens * cols || y.len() != tokens * rows {
        return Err(Error::InvalidArgument {
            name: "kernels::matmul",
            value: format!("x {} y {} tokens {tokens}", x.len(), y.len()),
            reason: format!("expected x = tokens x {cols} and y = tokens x {rows}"),
        });
    }
    Ok(())
}

/// Checks a chosen-rows product: `x` one row of `cols`, one output per id, ids < `rows`.
fn check_rows((rows, cols): (usize, usize), x: &[f32], ids: &[u32], out: &[f32]) -> Result<()> {
    if x.len() != cols || out.len() != ids.len() {
        return Err(Error::InvalidArgument {
            name: "kernels::matvec_rows",
            value: format!("x {} ids {} out {}", x.len(), ids.len(), out.len()),
            reason: format!("expected x = {cols} values and one output per id"),
        });
    }
    if let Some(&bad) = ids.iter().find(|&&id| id as usize >= rows) {
        return Err(Error::InvalidArgument {
            name: "kernels::matvec_rows id",
            value: bad.to_string(),
            reason: format!("the matrix has {rows} rows"),
        });
    }
    Ok(())
}

/// Fewest tokens left over from the [`WIDE`] tiles that take one tile of their own width;
/// fewer go one by one through the 4-row kernel. Measured on a 2-core AMD EPYC (AVX2),
/// SmolLM2's 1536 x 576 Q4_1 product, the two ways alternating in one process: 3 left over
/// 81 us tiled vs 93 us one by one, 5: 107 vs 153, 13 tokens: 255 vs 301; but 2: 84 vs 61.
const MIN_TILE: usize = 3;

/// Quantize `x` into this thread's scratch, then run the tiles over all output rows,
/// split over the pool's threads: [`WIDE`] tokens at a time per row, the remaining
/// [`MIN_TILE`] to `WIDE - 1` tokens in one tile of their width, and fewer (decode: a
/// single token) 4 rows at a time where there is a 4-row kernel. Every width gives each
/// token the same bits.
fn run<A: Act>(
    pool: &Pool,
    w: &QMatrix<'_>,
    x: &[f32],
    tokens: usize,
    y: &mut [f32],
    tiles: &Widths<A>,
    r4: Option<RowsFn<A>>,
) {
    let (rows, nb) = (w.rows, w.cols / A::ELEMS);
    with_scratch(tokens * nb, |xq: &mut [A]| {
        quantize_rows(pool, x, tokens, xq);
        let xq: &[A] = xq;
        let out = pool::PartPtr::new(y.as_mut_ptr());
        let row_bytes = w.row_bytes();
        let job = |part: usize, parts: usize| {
            let (r0, r1) = (rows * part / parts, rows * (part + 1) / parts);
            let row_at = |r: usize| w.data[r * row_bytes..(r + 1) * row_bytes].as_ptr();
            let mut o = [0f32; WIDE];
            let rest = tokens % WIDE;
            let tiled = if rest < MIN_TILE {
                tokens - rest
            } else {
                tokens
            };
            for r in r0..r1 {
                for t in (0..tiled).step_by(WIDE) {
                    let width = (tiled - t).min(WIDE);
                    // SAFETY: row r is `nb` blocks of `w.ty` (checked by QMatrix::new);
                    // tokens t..t+width each have `nb` blocks in `xq` at stride `nb`.
                    unsafe { tiles[width - 1](row_at(r), nb, xq.as_ptr().add(t * nb), nb, &mut o) };
                    for (i, &v) in o[..width].iter().enumerate() {
                        // SAFETY: (t + i, r) is inside y (tokens x rows, checked by
                        // the caller) and row r belongs to this part alone.
                        unsafe { *out.at((t + i) * rows + r) = v };
                    }
                }
            }
            let t1 = tiles[0];
            for t in tiled..tokens {
                let xt = xq[t * nb..].as_ptr();
                let mut r = r0;
                if let Some(r4) = r4 {
                    while r + 4 <= r1 {
                        let mut o4 = [0f32; 4];
                        // SAFETY: rows r..r+4 are `row_bytes` apart, each `nb` blocks;
                        // token t has `nb` blocks at `xt`.
                        unsafe { r4(row_at(r), row_bytes, nb, xt, &mut o4) };
                        for (i, &v) in o4.iter().enumerate() {
                            // SAFETY: as above, rows r..r+4 belong to this part.
                            unsafe { *out.at(t * rows + r + i) = v };
                        }
                        r += 4;
                    }
                }
                for r in r..r1 {
                    // SAFETY: as for the wide tile, one token.
                    unsafe { t1(row_at(r), nb, xt, nb, &mut o) };
                    // SAFETY: as above.
                    unsafe { *out.at(t * rows + r) = o[0] };
                }
            }
        };
        // Weight bytes per part decide: tiny products stay on this thread.
        pool.run_parts((tokens * w.data.len()).div_ceil(MIN_PART_BYTES), &job);
    });
}

/// Runs `f` on `len` activation blocks of this thread's scratch (a fresh buffer when the
/// scratch is already borrowed further up this thread's stack).
fn with_scratch<A: Act>(len: usize, f: impl FnOnce(&mut [A])) {
    A::scratch().with(|cell| {
        let mut fresh = Vec::new();
        let mut borrowed = cell.try_borrow_mut();
        let buf: &mut Vec<A> = match borrowed.as_mut() {
            Ok(b) => b,
            Err(_) => &mut fresh,
        };
        if buf.len() < len {
            buf.resize(len, A::default());
        }
        f(&mut buf[..len]);
    });
}

/// Chosen output rows of a one-token product: `out[i]` is row `ids[i]` of `x W^T`, bit
/// for bit what [`matmul`] gives that row. For the logits of the few tokens a grammar
/// allows, without the rest of a 49,152-row output head; runs on this thread alone.
pub fn matvec_rows(w: &QMatrix<'_>, x: &[f32], ids: &[u32], out: &mut [f32]) -> Result<()> {
    matvec_rows_on(Isa::detect(), w, x, ids, out)
}

/// [`matvec_rows`] on a given instruction set (tests compare every one).
pub fn matvec_rows_on(
    isa: Isa,
    w: &QMatrix<'_>,
    x: &[f32],
    ids: &[u32],
    out: &mut [f32],
) -> Result<()> {
    check_rows((w.rows, w.cols), x, ids, out)?;
    match isa.tiles(w.ty) {
        Tiles::B32(tiles, _) => rows_of(w, x, ids, out, tiles[0]),
        Tiles::K(tiles, _) => rows_of(w, x, ids, out, tiles[0]),
    }
    Ok(())
}

/// Quantize `x` once, then run the one-token tile over each chosen row (the ids are
/// checked by the caller).
fn rows_of<A: Act>(w: &QMatrix<'_>, x: &[f32], ids: &[u32], out: &mut [f32], t1: TileFn<A>) {
    let nb = w.cols / A::ELEMS;
    let row_bytes = w.row_bytes();
    with_scratch(nb, |xq: &mut [A]| {
        A::quantize(x, xq);
        let mut o = [0f32; WIDE];
        for (&id, y) in ids.iter().zip(out.iter_mut()) {
            let row = &w.data[id as usize * row_bytes..(id as usize + 1) * row_bytes];
            // SAFETY: the row is `nb` blocks of `w.ty` (checked by QMatrix::new); `xq`
            // holds the one token's `nb` blocks.
            unsafe { t1(row.as_ptr(), nb, xq.as_ptr(), nb, &mut o) };
            *y = o[0];
        }
    });
}
