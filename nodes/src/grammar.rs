//! The intent schema's grammar for the constrained decoder.

use std::path::Path;

use bora_runtime::agent::Limits;
use bora_runtime::pipeline::GuideFactory;

/// A factory of grammar guides for the model at `path` that only allow plans matching
/// the intent schema with `limits` embedded. None: generation is unconstrained.
pub fn guide_factory(_path: &Path, _limits: &Limits) -> anyhow::Result<Option<GuideFactory>> {
    Ok(None)
}
