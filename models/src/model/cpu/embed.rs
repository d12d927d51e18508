//! Embedding rows straight from the quantized token matrix: only looked-up rows are
//! dequantized, into the caller's buffer, with no allocation.

use candle_core::quantized::k_quants::{
    BlockQ2K, BlockQ3K, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K,
    BlockQ8K, BlockQ8_0, BlockQ8_1, GgmlType,
};
use candle_core::quantized::{GgmlDType, QTensor};

use super::ops::f16_bits_to_f32;
use crate::{Error, Result};

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
