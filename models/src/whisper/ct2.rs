//! Reader of CTranslate2's `model.bin` (format version 6, as `ctranslate2.specs` writes
//! it in `ModelSpec._serialize`).
//!
//! Layout, all little-endian: `u32` version, string spec name, `u32` spec revision,
//! `u32` variable count; each variable is a string name, `u8` rank, `u32` dims, `u8`
//! dtype, `u32` byte count and the raw data; then `u32` alias count and (alias, target)
//! string pairs. A string is a `u16` length that counts a trailing NUL, then its bytes.
//!
//! Every read is bounded by the file: a count or size the file cannot hold is an error
//! before anything is allocated, so a corrupt file never panics or exhausts memory. The
//! data is copied out of the file (it is not aligned for its type).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use crate::{Error, Result};

/// The `model.bin` format versions this reader understands.
pub const SUPPORTED_VERSIONS: &str = "6";

/// Element type of a stored variable (CTranslate2's `DataType` ids 0 to 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ct2Dtype {
    /// 32-bit float (id 0).
    F32,
    /// Signed 8-bit integer (id 1), e.g. int8 weights or flags.
    I8,
    /// Signed 16-bit integer (id 2).
    I16,
    /// Signed 32-bit integer (id 3).
    I32,
    /// IEEE half precision (id 4).
    F16,
    /// bfloat16 (id 5).
    Bf16,
}

impl Ct2Dtype {
    /// The dtype for a stored id, if it is one of the six.
    pub fn from_id(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::F32,
            1 => Self::I8,
            2 => Self::I16,
            3 => Self::I32,
            4 => Self::F16,
            5 => Self::Bf16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::I8 => 1,
            Self::I16 | Self::F16 | Self::Bf16 => 2,
            Self::F32 | Self::I32 => 4,
        }
    }

    /// The name used in error messages (`float16`, `int8`, ...), as CTranslate2 names it.
    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "float32",
            Self::I8 => "int8",
            Self::I16 => "int16",
            Self::I32 => "int32",
            Self::F16 => "float16",
            Self::Bf16 => "bfloat16",
        }
    }
}

/// One stored variable: its shape, element type and little-endian bytes.
#[derive(Debug, Clone)]
pub struct Ct2Variable {
    /// Shape, outermost first; empty for a scalar.
    pub dims: Vec<usize>,
    /// Element type.
    pub dtype: Ct2Dtype,
    /// The raw little-endian data, `dims.product() * dtype.size()` bytes.
    pub data: Vec<u8>,
}

impl Ct2Variable {
    /// Number of elements (1 for a scalar).
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// Whether the variable holds no element (a zero-sized dimension).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as `f32`, converting float16/bfloat16 (and integers, exactly up to 2^24).
    pub fn to_f32(&self) -> Vec<f32> {
        let d = &self.data;
        match self.dtype {
            Ct2Dtype::F32 => d
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Ct2Dtype::F16 => d
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Ct2Dtype::Bf16 => d
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Ct2Dtype::I8 | Ct2Dtype::I16 | Ct2Dtype::I32 => {
                self.to_i64().into_iter().map(|v| v as f32).collect()
            }
        }
    }

    /// The values as integers for the integer dtypes; floats are truncated toward zero.
    pub fn to_i64(&self) -> Vec<i64> {
        let d = &self.data;
        match self.dtype {
            Ct2Dtype::I8 => d.iter().map(|&b| i64::from(b as i8)).collect(),
            Ct2Dtype::I16 => d
                .chunks_exact(2)
                .map(|b| i64::from(i16::from_le_bytes([b[0], b[1]])))
                .collect(),
            Ct2Dtype::I32 => d
                .chunks_exact(4)
                .map(|b| i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect(),
            Ct2Dtype::F32 | Ct2Dtype::F16 | Ct2Dtype::Bf16 => {
                self.to_f32().into_iter().map(|v| v as i64).collect()
            }
        }
    }
}

/// A parsed `model.bin`: the spec it was written from, its variables and aliases.
#[derive(Debug, Clone)]
pub struct Ct2Model {
    /// The file it was read from (named in every error).
    pub path: PathBuf,
    /// The spec name in the header (`WhisperSpec` for Whisper).
    pub spec: String,
    /// The spec revision in the header.
    pub revision: u32,
    variables: BTreeMap<String, Ct2Variable>,
    aliases: BTreeMap<String, String>,
}

impl Ct2Model {
    /// Reads and parses `path`.
    pub fn read(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::ModelFileMissing {
                path: path.to_owned(),
            });
        }
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &bytes)
    }

    /// Parses the bytes of a `model.bin`; `path` is only used in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let mut r = Reader {
            path,
            bytes,
            pos: 0,
        };
        let version = r.u32("header")?;
        if version != 6 {
            return Err(Error::Ct2UnsupportedVersion {
                path: path.to_owned(),
                version,
                supported: SUPPORTED_VERSIONS,
            });
        }
        let spec = r.string("spec name")?;
        let revision = r.u32("header")?;
        let count = r.u32("variable count")?;
        let mut variables = BTreeMap::new();
        for i in 0..count {
            let name = r.string(&format!("name of variable {i}"))?;
            let (dims, dtype, data) = r.variable(&name)?;
            variables.insert(name, Ct2Variable { dims, dtype, data });
        }
        let n_aliases = r.u32("alias count")?;
        let mut aliases = BTreeMap::new();
        for i in 0..n_aliases {
            let alias = r.string(&format!("alias {i}"))?;
            let target = r.string(&format!("target of alias `{alias}`"))?;
            if !variables.contains_key(&target) {
                return Err(Error::Ct2BadAlias {
                    path: path.to_owned(),
                    alias,
                    target,
                });
            }
            aliases.insert(alias, target);
        }
        Ok(Self {
            path: path.to_owned(),
            spec,
            revision,
            variables,
            aliases,
        })
    }

    /// The names of the stored variables (not the aliases), sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.variables.keys().map(String::as_str)
    }

    /// The (alias, target) pairs, sorted by alias.
    pub fn aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.aliases.iter().map(|(a, t)| (a.as_str(), t.as_str()))
    }

    /// The variable `name`, following an alias; [`Error::MissingTensor`] if absent.
    pub fn variable(&self, name: &str) -> Result<&Ct2Variable> {
        let target = self.aliases.get(name).map_or(name, String::as_str);
        self.variables
            .get(target)
            .ok_or_else(|| Error::MissingTensor {
                path: self.path.clone(),
                tensor: name.to_owned(),
            })
    }

    /// The variable `name` as an `f32` tensor on `device`; it must be a float type.
    pub fn tensor(&self, name: &str, device: &Device) -> Result<Tensor> {
        let v = self.variable(name)?;
        if !matches!(v.dtype, Ct2Dtype::F32 | Ct2Dtype::F16 | Ct2Dtype::Bf16) {
            return Err(Error::Ct2Dtype {
                path: self.path.clone(),
                variable: name.to_owned(),
                found: v.dtype.name().to_owned(),
                expected: "float32, float16 or bfloat16".to_owned(),
            });
        }
        Ok(Tensor::from_vec(v.to_f32(), v.dims.as_slice(), device)?)
    }

    /// The scalar integer variable `name` (a setting such as `encoder/num_heads`).
    pub fn scalar_int(&self, name: &str) -> Result<i64> {
        let v = self.variable(name)?;
        if !matches!(v.dtype, Ct2Dtype::I8 | Ct2Dtype::I16 | Ct2Dtype::I32) {
            return Err(Error::Ct2Dtype {
                path: self.path.clone(),
                variable: name.to_owned(),
                found: v.dtype.name().to_owned(),
                expected: "an integer scalar (int8, int16 or int32)".to_owned(),
            });
        }
        match v.to_i64().as_slice() {
            [x] => Ok(*x),
            _ => Err(Error::Ct2VariableSize {
                path: self.path.clone(),
                variable: name.to_owned(),
                dims: v.dims.iter().map(|&d| d as u64).collect(),
                bytes: v.data.len() as u64,
                reason: "expected a scalar".to_owned(),
            }),
        }
    }
}

/// A bounds-checked cursor over the file's bytes.
struct Reader<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize, section: &str) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(Error::Ct2Truncated {
                path: self.path.to_owned(),
                section: section.to_owned(),
                needed: self.pos as u64 + n as u64,
                file_size: self.bytes.len() as u64,
            });
        };
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self, section: &str) -> Result<u8> {
        Ok(self.take(1, section)?[0])
    }

    fn u16(&mut self, section: &str) -> Result<u16> {
        let b = self.take(2, section)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, section: &str) -> Result<u32> {
        let b = self.take(4, section)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn string(&mut self, section: &str) -> Result<String> {
        let offset = self.pos as u64;
        let path = self.path;
        let len = usize::from(self.u16(section)?);
        let b = self.take(len, section)?;
        let malformed = |reason: &str| Error::Ct2Malformed {
            path: path.to_owned(),
            offset,
            reason: format!("{section}: {reason}"),
        };
        let Some((&0, text)) = b.split_last() else {
            return Err(malformed("string without its trailing NUL"));
        };
        String::from_utf8(text.to_vec()).map_err(|_| malformed("string is not UTF-8"))
    }

    fn variable(&mut self, name: &str) -> Result<(Vec<usize>, Ct2Dtype, Vec<u8>)> {
        let section = format!("shape of variable `{name}`");
        let rank = usize::from(self.u8(&section)?);
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            dims.push(self.u32(&section)? as usize);
        }
        let dtype_id = self.u8(&format!("dtype of variable `{name}`"))?;
        let dtype = Ct2Dtype::from_id(dtype_id).ok_or_else(|| Error::Ct2Dtype {
            path: self.path.to_owned(),
            variable: name.to_owned(),
            found: format!("id {dtype_id}"),
            expected: "a CTranslate2 dtype id 0 to 5".to_owned(),
        })?;
        let bytes = self.u32(&format!("size of variable `{name}`"))? as usize;
        let size_error = |reason: String| Error::Ct2VariableSize {
            path: self.path.to_owned(),
            variable: name.to_owned(),
            dims: dims.iter().map(|&d| d as u64).collect(),
            bytes: bytes as u64,
            reason,
        };
        let expected = dims
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| size_error("the shape overflows".to_owned()))?;
        if expected != bytes {
            return Err(size_error(format!(
                "{} elements of {} need {expected} bytes",
                expected / dtype.size(),
                dtype.name()
            )));
        }
        let data = self
            .take(bytes, &format!("data of variable `{name}`"))?
            .to_vec();
        Ok((dims, dtype, data))
    }
}

/// Writes a `model.bin` (version 6) from (name, dims, dtype id, data) and aliases: the
/// inverse of [`Ct2Model::parse`], for constructing test files.
pub fn write_model_bin(
    spec: &str,
    variables: &[(&str, &[u32], u8, &[u8])],
    aliases: &[(&str, &str)],
) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&6u32.to_le_bytes());
    string(&mut out, spec);
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&(variables.len() as u32).to_le_bytes());
    for (name, dims, dtype, data) in variables {
        string(&mut out, name);
        out.push(dims.len() as u8);
        for d in *dims {
            out.extend_from_slice(&d.to_le_bytes());
        }
        out.push(*dtype);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
    }
    out.extend_from_slice(&(aliases.len() as u32).to_le_bytes());
    for (a, t) in aliases {
        string(&mut out, a);
        string(&mut out, t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn sample() -> Vec<u8> {
        let w = f32_bytes(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let h: Vec<u8> = [0.5f32, -2.0]
            .iter()
            .flat_map(|&x| half::f16::from_f32(x).to_le_bytes())
            .collect();
        write_model_bin(
            "WhisperSpec",
            &[
                ("decoder/embeddings/weight", &[2, 3], 0, &w),
                ("decoder/num_heads", &[], 2, &6i16.to_le_bytes()),
                ("encoder/scale", &[2], 4, &h),
            ],
            &[("decoder/projection/weight", "decoder/embeddings/weight")],
        )
    }

    #[test]
    fn reads_variables_scalars_and_aliases() {
        let m = Ct2Model::parse(Path::new("t.bin"), &sample()).unwrap();
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(m.scalar_int("decoder/num_heads").unwrap(), 6);
        let v = m.variable("decoder/projection/weight").unwrap();
        assert_eq!(v.dims, [2, 3]);
        assert_eq!(v.to_f32(), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(m.variable("encoder/scale").unwrap().to_f32(), [0.5, -2.0]);
        let t = m.tensor("decoder/projection/weight", &Device::Cpu).unwrap();
        assert_eq!(t.dims(), [2, 3]);
        assert_eq!(m.aliases().count(), 1);
    }

    #[test]
    fn every_truncation_is_a_typed_error() {
        let bytes = sample();
        for n in 0..bytes.len() {
            match Ct2Model::parse(Path::new("t.bin"), &bytes[..n]) {
                Err(Error::Ct2Truncated {
                    needed, file_size, ..
                }) => {
                    assert_eq!(file_size, n as u64);
                    assert!(needed > file_size);
                }
                other => panic!("prefix of {n} bytes: {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_dtype_and_wrong_size_and_bad_alias_are_typed_errors() {
        let bad_dtype = write_model_bin("WhisperSpec", &[("x", &[1], 9, &[0])], &[]);
        assert!(matches!(
            Ct2Model::parse(Path::new("t.bin"), &bad_dtype),
            Err(Error::Ct2Dtype { variable, found, .. }) if variable == "x" && found == "id 9"
        ));
        let bad_size = write_model_bin("WhisperSpec", &[("x", &[3], 0, &[0; 8])], &[]);
        assert!(matches!(
            Ct2Model::parse(Path::new("t.bin"), &bad_size),
            Err(Error::Ct2VariableSize { variable, bytes: 8, .. }) if variable == "x"
        ));
        // A shape whose byte count overflows, with a huge declared size: no allocation.
        let huge = write_model_bin(
            "WhisperSpec",
            &[("x", &[u32::MAX, u32::MAX, u32::MAX], 0, &[])],
            &[],
        );
        assert!(matches!(
            Ct2Model::parse(Path::new("t.bin"), &huge),
            Err(Error::Ct2VariableSize { .. })
        ));
        let alias = write_model_bin("WhisperSpec", &[("x", &[1], 1, &[7])], &[("y", "z")]);
        assert!(matches!(
            Ct2Model::parse(Path::new("t.bin"), &alias),
            Err(Error::Ct2BadAlias { alias, target, .. }) if alias == "y" && target == "z"
        ));
        let mut v5 = sample();
        v5[0] = 5;
        assert!(matches!(
            Ct2Model::parse(Path::new("t.bin"), &v5),
            Err(Error::Ct2UnsupportedVersion { version: 5, .. })
        ));
    }

    #[test]
    fn wrong_dtype_for_use_and_missing_names_are_typed_errors() {
        let m = Ct2Model::parse(Path::new("t.bin"), &sample()).unwrap();
        assert!(matches!(
            m.tensor("decoder/num_heads", &Device::Cpu),
            Err(Error::Ct2Dtype { variable, .. }) if variable == "decoder/num_heads"
        ));
        assert!(matches!(
            m.scalar_int("decoder/embeddings/weight"),
            Err(Error::Ct2Dtype { .. })
        ));
        assert!(matches!(
            m.variable("encoder/conv1/weight"),
            Err(Error::MissingTensor { tensor, .. }) if tensor == "encoder/conv1/weight"
        ));
    }
}
