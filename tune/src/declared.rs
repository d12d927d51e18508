//! An adapter's declared held-out accuracy: `bora eval intents --declare` measures the
//! model with the adapter on the held-out split and writes [`ACCURACY_FILE`] beside the
//! adapter; the language stage reads it back as the accuracy the agent's motion-trust
//! rule (`safety.model_motion_min_accuracy`) compares. It is the adapter's counterpart of
//! the GGUF key `bora.intent.heldout_accuracy`.
//!
//! The declaration names what was measured: the adapter weights and the base model file
//! by SHA-256, the benchmark file by name and SHA-256. Retraining the adapter or
//! swapping the base model makes it stale, and a stale declaration is an error at load,
//! never a silent trust.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// File name of the declaration inside an adapter directory.
pub const ACCURACY_FILE: &str = "bora_accuracy.json";

/// Version tag of [`Declaration`]'s JSON.
pub const SCHEMA: &str = "bora.adapter-accuracy/1";

/// What `bora eval intents --declare` measured for an adapter on a base model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Declaration {
    /// [`SCHEMA`].
    pub schema: String,
    /// Fraction (0 to 1) of benchmark commands whose plan from the model alone was right.
    pub heldout_accuracy: f64,
    /// Commands in the benchmark.
    pub cases: usize,
    /// Model outputs that did not validate.
    pub invalid_outputs: usize,
    /// Non-commands for which the model alone proposed motion.
    pub non_commands_model_moved: usize,
    /// The benchmark file as given, and its SHA-256 (hex).
    pub benchmark: String,
    /// See `benchmark`.
    pub benchmark_sha256: String,
    /// SHA-256 (hex) of the adapter's `adapter_model.safetensors`.
    pub adapter_sha256: String,
    /// File name of the base model, and its SHA-256 (hex).
    pub model_file: String,
    /// See `model_file`.
    pub model_sha256: String,
    /// The CPU the measurement ran on (latency context only).
    pub cpu: String,
}

/// SHA-256 of the file at `path`, lowercase hex.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(|source| Error::AdapterIo {
        path: path.to_path_buf(),
        source,
    })?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|source| Error::AdapterIo {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The adapter's weights file in `dir`.
fn weights(dir: &Path) -> PathBuf {
    dir.join("adapter_model.safetensors")
}

impl Declaration {
    /// Writes the declaration into adapter directory `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(ACCURACY_FILE);
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        std::fs::write(&path, text).map_err(|source| Error::AdapterIo { path, source })
    }

    /// The accuracy declared for the adapter in `dir` on base model `model`: None when
    /// `dir` holds no declaration; an error when it is unreadable or stale (the adapter
    /// or the model is not the one measured).
    pub fn read_checked(dir: &Path, model: &Path) -> Result<Option<f64>> {
        let path = dir.join(ACCURACY_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(Error::AdapterIo { path, source }),
        };
        let bad = |reason: String| Error::InvalidAdapter {
            path: path.clone(),
            reason,
        };
        let d: Declaration = serde_json::from_str(&text)
            .map_err(|e| bad(format!("not a {SCHEMA} declaration: {e}")))?;
        if d.schema != SCHEMA {
            return Err(bad(format!("schema {:?}, expected {SCHEMA:?}", d.schema)));
        }
        if !(0.0..=1.0).contains(&d.heldout_accuracy) {
            return Err(bad(format!(
                "heldout_accuracy {} is not a fraction from 0 to 1",
                d.heldout_accuracy
            )));
        }
        let rerun = "rerun `bora eval intents models/data/intents/heldout.jsonl --adapter DIR \
                     --declare` or delete the file";
        if file_sha256(&weights(dir))? != d.adapter_sha256 {
            return Err(bad(format!(
                "stale: the adapter weights changed since they were measured; {rerun}"
            )));
        }
        if file_sha256(model)? != d.model_sha256 {
            return Err(bad(format!(
                "stale: measured on {} and another base model file ({}) is loaded; {rerun}",
                d.model_file,
                model.display()
            )));
        }
        Ok(Some(d.heldout_accuracy))
    }
}

/// The SHA-256 of `dir`'s adapter weights (what a declaration records).
pub fn adapter_sha256(dir: &Path) -> Result<String> {
    file_sha256(&weights(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declaration(dir: &Path, model: &Path) -> Declaration {
        Declaration {
            schema: SCHEMA.into(),
            heldout_accuracy: 0.5,
            cases: 2,
            invalid_outputs: 0,
            non_commands_model_moved: 0,
            benchmark: "heldout.jsonl".into(),
            benchmark_sha256: "00".into(),
            adapter_sha256: adapter_sha256(dir).unwrap(),
            model_file: "m.gguf".into(),
            model_sha256: file_sha256(model).unwrap(),
            cpu: "test".into(),
        }
    }

    #[test]
    fn a_declaration_reads_back_until_the_adapter_or_model_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let (dir, model) = (tmp.path(), tmp.path().join("m.gguf"));
        assert_eq!(Declaration::read_checked(dir, &model).unwrap(), None);
        std::fs::write(weights(dir), b"weights").unwrap();
        std::fs::write(&model, b"model").unwrap();
        declaration(dir, &model).write(dir).unwrap();
        assert_eq!(Declaration::read_checked(dir, &model).unwrap(), Some(0.5));

        std::fs::write(&model, b"another model").unwrap();
        let e = Declaration::read_checked(dir, &model)
            .unwrap_err()
            .to_string();
        assert!(e.contains("stale") && e.contains(ACCURACY_FILE), "{e}");
        std::fs::write(&model, b"model").unwrap();
        std::fs::write(weights(dir), b"retrained").unwrap();
        let e = Declaration::read_checked(dir, &model)
            .unwrap_err()
            .to_string();
        assert!(e.contains("adapter weights changed"), "{e}");
    }

    #[test]
    fn a_malformed_declaration_is_an_error_naming_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        std::fs::write(dir.join(ACCURACY_FILE), "{\"schema\": 1}").unwrap();
        let e = Declaration::read_checked(dir, &dir.join("m.gguf"))
            .unwrap_err()
            .to_string();
        assert!(e.contains(ACCURACY_FILE) && e.contains(SCHEMA), "{e}");
    }
}
