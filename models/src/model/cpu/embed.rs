//! Embedding rows straight from the quantized token matrix: only looked-up rows are
//! dequantized, into the caller's buffer, with no allocation. A tied embedding whose head
//! was repacked ([`crate::kernels::packed`]) is read from the head's repacked rows, so
//! the matrix is held once.

use std::sync::Arc;

use candle_core::quantized::k_quants::{
    BlockQ2K, BlockQ3K, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K,
    BlockQ8K, BlockQ8_0, BlockQ8_1, GgmlType,
};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

use super::ops::f16_bits_to_f32;
use crate::kernels::packed::PackedMatrix;
use crate::{Error, Result};

/// The token embedding matrix (vocab rows of hidden values), quantized.
#[derive(Debug, Clone)]
pub enum Embedding {
    /// GGML blocks in candle's tensor (any device).
    Blocks(Arc<QTensor>),
    /// The repacked rows of a tied head (CPU), of GGML type `dtype`.
    Packed(Arc<PackedMatrix>, GgmlDType),
}

impl Embedding {
    /// Dequantize row `row` into `out` (hidden f32); an error for a row outside the
    /// matrix or a width that is not the matrix's.
    pub fn dequantize_row(&self, row: usize, out: &mut [f32]) -> Result<()> {
        match self {
            Self::Blocks(q) => dequantize_row(q, row, out),
            Self::Packed(p, dtype) => packed_row(p, *dtype, row, out),
        }
    }

    /// The rows of `ids` (u32, any shape) as a (…, hidden) f32 tensor on the matrix's
    /// device: candle's lookup for GGML blocks, [`Self::dequantize_row`] otherwise.
    pub fn rows(&self, ids: &Tensor) -> Result<Tensor> {
        match self {
            Self::Blocks(q) => Ok(q.embedding(ids)?),
            Self::Packed(p, _) => {
                let h = p.cols();
                let list = ids.flatten_all()?.to_vec1::<u32>()?;
                let mut x = vec![0f32; list.len() * h];
                for (row, &t) in x.chunks_exact_mut(h).zip(&list) {
                    self.dequantize_row(t as usize, row)?;
                }
                let mut dims = ids.dims().to_vec();
                dims.push(h);
                Ok(Tensor::from_vec(x, dims, &Device::Cpu)?)
            }
        }
    }

    /// Bytes of the quantized matrix.
    pub fn bytes(&self) -> usize {
        match self {
            Self::Blocks(q) => q.storage_size_in_bytes(),
            Self::Packed(p, _) => p.bytes(),
        }
    }
}

/// [`Embedding::dequantize_row`] of a repacked matrix: its GGML blocks rebuilt a few at a
/// time in an aligned stack buffer, then decoded as any GGML row.
fn packed_row(p: &PackedMatrix, dtype: GgmlDType, row: usize, out: &mut [f32]) -> Result<()> {
    let (bs, ts) = (dtype.block_size(), dtype.type_size());
    if out.len() != p.cols() || bs != 32 {
        return Err(Error::InvalidArgument {
            name: "embedding row",
            value: format!("{} values", out.len()),
            reason: format!("the matrix is {} wide, in 32-value blocks", p.cols()),
        });
    }
    let mut buf = [0u64; 64];
    let per = std::mem::size_of_val(&buf) / ts;
    for (i, o) in out.chunks_mut(per * 32).enumerate() {
        let n = o.len() / 32;
        // SAFETY: a u64 array viewed as bytes; `n * ts` is inside it (n <= per).
        let bytes =
            unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<u8>(), n * ts) };
        p.ggml_blocks(row, i * per, bytes)
            .map_err(|e| Error::InvalidArgument {
                name: "embedding row",
                value: row.to_string(),
                reason: e.to_string(),
            })?;
        decode(dtype, bytes, o)?;
    }
    Ok(())
}

/// Dequantize row `row` of the (rows, width) matrix `q` into `out` (width f32).
///
/// Errors (instead of panicking) when the matrix is not on the CPU, the row is out of
/// range or the storage does not have the expected size.
pub fn dequantize_row(q: &QTensor, row: usize, out: &mut [f32]) -> Result<()> {
    let width = out.len();
    let dtype = q.dtype();
    let (bs, ts) = (dtype.block_size(), dtype.type_size());
    let data = q.data()?;
    let row_bytes = width / bs * ts;
    let bad = |reason: String| Error::InvalidArgument {
        name: "embedding row",
        value: row.to_string(),
        reason,
    };
    if !width.is_multiple_of(bs) {
        return Err(bad(format!("width {width} is not a multiple of {bs}")));
    }
    let src = data
        .get(row * row_bytes..(row + 1) * row_bytes)
        .ok_or_else(|| bad(format!("outside the {} byte matrix", data.len())))?;
    decode(dtype, src, out)
}

/// Decode `src`, whole GGML blocks (or plain values) of `dtype`, into `out`.
fn decode(dtype: GgmlDType, src: &[u8], out: &mut [f32]) -> Result<()> {
    match dtype {
        GgmlDType::F32 => {
            for (o, b) in out.iter_mut().zip(src.chunks_exact(4)) {
                *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
        GgmlDType::F16 => {
            for (o, b) in out.iter_mut().zip(src.chunks_exact(2)) {
                *o = f16_bits_to_f32(u16::from_le_bytes([b[0], b[1]]));
            }
        }
        GgmlDType::BF16 => {
            for (o, b) in out.iter_mut().zip(src.chunks_exact(2)) {
                *o = f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16);
            }
        }
        GgmlDType::Q4_0 => blocks::<BlockQ4_0>(src, out)?,
        GgmlDType::Q4_1 => blocks::<BlockQ4_1>(src, out)?,
        GgmlDType::Q5_0 => blocks::<BlockQ5_0>(src, out)?,
        GgmlDType::Q5_1 => blocks::<BlockQ5_1>(src, out)?,
        GgmlDType::Q8_0 => blocks::<BlockQ8_0>(src, out)?,
        GgmlDType::Q8_1 => blocks::<BlockQ8_1>(src, out)?,
        GgmlDType::Q2K => blocks::<BlockQ2K>(src, out)?,
        GgmlDType::Q3K => blocks::<BlockQ3K>(src, out)?,
        GgmlDType::Q4K => blocks::<BlockQ4K>(src, out)?,
        GgmlDType::Q5K => blocks::<BlockQ5K>(src, out)?,
        GgmlDType::Q6K => blocks::<BlockQ6K>(src, out)?,
        GgmlDType::Q8K => blocks::<BlockQ8K>(src, out)?,
    }
    Ok(())
}

/// Reinterpret `src` as blocks of `T` (candle's `#[repr(C)]` GGML block structs, which is
/// how candle stores them) and dequantize them into `out`.
fn blocks<T: GgmlType>(src: &[u8], out: &mut [f32]) -> Result<()> {
    let size = std::mem::size_of::<T>();
    let aligned = src.as_ptr().align_offset(std::mem::align_of::<T>()) == 0;
    if !aligned
        || size == 0
        || !src.len().is_multiple_of(size)
        || src.len() / size * T::BLCK_SIZE != out.len()
    {
        return Err(Error::InvalidArgument {
            name: "embedding row",
            value: format!("{} bytes", src.len()),
            reason: format!(
                "not whole aligned {size}-byte blocks of {} values for {} outputs",
                T::BLCK_SIZE,
                out.len()
            ),
        });
    }
    // SAFETY: `src` is borrowed from candle's CPU storage, which is a `Vec<T>` viewed as
    // bytes; the pointer is aligned for `T`, the length is a whole number of `T`, and the
    // block structs are plain `#[repr(C)]` data (any bit pattern is valid: integers and
    // f16 scales). The slice lives no longer than `src`.
    let xs = unsafe { std::slice::from_raw_parts(src.as_ptr().cast::<T>(), src.len() / size) };
    T::to_float(xs, out);
    Ok(())
}
