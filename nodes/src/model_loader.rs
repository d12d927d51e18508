//! Builds the agent's language model from its parameters: resolve the model name in the
//! cache, load it with the intent schema's grammar, compute the prompt's prefix cache.
//! Shared by `bora agent`, `bora intent` and `bora profile`.

use anyhow::Context;
use bora_llm::{LlmConfig, LlmPlanModel};
use bora_models::generate::load_model_and_tokenizer;
use bora_models::registry::{resolve_model, shipped_adapter};
use bora_models::{Model, ModelOptions, ModelTokenizer};
use bora_pipeline::PlanModel;

use crate::params::{AdapterChoice, AgentParams};

/// Most compute threads a flag or parameter accepts (`threads`, `--threads`,
/// `--stress-cpu`): far above any board bora runs on, and low enough that a typo such as
/// `--threads 100000` is refused instead of spawning a thread each (which overflowed a
/// kernel worker's stack).
pub const MAX_THREADS: usize = 1024;

/// Parses a thread count flag: 0 (the default: one per logical CPU) to [`MAX_THREADS`].
pub fn parse_threads(s: &str) -> Result<usize, String> {
    let n: usize = s.trim().parse().map_err(|_| {
        format!("`{s}` is not a thread count: give 0 (one per logical CPU) to {MAX_THREADS}")
    })?;
    if n > MAX_THREADS {
        return Err(format!(
            "{n} threads is more than {MAX_THREADS}: give 0 (one per logical CPU) to {MAX_THREADS}"
        ));
    }
    Ok(n)
}

/// Loads the language model the parameters name (an error if `model` is "none").
pub fn load_llm(params: &AgentParams) -> anyhow::Result<LlmPlanModel> {
    let name = params
        .model
        .as_deref()
        .context("no model configured (model parameter is \"none\")")?;
    let path = resolve_model(name)?;
    let adapter = match &params.adapter {
        AdapterChoice::Auto => shipped_adapter(&path)?,
        AdapterChoice::None => None,
        AdapterChoice::Dir(dir) => Some(dir.clone()),
    };
    let cfg = LlmConfig {
        path: path.clone(),
        device: params.device.parse()?,
        threads: params.threads,
        context: params.context,
        max_tokens: params.max_tokens,
        prefill_chunk: params.prefill_chunk,
        budget: params.budget,
        policy: params.miss_policy,
        limits: Some(params.agent.limits.clone()),
        adapter,
        draft: params.draft,
        forced_draft: params.forced_draft,
    };
    LlmPlanModel::load(cfg)
        .with_context(|| format!("cannot load the language model {}", path.display()))
}

/// Loads a model and its tokenizer for the model-only commands (`generate`, `bench`):
/// `threads` None or 0: one kernel thread per logical CPU.
pub fn load_model_only(
    model: &str,
    device: &str,
    context: usize,
    threads: Option<usize>,
) -> anyhow::Result<(Model, ModelTokenizer)> {
    if let Some(t) = threads {
        parse_threads(&t.to_string()).map_err(|e| anyhow::anyhow!("--threads: {e}"))?;
    }
    let path = resolve_model(model)?;
    let options = ModelOptions {
        context,
        device: device.parse()?,
        threads: threads.unwrap_or(0),
    };
    load_model_and_tokenizer(&path, &options).with_context(|| format!("loading {}", path.display()))
}

/// [`load_llm`] as the boxed [`PlanModel`] the agent takes.
pub fn load_plan_model(params: &AgentParams) -> anyhow::Result<Box<dyn PlanModel>> {
    Ok(Box::new(load_llm(params)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_are_bounded() {
        assert_eq!(parse_threads("0"), Ok(0));
        assert_eq!(parse_threads("1024"), Ok(MAX_THREADS));
        for bad in ["1025", "100000", "-1", "four", ""] {
            let e = parse_threads(bad).expect_err(bad);
            assert!(e.contains("0 (one per logical CPU) to 1024"), "{bad}: {e}");
        }
    }
}
