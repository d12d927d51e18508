//! The GGUF header parser behind [`super::GgufFile::open`]: magic, version, metadata and
//! tensor infos read sequentially, every length and count checked against the file size
//! before anything is allocated, every failure a typed [`Error`] naming the file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use candle_core::quantized::gguf_file::{self, TensorInfo, Value, VersionedMagic};
use candle_core::quantized::GgmlDType;
use candle_core::Shape;

use crate::{Error, Result};

/// GGUF magic, "GGUF" read as little-endian u32 bytes.
const MAGIC: [u8; 4] = *b"GGUF";
/// Alignment of the tensor data section when `general.alignment` is absent (bytes).
const DEFAULT_ALIGNMENT: u64 = 32;
/// Most dimensions a ggml tensor can have.
const MAX_DIMS: u32 = 4;
/// Deepest nesting of metadata arrays accepted.
const MAX_DEPTH: usize = 8;

/// Map a ggml type id to candle's dtype (`None` for ids candle cannot hold).
fn ggml_dtype(id: u32) -> Option<GgmlDType> {
    Some(match id {
        0 => GgmlDType::F32,
        1 => GgmlDType::F16,
        2 => GgmlDType::Q4_0,
        3 => GgmlDType::Q4_1,
        6 => GgmlDType::Q5_0,
        7 => GgmlDType::Q5_1,
        8 => GgmlDType::Q8_0,
        9 => GgmlDType::Q8_1,
        10 => GgmlDType::Q2K,
        11 => GgmlDType::Q3K,
        12 => GgmlDType::Q4K,
        13 => GgmlDType::Q5K,
        14 => GgmlDType::Q6K,
        15 => GgmlDType::Q8K,
        30 => GgmlDType::BF16,
        _ => return None,
    })
}

/// Sequential reader of the header with every read bounded by the file size.
pub(super) struct HeaderReader<'a> {
    inner: BufReader<File>,
    pos: u64,
    file_size: u64,
    path: &'a Path,
}

impl<'a> HeaderReader<'a> {
    /// A reader at the start of `inner`, a file of `file_size` bytes at `path`.
    pub(super) fn new(inner: BufReader<File>, file_size: u64, path: &'a Path) -> Self {
        Self {
            inner,
            pos: 0,
            file_size,
            path,
        }
    }

    fn truncated(&self, section: &str, needed: u64) -> Error {
        Error::GgufTruncated {
            path: self.path.to_path_buf(),
            section: section.to_string(),
            needed,
            file_size: self.file_size,
        }
    }

    fn invalid(&self, reason: String) -> Error {
        Error::InvalidGguf {
            path: self.path.to_path_buf(),
            reason,
        }
    }

    /// Fail unless `n` more bytes exist after the current position.
    fn ensure(&self, n: u64, section: &str) -> Result<()> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.file_size => Ok(()),
            end => Err(self.truncated(section, end.unwrap_or(u64::MAX))),
        }
    }

    fn bytes<const N: usize>(&mut self, section: &str) -> Result<[u8; N]> {
        self.ensure(N as u64, section)?;
        let mut buf = [0u8; N];
        self.inner
            .read_exact(&mut buf)
            .map_err(|source| Error::Io {
                path: self.path.to_path_buf(),
                source,
            })?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn u32(&mut self, section: &str) -> Result<u32> {
        self.bytes::<4>(section).map(u32::from_le_bytes)
    }

    fn u64(&mut self, section: &str) -> Result<u64> {
        self.bytes::<8>(section).map(u64::from_le_bytes)
    }

    fn string(&mut self, section: &str) -> Result<String> {
        let len = self.u64(section)?;
        self.ensure(len, section)?;
        let mut buf = vec![0u8; len as usize];
        self.inner
            .read_exact(&mut buf)
            .map_err(|source| Error::Io {
                path: self.path.to_path_buf(),
                source,
            })?;
        self.pos += len;
        // Some writers add NUL terminators; GGUF strings are not terminated.
        while buf.last() == Some(&0) {
            buf.pop();
        }
        // Like llama.cpp, accept stray invalid UTF-8 (seen in some vocabularies) lossily.
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    fn value(&mut self, type_id: u32, section: &str, depth: usize) -> Result<Value> {
        Ok(match type_id {
            0 => Value::U8(self.bytes::<1>(section)?[0]),
            1 => Value::I8(i8::from_le_bytes(self.bytes::<1>(section)?)),
            2 => Value::U16(u16::from_le_bytes(self.bytes::<2>(section)?)),
            3 => Value::I16(i16::from_le_bytes(self.bytes::<2>(section)?)),
            4 => Value::U32(self.u32(section)?),
            5 => Value::I32(i32::from_le_bytes(self.bytes::<4>(section)?)),
            6 => Value::F32(f32::from_le_bytes(self.bytes::<4>(section)?)),
            7 => match self.bytes::<1>(section)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => {
                    return Err(self.invalid(format!("{section}: bool byte {b} is neither 0 nor 1")))
                }
            },
            8 => Value::String(self.string(section)?),
            9 => {
                if depth >= MAX_DEPTH {
                    return Err(
                        self.invalid(format!("{section}: arrays nested deeper than {MAX_DEPTH}"))
                    );
                }
                let elem_type = self.u32(section)?;
                let len = self.u64(section)?;
                let min_size: u64 = match elem_type {
                    0 | 1 | 7 => 1,
                    2 | 3 => 2,
                    4..=6 => 4,
                    8 | 10..=12 => 8,
                    9 => 12,
                    t => {
                        return Err(
                            self.invalid(format!("{section}: unknown array element type {t}"))
                        )
                    }
                };
                self.ensure(len.saturating_mul(min_size), section)?;
                let mut items = Vec::with_capacity(len as usize);
                for _ in 0..len {
                    items.push(self.value(elem_type, section, depth + 1)?);
                }
                Value::Array(items)
            }
            10 => Value::U64(self.u64(section)?),
            11 => Value::I64(i64::from_le_bytes(self.bytes::<8>(section)?)),
            12 => Value::F64(f64::from_le_bytes(self.bytes::<8>(section)?)),
            t => return Err(self.invalid(format!("{section}: unknown metadata value type {t}"))),
        })
    }

    pub(super) fn read_content(&mut self) -> Result<gguf_file::Content> {
        let magic = self.bytes::<4>("magic")?;
        if magic != MAGIC {
            return Err(Error::GgufBadMagic {
                path: self.path.to_path_buf(),
                found: magic,
            });
        }
        let version = self.u32("version")?;
        let magic = match version {
            2 => VersionedMagic::GgufV2,
            3 => VersionedMagic::GgufV3,
            _ => {
                return Err(Error::GgufUnsupportedVersion {
                    path: self.path.to_path_buf(),
                    version,
                })
            }
        };
        let tensor_count = self.u64("tensor count")?;
        let kv_count = self.u64("metadata count")?;
        // Each metadata entry takes at least 13 bytes, each tensor info at least 24.
        self.ensure(
            kv_count
                .saturating_mul(13)
                .saturating_add(tensor_count.saturating_mul(24)),
            "metadata and tensor infos",
        )?;

        let mut metadata = HashMap::new();
        for i in 0..kv_count {
            let key = self.string(&format!("metadata key #{i}"))?;
            let section = format!("metadata value `{key}`");
            let type_id = self.u32(&section)?;
            let value = self.value(type_id, &section, 0)?;
            metadata.insert(key, value);
        }

        let mut tensor_infos = HashMap::new();
        for i in 0..tensor_count {
            let name = self.string(&format!("tensor info #{i}"))?;
            let section = format!("tensor info `{name}`");
            let n_dims = self.u32(&section)?;
            if n_dims == 0 || n_dims > MAX_DIMS {
                return Err(self.invalid(format!(
                    "tensor `{name}` has {n_dims} dimensions (1..={MAX_DIMS})"
                )));
            }
            let mut dims = Vec::with_capacity(n_dims as usize);
            for _ in 0..n_dims {
                let d = self.u64(&section)?;
                dims.push(usize::try_from(d).map_err(|_| {
                    self.invalid(format!("tensor `{name}` dimension {d} too large"))
                })?);
            }
            if dims
                .iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .is_none()
            {
                return Err(self.invalid(format!("tensor `{name}` dimensions {dims:?} overflow")));
            }
            // GGUF lists the innermost dimension first; candle wants outermost first.
            dims.reverse();
            let type_id = self.u32(&section)?;
            let dtype = ggml_dtype(type_id).ok_or_else(|| Error::UnknownQuantType {
                path: self.path.to_path_buf(),
                tensor: name.clone(),
                type_id,
            })?;
            let inner = dims.last().copied().unwrap_or(0);
            if inner % dtype.block_size() != 0 {
                return Err(self.invalid(format!(
                    "tensor `{name}` row width {inner} is not a multiple of the {dtype:?} block size {}",
                    dtype.block_size()
                )));
            }
            let offset = self.u64(&section)?;
            tensor_infos.insert(
                name,
                TensorInfo {
                    ggml_dtype: dtype,
                    shape: Shape::from(dims),
                    offset,
                },
            );
        }

        let alignment = match metadata.get("general.alignment") {
            None => DEFAULT_ALIGNMENT,
            Some(Value::U32(a)) if *a > 0 && a.is_power_of_two() => u64::from(*a),
            Some(v) => {
                return Err(
                    self.invalid(format!("general.alignment {v:?} is not a power of two u32"))
                )
            }
        };
        let tensor_data_offset = self.pos.div_ceil(alignment) * alignment;
        for (name, info) in &tensor_infos {
            if info.offset % alignment != 0 {
                return Err(self.invalid(format!(
                    "tensor `{name}` offset {} is not a multiple of the alignment {alignment}",
                    info.offset
                )));
            }
        }
        Ok(gguf_file::Content {
            magic,
            metadata,
            tensor_infos,
            tensor_data_offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_type_ids_map_and_unknown_do_not() {
        assert_eq!(ggml_dtype(3), Some(GgmlDType::Q4_1));
        assert_eq!(ggml_dtype(14), Some(GgmlDType::Q6K));
        assert_eq!(ggml_dtype(4), None);
        assert_eq!(ggml_dtype(99), None);
    }
}
