//! Builds the agent's language model from its parameters: resolve the model name in the
//! cache, load it with the intent schema's grammar, compute the prompt's prefix cache.
//! Shared by `bora agent`, `bora intent` and `bora profile`.

use anyhow::Context;
use bora_models::registry::resolve_model;
use bora_models::DeviceSpec;
use bora_runtime::pipeline::{LlmConfig, LlmPlanModel, PlanModel};

use crate::params::AgentParams;

/// Parses `cpu` or `cuda:N` (as in the `device` parameter).
pub fn parse_device(device: &str) -> anyhow::Result<DeviceSpec> {
    match device {
        "cpu" => Ok(DeviceSpec::Cpu),
        d => match d
            .strip_prefix("cuda:")
            .or_else(|| (d == "cuda").then_some("0"))
            .map(str::parse)
        {
            Some(Ok(n)) => Ok(DeviceSpec::Cuda(n)),
            _ => anyhow::bail!("device {device:?} is not `cpu` or `cuda:N`"),
        },
    }
}

/// Sets the model's CPU thread count for this process (0 = leave the default: all cores).
/// Must run before the first model computation.
pub fn set_threads(threads: usize) {
    if threads > 0 {
        // candle's CPU kernels size their pools from these at first use.
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
        std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
    }
}

/// Loads the language model the parameters name (an error if `model` is "none").
pub fn load_llm(params: &AgentParams) -> anyhow::Result<LlmPlanModel> {
    let name = params
        .model
        .as_deref()
        .context("no model configured (model parameter is \"none\")")?;
    let path = resolve_model(name)?;
    set_threads(params.threads);
    let cfg = LlmConfig {
        path: path.clone(),
        device: parse_device(&params.device)?,
        context: params.context,
        max_tokens: params.max_tokens,
        prefill_chunk: params.prefill_chunk,
        budget: params.budget,
        policy: params.miss_policy,
        schema: Some(params.agent.limits.json_schema()),
    };
    LlmPlanModel::load(cfg)
        .with_context(|| format!("cannot load the language model {}", path.display()))
}

/// [`load_llm`] as the boxed [`PlanModel`] the agent takes.
pub fn load_plan_model(params: &AgentParams) -> anyhow::Result<Box<dyn PlanModel>> {
    Ok(Box::new(load_llm(params)?))
}
