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

/// Adapters shipped with bora, by the model file they were trained on: (file name,
/// adapter name). The agent adds them by default (`model.adapter` `auto`).
pub const SHIPPED_ADAPTERS: &[(&str, &str)] =
    &[("SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2-intents")];

/// Where the source tree this crate was built from keeps the shipped adapters.
const SOURCE_ADAPTERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/adapters");

/// The adapter shipped for the model file at `model` (matched by file name), or None when
/// bora ships none for it. Looked for in the source tree the binary was built from, then
/// in `$BORA_MODELS/adapters/` (where scripts/setup.sh installs it for binaries that
/// run elsewhere); an error names both places when it is in neither.
pub fn shipped_adapter(model: &Path) -> Result<Option<PathBuf>> {
    shipped_adapter_in(
        model,
        Path::new(SOURCE_ADAPTERS),
        &models_dir().join("adapters"),
    )
}

/// [`shipped_adapter`] against explicit source and installed adapter directories.
pub fn shipped_adapter_in(
    model: &Path,
    source_tree: &Path,
    installed: &Path,
) -> Result<Option<PathBuf>> {
    let file = model.file_name().and_then(|f| f.to_str()).unwrap_or("");
    let Some((_, name)) = SHIPPED_ADAPTERS.iter().find(|(f, _)| *f == file) else {
        return Ok(None);
    };
    let (source_tree, installed) = (source_tree.join(name), installed.join(name));
    for dir in [&source_tree, &installed] {
        if dir.join("adapter_config.json").is_file() {
            return Ok(Some(dir.clone()));
        }
    }
    Err(Error::AdapterNotFound {
        name: (*name).to_string(),
        model: file.to_string(),
        installed,
        source_tree,
    })
}

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
    fn the_shipped_adapter_is_found_by_model_file_name() {
        let (src, inst) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let model = Path::new("/anywhere/SmolLM2-135M-Instruct.Q4_1.gguf");
        let err = shipped_adapter_in(model, src.path(), inst.path()).unwrap_err();
        assert!(matches!(err, Error::AdapterNotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("model.adapter:=none"), "{err}");
        let dir = inst.path().join("smollm2-intents");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("adapter_config.json"), b"{}").unwrap();
        let found = shipped_adapter_in(model, src.path(), inst.path()).unwrap();
        assert_eq!(found, Some(dir));
        let other = Path::new("gemma-3-270m-q4_k_m.gguf");
        assert_eq!(
            shipped_adapter_in(other, src.path(), inst.path()).unwrap(),
            None
        );
    }

    #[test]
    fn the_source_tree_ships_the_default_models_adapter() {
        let model = Path::new(KNOWN_MODELS[0].1);
        let dir = shipped_adapter_in(model, Path::new(SOURCE_ADAPTERS), Path::new("/nonexistent"));
        assert!(dir.unwrap().is_some());
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
