//! `bora generate`: stream a model's continuation of a raw prompt to stdout.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Context;
use bora_models::generate::{encode_prompt, Event, GenerateOptions, Generation, StopReason};
use bora_models::sampling::Sampling;
use bora_models::Constraint;

use super::common::{DeviceArg, ModelArg, ThreadsArg};

/// Arguments of `bora generate`.
#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    #[command(flatten)]
    pub model: ModelArg,
    /// Most tokens to generate.
    #[arg(long, default_value_t = 64)]
    pub max_tokens: usize,
    /// Always take the most likely token (ignores --temperature, --top-p, --seed).
    #[arg(long)]
    pub greedy: bool,
    /// RNG seed for sampling [default: from the clock].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Sampling temperature (> 0).
    #[arg(long, default_value_t = 0.8)]
    pub temperature: f32,
    /// Nucleus sampling: keep the most likely tokens up to this probability mass, (0, 1].
    #[arg(long, default_value_t = 0.95)]
    pub top_p: f32,
    #[command(flatten)]
    pub device: DeviceArg,
    /// Context length in tokens (KV cache and rotary tables are sized to it).
    #[arg(long, default_value_t = bora_models::model::DEFAULT_CONTEXT)]
    pub context: usize,
    /// Prompt tokens per prefill pass.
    #[arg(long, default_value_t = bora_models::generate::DEFAULT_PREFILL_CHUNK)]
    pub prefill_chunk: usize,
    #[command(flatten)]
    pub threads: ThreadsArg,
    /// Constrain the output to this JSON Schema (a file); the output always parses.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<std::path::PathBuf>,
    /// Print timing (prefill, time to first token, tokens/s) to stderr at the end.
    #[arg(long)]
    pub stats: bool,
    /// The prompt, raw: special tokens written in it are parsed; BOS is added when the
    /// model's metadata asks for it.
    pub prompt: String,
}

/// Run `bora generate`.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let (model, tokenizer) = bora_nodes::model_loader::load_model_only(
        &args.model.model,
        &args.device.device,
        args.context,
        Some(args.threads.threads),
    )?;
    let prompt = encode_prompt(&tokenizer, &args.prompt)?;
    let sampling = if args.greedy {
        Sampling::Greedy
    } else {
        let seed = args.seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        });
        Sampling::TopP {
            temperature: args.temperature,
            top_p: args.top_p,
            seed,
        }
    };
    let opts = GenerateOptions {
        max_tokens: args.max_tokens,
        prefill_chunk: args.prefill_chunk,
        sampling,
        ..Default::default()
    };
    let mut constraint = match &args.schema {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading schema {}", file.display()))?;
            let schema: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("schema {} is not JSON", file.display()))?;
            Some(Constraint::json_schema(&tokenizer, &schema)?)
        }
        None => None,
    };
    let n_prompt = prompt.len();
    let mut state = model.new_state()?;
    let start = Instant::now();
    let mut prefill = Duration::ZERO;
    let mut ttft = None;
    let mut n_tokens = 0usize;
    let mut reason = StopReason::MaxTokens;
    let mut out = std::io::stdout().lock();
    let mut generation = Generation::new(&model, &tokenizer, &mut state, prompt, opts)?;
    if let Some(c) = constraint.as_mut() {
        generation = generation.with_guide(c);
    }
    for ev in generation {
        match ev? {
            Event::Prefill { took, .. } => prefill += took,
            Event::Token { text, at, .. } => {
                ttft.get_or_insert(at - start);
                n_tokens += 1;
                out.write_all(text.as_bytes())?;
                out.flush()?;
            }
            Event::Done {
                reason: r, text, ..
            } => {
                out.write_all(text.as_bytes())?;
                reason = r;
            }
        }
    }
    writeln!(out)?;
    if args.stats {
        let total = start.elapsed();
        let ttft = ttft.unwrap_or(total);
        let decode = total.saturating_sub(ttft).as_secs_f64();
        let rate = if n_tokens > 1 && decode > 0.0 {
            (n_tokens - 1) as f64 / decode
        } else {
            0.0
        };
        eprintln!(
            "prompt {n_prompt} tokens, prefill {:.1} ms ({:.0} tok/s), first token {:.1} ms, \
             {n_tokens} tokens at {rate:.1} tok/s, stop: {reason:?}",
            prefill.as_secs_f64() * 1e3,
            n_prompt as f64 / prefill.as_secs_f64().max(1e-9),
            ttft.as_secs_f64() * 1e3,
        );
        if let Some(c) = &constraint {
            let m = c.mask_stats();
            eprintln!("constraint masks: {m:?}, mean {:.1} us", m.mean_us());
        }
    }
    Ok(())
}
