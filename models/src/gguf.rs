//! Open and validate a GGUF file before anything trusts it.
//!
//! bora reads the header itself (magic, version, metadata, tensor infos) with every
//! length checked against the file size, then checks that each tensor's data lies
//! inside the file. The result is candle's [`gguf_file::Content`], so tokenizer and model
//! code use candle's types, but a truncated, corrupt or hostile file becomes a typed
//! [`Error`] naming the file (and tensor), never a panic or a huge allocation.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{self, TensorInfo, Value};
use candle_core::quantized::k_quants::GgmlType;
use candle_core::quantized::{GgmlDType, QStorage, QTensor, QuantizedType};
use candle_core::{Device, Shape};

use crate::kernels::{packed::PackedMatrix, QType};
use crate::{Error, Result};
use header::HeaderReader;

mod header;

/// A validated GGUF file: its path, size, metadata and tensor directory.
#[derive(Debug)]
pub struct GgufFile {
    path: PathBuf,
    file_size: u64,
    content: gguf_file::Content,
}

impl GgufFile {
    /// Open `path`, parse and validate its header and check all tensor data lies in the file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                Error::ModelFileMissing { path: path.clone() }
            } else {
                Error::Io {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        let file_size = file
            .metadata()
            .map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?
            .len();
        let mut r = HeaderReader::new(BufReader::new(file), file_size, &path);
        let content = r.read_content()?;
        let this = Self {
            path,
            file_size,
            content,
        };
        this.check_tensor_extents()?;
        Ok(this)
    }

    /// The file this was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the file in bytes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The parsed header, in candle's form (for the tokenizer and the model loader).
    pub fn content(&self) -> &gguf_file::Content {
        &self.content
    }

    /// `general.architecture`, e.g. `llama` or `gemma3`.
    pub fn architecture(&self) -> Result<&str> {
        self.get_str("general.architecture")
    }

    /// A metadata value, or `None` when the key is absent.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.content.metadata.get(key)
    }

    /// A required string metadata value.
    pub fn get_str(&self, key: &str) -> Result<&str> {
        match self.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(v) => {
                Err(self.meta_err(key, format!("must be a string, found {:?}", v.value_type())))
            }
            None => Err(self.meta_err(key, "is missing".into())),
        }
    }

    /// An optional non-negative integer metadata value (any integer width), as usize.
    pub fn get_usize_opt(&self, key: &str) -> Result<Option<usize>> {
        let v = match self.get(key) {
            None => return Ok(None),
            Some(v) => v,
        };
        let n: Option<u64> = match v {
            Value::U8(x) => Some(u64::from(*x)),
            Value::U16(x) => Some(u64::from(*x)),
            Value::U32(x) => Some(u64::from(*x)),
            Value::U64(x) => Some(*x),
            Value::I8(x) => u64::try_from(*x).ok(),
            Value::I16(x) => u64::try_from(*x).ok(),
            Value::I32(x) => u64::try_from(*x).ok(),
            Value::I64(x) => u64::try_from(*x).ok(),
            other => {
                return Err(self.meta_err(
                    key,
                    format!("must be an integer, found {:?}", other.value_type()),
                ))
            }
        };
        match n.and_then(|n| usize::try_from(n).ok()) {
            Some(n) => Ok(Some(n)),
            None => Err(self.meta_err(key, format!("must be a non-negative integer, found {v:?}"))),
        }
    }

    /// A required non-negative integer metadata value.
    pub fn get_usize(&self, key: &str) -> Result<usize> {
        self.get_usize_opt(key)?
            .ok_or_else(|| self.meta_err(key, "is missing".into()))
    }

    /// An optional float metadata value (f32 or f64).
    pub fn get_f32_opt(&self, key: &str) -> Result<Option<f32>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::F32(x)) => Ok(Some(*x)),
            Some(Value::F64(x)) => Ok(Some(*x as f32)),
            Some(v) => {
                Err(self.meta_err(key, format!("must be a float, found {:?}", v.value_type())))
            }
        }
    }

    /// A required float metadata value.
    pub fn get_f32(&self, key: &str) -> Result<f32> {
        self.get_f32_opt(key)?
            .ok_or_else(|| self.meta_err(key, "is missing".into()))
    }

    /// Drop the vocabulary arrays (`tokenizer.ggml.tokens`, `scores`, `token_type`,
    /// `merges`) once the tokenizer is built, so they do not occupy memory while the
    /// weights load (tens of MB for a 262k-token vocabulary).
    pub fn forget_vocabulary(&mut self) {
        for key in ["tokens", "scores", "token_type", "merges"] {
            self.content
                .metadata
                .remove(&format!("tokenizer.ggml.{key}"));
        }
        self.content.metadata.shrink_to_fit();
    }

    /// The directory entry of tensor `name`, or `None` when absent.
    pub fn tensor_info(&self, name: &str) -> Option<&TensorInfo> {
        self.content.tensor_infos.get(name)
    }

    /// Read tensor `name`, checking its shape (outermost dimension first) against `expected`.
    pub fn load_tensor(
        &self,
        reader: &mut File,
        name: &str,
        expected: &[usize],
        device: &Device,
    ) -> Result<QTensor> {
        let info = self.checked_info(name, expected)?;
        if device.is_cpu() {
            let start = self.content.tensor_data_offset + info.offset;
            let bytes = tensor_bytes(&info.shape, info.ggml_dtype) as usize;
            let read = |r: &mut File| -> std::io::Result<Option<Box<dyn QuantizedType>>> {
                use candle_core::quantized::k_quants as kq;
                Ok(Some(match info.ggml_dtype {
                    GgmlDType::F32 => read_blocks::<f32>(r, start, bytes)?,
                    GgmlDType::Q4_0 => read_blocks::<kq::BlockQ4_0>(r, start, bytes)?,
                    GgmlDType::Q4_1 => read_blocks::<kq::BlockQ4_1>(r, start, bytes)?,
                    GgmlDType::Q5_0 => read_blocks::<kq::BlockQ5_0>(r, start, bytes)?,
                    GgmlDType::Q5_1 => read_blocks::<kq::BlockQ5_1>(r, start, bytes)?,
                    GgmlDType::Q8_0 => read_blocks::<kq::BlockQ8_0>(r, start, bytes)?,
                    GgmlDType::Q8_1 => read_blocks::<kq::BlockQ8_1>(r, start, bytes)?,
                    GgmlDType::Q2K => read_blocks::<kq::BlockQ2K>(r, start, bytes)?,
                    GgmlDType::Q3K => read_blocks::<kq::BlockQ3K>(r, start, bytes)?,
                    GgmlDType::Q4K => read_blocks::<kq::BlockQ4K>(r, start, bytes)?,
                    GgmlDType::Q5K => read_blocks::<kq::BlockQ5K>(r, start, bytes)?,
                    GgmlDType::Q6K => read_blocks::<kq::BlockQ6K>(r, start, bytes)?,
                    GgmlDType::Q8K => read_blocks::<kq::BlockQ8K>(r, start, bytes)?,
                    GgmlDType::F16 | GgmlDType::BF16 => return Ok(None),
                }))
            };
            let storage = read(reader).map_err(|source| Error::Io {
                path: self.path.clone(),
                source,
            })?;
            if let Some(storage) = storage {
                return Ok(QTensor::new(QStorage::Cpu(storage), info.shape.clone())?);
            }
        }
        Ok(info.read(reader, self.content.tensor_data_offset, device)?)
    }

    /// Read the (rows, cols) matrix `name` of type `ty` straight into the repacked layout
    /// ([`PackedMatrix`]), a group of rows at a time: the matrix is held once, never as
    /// GGML blocks too. An error when the tensor is missing, of another shape or type, or
    /// unreadable.
    pub fn load_packed(
        &self,
        reader: &mut File,
        name: &str,
        expected: [usize; 2],
        ty: QType,
    ) -> Result<PackedMatrix> {
        let info = self.checked_info(name, &expected)?;
        if QType::from_ggml(info.ggml_dtype) != Some(ty) {
            return Err(Error::InvalidArgument {
                name: "tensor type",
                value: format!("{name}: {:?}", info.ggml_dtype),
                reason: format!("expected {ty:?} for the repacked layout"),
            });
        }
        let io = |source| Error::Io {
            path: self.path.clone(),
            source,
        };
        let start = self.content.tensor_data_offset + info.offset;
        reader.seek(SeekFrom::Start(start)).map_err(io)?;
        let (rows, cols) = (expected[0], expected[1]);
        PackedMatrix::from_reader(ty, rows, cols, |buf| reader.read_exact(buf).map_err(io))
    }

    /// The directory entry of tensor `name`, checked to have shape `expected` (outermost
    /// dimension first).
    fn checked_info(&self, name: &str, expected: &[usize]) -> Result<&TensorInfo> {
        let info = self.tensor_info(name).ok_or_else(|| Error::MissingTensor {
            path: self.path.clone(),
            tensor: name.to_string(),
        })?;
        if info.shape.dims() != expected {
            return Err(Error::TensorShape {
                path: self.path.clone(),
                tensor: name.to_string(),
                expected: expected.to_vec(),
                found: info.shape.dims().to_vec(),
            });
        }
        Ok(info)
    }

    /// Open the file again for reading tensor data.
    pub fn reopen(&self) -> Result<File> {
        File::open(&self.path).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })
    }

    fn meta_err(&self, key: &str, reason: String) -> Error {
        Error::Metadata {
            path: self.path.clone(),
            key: key.to_string(),
            reason,
        }
    }

    /// Every tensor's bytes must lie inside the file (so loading never reads past the end).
    fn check_tensor_extents(&self) -> Result<()> {
        let base = self.content.tensor_data_offset;
        for (name, info) in &self.content.tensor_infos {
            let bytes = tensor_bytes(&info.shape, info.ggml_dtype);
            let end = base
                .checked_add(info.offset)
                .and_then(|s| s.checked_add(bytes));
            match end {
                Some(end) if end <= self.file_size => {}
                _ => {
                    return Err(Error::GgufTruncated {
                        path: self.path.clone(),
                        section: format!("data of tensor `{name}`"),
                        needed: end.unwrap_or(u64::MAX),
                        file_size: self.file_size,
                    })
                }
            }
        }
        Ok(())
    }
}

/// Read `bytes` bytes at `start` straight into a vector of ggml blocks `T`, so a tensor
/// occupies its size once (candle's reader holds a byte copy and a block copy at once,
/// which doubles the peak for a large embedding).
fn read_blocks<T: GgmlType + 'static>(
    file: &mut File,
    start: u64,
    bytes: usize,
) -> std::io::Result<Box<dyn QuantizedType>> {
    let size = std::mem::size_of::<T>();
    let mut blocks: Vec<T> = vec![T::zeros(); bytes / size];
    // SAFETY: ggml block types are `repr(C)` structs of integers and f16s (and f32 is
    // plain data), so every byte pattern is a valid value; the byte slice covers exactly
    // the initialised elements of `blocks` and lives no longer than this borrow.
    let raw = unsafe {
        std::slice::from_raw_parts_mut(blocks.as_mut_ptr().cast::<u8>(), blocks.len() * size)
    };
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(raw)?;
    Ok(Box::new(blocks))
}

/// Bytes a tensor of `shape` and `dtype` occupies in the file; `u64::MAX` when the
/// claimed size does not fit in 64 bits (no file is that large, so the extent check fails).
pub fn tensor_bytes(shape: &Shape, dtype: GgmlDType) -> u64 {
    ((shape.elem_count() / dtype.block_size()) as u64).saturating_mul(dtype.type_size() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_bytes_counts_blocks() {
        // Q8_0: 32 values in 34 bytes.
        assert_eq!(tensor_bytes(&Shape::from((2, 64)), GgmlDType::Q8_0), 4 * 34);
        assert_eq!(tensor_bytes(&Shape::from(10), GgmlDType::F32), 40);
        // 32 x 542551296285575048 Q8_0 values would be 2^64 + 16 bytes: saturates, never wraps.
        let huge = Shape::from((542_551_296_285_575_048usize, 32));
        assert_eq!(tensor_bytes(&huge, GgmlDType::Q8_0), u64::MAX);
    }
}
