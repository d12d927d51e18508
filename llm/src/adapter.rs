//! What an adapter directory (`model.adapter`, as `bora tune --out` writes it) gives the
//! language stage: the LoRA weights, the held-out accuracy `bora eval --declare` recorded,
//! and the plan form the adapter was trained to write.

use bora_agent::PlanForm;
use bora_models::Model;

/// Adds the LoRA adapter in `dir` to `model`; its errors name the directory.
pub(crate) fn load_adapter(dir: &std::path::Path, model: &mut Model) -> bora_models::Result<()> {
    bora_tune::infer::load_into(dir, model).map_err(|e| bora_models::Error::InvalidArgument {
        name: "adapter",
        value: dir.display().to_string(),
        reason: format!("{e}; give a directory `bora tune --out` wrote (adapter_config.json and adapter_model.safetensors)"),
    })?;
    Ok(())
}

/// The held-out accuracy `bora eval intents --declare` recorded for the adapter in
/// `dir` on `model` ([`bora_tune::declared`]); None without a declaration, an error naming
/// the file when it is stale or malformed.
pub(crate) fn adapter_accuracy(
    dir: &std::path::Path,
    model: &std::path::Path,
) -> bora_models::Result<Option<f64>> {
    bora_tune::declared::Declaration::read_checked(dir, model).map_err(|e| {
        bora_models::Error::InvalidArgument {
            name: "adapter",
            value: dir.display().to_string(),
            reason: e.to_string(),
        }
    })
}

/// The plan form the adapter in `dir` was trained to write ([`bora_tune::form`]); full
/// when it records none. An unknown or unreadable record is an error naming the file.
pub(crate) fn adapter_form(dir: &std::path::Path) -> bora_models::Result<PlanForm> {
    let invalid = |reason: String| bora_models::Error::InvalidArgument {
        name: "adapter",
        value: dir.display().to_string(),
        reason,
    };
    match bora_tune::form::read_form(dir).map_err(|e| invalid(e.to_string()))? {
        None => Ok(PlanForm::Full),
        Some(name) => name.parse().map_err(|e: bora_agent::AgentError| {
            invalid(format!("{}: {e}", bora_tune::form::FORM_FILE))
        }),
    }
}
