//! Broken model files, built on purpose, give a typed error that names the file (and the
//! tensor where there is one), never a panic.

use std::path::{Path, PathBuf};

use bora_models::gguf::GgufFile;
use bora_models::{Error, Model, ModelOptions};

/// Writes GGUF v3 bytes by hand, so tests can break any part of a file.
#[derive(Default)]
struct Gguf {
    version: u32,
    kvs: Vec<u8>,
    n_kv: u64,
    infos: Vec<u8>,
    n_tensors: u64,
    data: Vec<u8>,
}

fn gstr(out: &mut Vec<u8>, s: &str) {
    out.extend((s.len() as u64).to_le_bytes());
    out.extend(s.as_bytes());
}

impl Gguf {
    fn new() -> Self {
        Self {
            version: 3,
            ..Default::default()
        }
    }

    fn kv_str(mut self, k: &str, v: &str) -> Self {
        gstr(&mut self.kvs, k);
        self.kvs.extend(8u32.to_le_bytes());
        gstr(&mut self.kvs, v);
        self.n_kv += 1;
        self
    }

    fn kv_u32(mut self, k: &str, v: u32) -> Self {
        gstr(&mut self.kvs, k);
        self.kvs.extend(4u32.to_le_bytes());
        self.kvs.extend(v.to_le_bytes());
        self.n_kv += 1;
        self
    }

    fn kv_f32(mut self, k: &str, v: f32) -> Self {
        gstr(&mut self.kvs, k);
        self.kvs.extend(6u32.to_le_bytes());
        self.kvs.extend(v.to_le_bytes());
        self.n_kv += 1;
        self
    }

    /// A tensor with GGUF dims (innermost first) and ggml type id; F32 data is appended
    /// (aligned to 32 bytes) when `type_id` is 0.
    fn tensor(mut self, name: &str, dims: &[u64], type_id: u32) -> Self {
        gstr(&mut self.infos, name);
        self.infos.extend((dims.len() as u32).to_le_bytes());
        for d in dims {
            self.infos.extend(d.to_le_bytes());
        }
        self.infos.extend(type_id.to_le_bytes());
        let offset = self.data.len() as u64;
        self.infos.extend(offset.to_le_bytes());
        let n: u64 = dims.iter().product();
        for i in 0..n {
            self.data.extend(((i % 7) as f32 * 0.01).to_le_bytes());
        }
        while !self.data.len().is_multiple_of(32) {
            self.data.push(0);
        }
        self.n_tensors += 1;
        self
    }

    /// A tensor directory entry with no data behind it (for claimed sizes no file holds).
    fn tensor_info_only(mut self, name: &str, dims: &[u64], type_id: u32, offset: u64) -> Self {
        gstr(&mut self.infos, name);
        self.infos.extend((dims.len() as u32).to_le_bytes());
        for d in dims {
            self.infos.extend(d.to_le_bytes());
        }
        self.infos.extend(type_id.to_le_bytes());
        self.infos.extend(offset.to_le_bytes());
        self.n_tensors += 1;
        self
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = b"GGUF".to_vec();
        out.extend(self.version.to_le_bytes());
        out.extend(self.n_tensors.to_le_bytes());
        out.extend(self.n_kv.to_le_bytes());
        out.extend(&self.kvs);
        out.extend(&self.infos);
        while !out.len().is_multiple_of(32) {
            out.push(0);
        }
        out.extend(&self.data);
        out
    }
}

/// Metadata of a tiny llama: 1 layer, hidden 32, 2 heads, ffn 64, vocab 8.
fn tiny_llama() -> Gguf {
    Gguf::new()
        .kv_str("general.architecture", "llama")
        .kv_u32("llama.block_count", 1)
        .kv_u32("llama.embedding_length", 32)
        .kv_u32("llama.attention.head_count", 2)
        .kv_u32("llama.feed_forward_length", 64)
        .kv_u32("llama.vocab_size", 8)
        .kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write test file");
    p
}

fn open_err(path: &Path) -> Error {
    match GgufFile::open(path) {
        Ok(_) => panic!("{} opened, expected an error", path.display()),
        Err(e) => {
            assert!(
                e.to_string().contains(&path.display().to_string()),
                "message does not name the file: {e}"
            );
            e
        }
    }
}

fn load_err(path: &Path) -> Error {
    match Model::load(
        path,
        &ModelOptions {
            threads: 0,
            context: 16,
            ..Default::default()
        },
    ) {
        Ok(_) => panic!("{} loaded, expected an error", path.display()),
        Err(e) => {
            assert!(
                e.to_string().contains(&path.display().to_string()),
                "message does not name the file: {e}"
            );
            e
        }
    }
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("nope.gguf");
    let e = open_err(&p);
    assert!(matches!(e, Error::ModelFileMissing { .. }), "{e:?}");
    assert!(e.to_string().contains("scripts/setup.sh"));
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = write(dir.path(), "empty.gguf", &[]);
    assert!(matches!(
        open_err(&p),
        Error::GgufTruncated {
            needed: 4,
            file_size: 0,
            ..
        }
    ));
}

#[test]
fn wrong_magic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = tiny_llama().bytes();
    bytes[..4].copy_from_slice(b"GGML");
    let p = write(dir.path(), "magic.gguf", &bytes);
    assert!(matches!(open_err(&p), Error::GgufBadMagic { found, .. } if &found == b"GGML"));
}

#[test]
fn unsupported_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut g = tiny_llama();
    g.version = 99;
    let p = write(dir.path(), "version.gguf", &g.bytes());
    assert!(matches!(
        open_err(&p),
        Error::GgufUnsupportedVersion { version: 99, .. }
    ));
}

#[test]
fn truncated_header() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tiny_llama()
        .tensor("token_embd.weight", &[32, 8], 0)
        .bytes();
    // Cut in the middle of the metadata.
    let p = write(dir.path(), "header.gguf", &bytes[..60]);
    assert!(matches!(
        open_err(&p),
        Error::GgufTruncated { file_size: 60, .. }
    ));
}

#[test]
fn huge_counts_are_rejected_before_allocating() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = tiny_llama().bytes();
    bytes[16..24].copy_from_slice(&u64::MAX.to_le_bytes()); // metadata count
    let p = write(dir.path(), "counts.gguf", &bytes);
    assert!(matches!(open_err(&p), Error::GgufTruncated { .. }));
}

#[test]
fn truncated_tensor_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tiny_llama()
        .tensor("token_embd.weight", &[32, 8], 0)
        .bytes();
    let p = write(dir.path(), "data.gguf", &bytes[..bytes.len() - 100]);
    match open_err(&p) {
        Error::GgufTruncated { section, .. } => {
            assert!(section.contains("token_embd.weight"), "{section}")
        }
        e => panic!("expected GgufTruncated, got {e:?}"),
    }
}

#[test]
fn tensor_shape_disagrees_with_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    // vocab_size says 8 rows, the tensor has 9.
    let bytes = tiny_llama()
        .tensor("token_embd.weight", &[32, 9], 0)
        .bytes();
    let p = write(dir.path(), "shape.gguf", &bytes);
    match load_err(&p) {
        Error::TensorShape {
            tensor,
            expected,
            found,
            ..
        } => {
            assert_eq!(tensor, "token_embd.weight");
            assert_eq!(expected, [8, 32]);
            assert_eq!(found, [9, 32]);
        }
        e => panic!("expected TensorShape, got {e:?}"),
    }
}

#[test]
fn unknown_quant_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tiny_llama()
        .tensor("blk.0.attn_q.weight", &[32, 32], 77)
        .bytes();
    let p = write(dir.path(), "qtype.gguf", &bytes);
    match open_err(&p) {
        Error::UnknownQuantType {
            tensor, type_id, ..
        } => {
            assert_eq!(tensor, "blk.0.attn_q.weight");
            assert_eq!(type_id, 77);
        }
        e => panic!("expected UnknownQuantType, got {e:?}"),
    }
}

#[test]
fn missing_tensor() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tiny_llama()
        .tensor("token_embd.weight", &[32, 8], 0)
        .bytes();
    let p = write(dir.path(), "missing_tensor.gguf", &bytes);
    assert!(
        matches!(load_err(&p), Error::MissingTensor { tensor, .. } if tensor == "output_norm.weight")
    );
}

#[test]
fn unsupported_architecture_lists_supported_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = Gguf::new().kv_str("general.architecture", "mamba").bytes();
    let p = write(dir.path(), "arch.gguf", &bytes);
    match load_err(&p) {
        Error::UnsupportedArchitecture {
            architecture,
            supported,
            ..
        } => {
            assert_eq!(architecture, "mamba");
            assert!(supported.contains("llama") && supported.contains("gemma3"));
        }
        e => panic!("expected UnsupportedArchitecture, got {e:?}"),
    }
}

#[test]
fn complete_tiny_model_loads_and_runs() {
    // The same writer makes a valid file, so the failures above are the broken parts only.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut g = tiny_llama()
        .tensor("token_embd.weight", &[32, 8], 0)
        .tensor("output_norm.weight", &[32], 0);
    for (n, d) in [
        ("attn_norm", vec![32]),
        ("ffn_norm", vec![32]),
        ("attn_q", vec![32, 32]),
        ("attn_k", vec![32, 32]),
        ("attn_v", vec![32, 32]),
        ("attn_output", vec![32, 32]),
        ("ffn_gate", vec![32, 64]),
        ("ffn_up", vec![32, 64]),
        ("ffn_down", vec![64, 32]),
    ] {
        g = g.tensor(&format!("blk.0.{n}.weight"), &d, 0);
    }
    let p = write(dir.path(), "tiny.gguf", &g.bytes());
    let model = Model::load(
        &p,
        &ModelOptions {
            threads: 0,
            context: 16,
            ..Default::default()
        },
    )
    .expect("tiny model loads");
    let mut state = model.new_state().expect("state");
    let logits = model.forward(&mut state, &[1, 2, 3]).expect("forward");
    assert_eq!(logits.len(), 8);
    assert_eq!(state.pos(), 3);
    assert!(matches!(
        model.forward(&mut state, &[8]),
        Err(Error::InvalidArgument {
            name: "token id",
            ..
        })
    ));
    let long = [0u32; 14];
    assert!(matches!(
        model.forward(&mut state, &long),
        Err(Error::ContextFull {
            context: 16,
            needed: 17
        })
    ));
}

/// Found while writing the fuzz target (fuzz/fuzz_targets/gguf.rs): a Q8_0 tensor of
/// 32 x 542551296285575048 values claims 2^64 + 16 bytes, which wrapped to 16 bytes, so
/// the extent check passed and the loader built a tensor far larger than its data.
#[test]
fn tensor_byte_size_overflow_is_rejected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = tiny_llama()
        .tensor_info_only("token_embd.weight", &[32, 542_551_296_285_575_048], 8, 0)
        .bytes();
    let mut padded = bytes.clone();
    padded.extend([0u8; 64]);
    let p = write(dir.path(), "overflow.gguf", &padded);
    match open_err(&p) {
        Error::GgufTruncated { section, .. }
        | Error::InvalidGguf {
            reason: section, ..
        } => {
            assert!(section.contains("token_embd.weight"), "{section}")
        }
        e => panic!("expected a size error, got {e:?}"),
    }
}
