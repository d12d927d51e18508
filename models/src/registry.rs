//! Model names and where their files live: the known models in the local model cache
//! (`$BORA_MODELS`, default `~/.cache/bora/models`), or any path to a GGUF file.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Environment variable that overrides the model cache directory.
pub const MODELS_DIR_ENV: &str = "BORA_MODELS";

/// The model used when none is named: SmolLM2-135M-Instruct, Q4_1.
pub const DEFAULT_MODEL: &str = "smollm2-135m-instruct";

/// Known model names and their file names in the model cache (fetched by scripts/setup.sh).
pub const KNOWN_MODELS: &[(&str, &str)] = &[
    ("smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
    ("gemma3-270m", "gemma-3-270m-q4_k_m.gguf"),
];

/// The model cache directory: `$BORA_MODELS` if set and non-empty, else
/// `$HOME/.cache/bora/models` (or `.cache/bora/models` relative to the working directory
/// when `HOME` is unset).
pub fn models_dir() -> PathBuf {
    match std::env::var_os(MODELS_DIR_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".cache").join("bora").join("models")
        }
    }
}

/// Turns a model name or a path into the path of a GGUF file.
///
/// A known name (see [`KNOWN_MODELS`], matched case-insensitively) resolves in
/// [`models_dir`] and must exist there; anything else must be an existing file.
pub fn resolve_model(name_or_path: &str) -> Result<PathBuf> {
    resolve_model_in(name_or_path, &models_dir())
}

/// [`resolve_model`] against an explicit cache directory (for tests and tools).
pub fn resolve_model_in(name_or_path: &str, dir: &Path) -> Result<PathBuf> {
    let known = KNOWN_MODELS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(name_or_path));
    if let Some((name, file)) = known {
        let path = dir.join(file);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(Error::ModelNotCached {
                name: (*name).to_string(),
                path,
            })
        };
    }
    let path = PathBuf::from(name_or_path);
    if path.is_file() {
        return Ok(path);
    }
    Err(Error::UnknownModel {
        name: name_or_path.to_string(),
        dir: dir.to_path_buf(),
        known: KNOWN_MODELS
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_name_resolves_in_the_cache_dir() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gemma-3-270m-q4_k_m.gguf");
        std::fs::write(&file, b"GGUF").unwrap();
        assert_eq!(resolve_model_in("gemma3-270m", dir.path()).unwrap(), file);
        assert_eq!(resolve_model_in("Gemma3-270M", dir.path()).unwrap(), file);
    }

    #[test]
    fn known_name_missing_from_cache_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_model_in(DEFAULT_MODEL, dir.path()).unwrap_err();
        match err {
            Error::ModelNotCached { name, path } => {
                assert_eq!(name, DEFAULT_MODEL);
                assert_eq!(path, dir.path().join("SmolLM2-135M-Instruct.Q4_1.gguf"));
            }
            other => panic!("expected ModelNotCached, got {other:?}"),
        }
    }

    #[test]
    fn existing_path_is_used_as_is() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mine.gguf");
        std::fs::write(&file, b"GGUF").unwrap();
        let arg = file.to_str().unwrap();
        assert_eq!(resolve_model_in(arg, dir.path()).unwrap(), file);
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_model_in("llama-70b", dir.path()).unwrap_err();
        match &err {
            Error::UnknownModel { name, known, .. } => {
                assert_eq!(name, "llama-70b");
                assert_eq!(known, "smollm2-135m-instruct, gemma3-270m");
            }
            other => panic!("expected UnknownModel, got {other:?}"),
        }
        assert!(err.to_string().contains("scripts/setup.sh"));
    }
}
