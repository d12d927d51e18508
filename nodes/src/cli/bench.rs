//! `bora bench`: prefill and decode speed, time to first token cold and cached, peak RSS
//! and the fraction of the measured memory bandwidth decode reaches.

use bora_models::bench::{self, BenchOptions};

use super::common::{DeviceArg, ModelArg, ThreadsArg};

/// Arguments of `bora bench`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub model: ModelArg,
    #[command(flatten)]
    pub threads: ThreadsArg,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Prompt tokens for the prefill measurement.
    #[arg(long, default_value_t = 128)]
    pub prefill_tokens: usize,
    /// Tokens decoded after the prompt.
    #[arg(long, default_value_t = 64)]
    pub decode_tokens: usize,
    /// Context length in tokens (sizes the KV cache).
    #[arg(long, default_value_t = bora_models::model::DEFAULT_CONTEXT)]
    pub context: usize,
    #[command(flatten)]
    pub device: DeviceArg,
}

/// Run `bora bench`.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let (model, tokenizer) = bora_nodes::model_loader::load_model_only(
        &args.model.model,
        &args.device.device,
        args.context,
        Some(args.threads.threads),
    )?;
    let opts = BenchOptions {
        prefill_tokens: args.prefill_tokens,
        decode_tokens: args.decode_tokens,
        ..Default::default()
    };
    let r = bench::run(&model, &tokenizer, &opts)?;
    if args.json {
        let mut v = serde_json::to_value(&r)?;
        v["model"] = serde_json::Value::String(args.model.model.clone());
        println!("{}", serde_json::to_string(&v)?);
        return Ok(());
    }
    let mib = |b: f64| b / (1024.0 * 1024.0);
    println!(
        "model        {} ({}, {:.1} MiB file)",
        args.model.model,
        r.architecture,
        mib(r.file_bytes as f64)
    );
    println!("threads      {}", r.threads);
    println!(
        "prefill      {:.1} tok/s ({} tokens)",
        r.prefill_tok_s, r.prefill_tokens
    );
    println!(
        "decode       {:.1} tok/s ({} tokens; step p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms)",
        r.decode_tok_s, r.decode_tokens, r.decode_ms_p50, r.decode_ms_p99, r.decode_ms_max
    );
    println!(
        "TTFT         cold {:.1} ms, cached prefix {:.1} ms ({} prefix + {} request tokens)",
        r.ttft_cold_ms, r.ttft_cached_ms, r.ttft_prefix_tokens, r.ttft_request_tokens
    );
    match r.peak_rss_bytes {
        Some(b) => println!(
            "peak RSS     {:.1} MiB (file {:.1} MiB, KV cache for {} tokens {:.1} MiB)",
            mib(b as f64),
            mib(r.file_bytes as f64),
            r.context,
            mib(r.kv_cache_bytes as f64)
        ),
        None => println!("peak RSS     not reported by this OS"),
    }
    println!(
        "bandwidth    {:.1} GB/s measured; decode reads {:.1} MiB/token = {:.1} GB/s = {:.0}% of it",
        r.bandwidth_gb_s,
        mib(r.weight_bytes_per_token as f64),
        r.decode_gb_s,
        r.decode_bandwidth_fraction * 100.0
    );
    Ok(())
}
