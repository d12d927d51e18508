//! Model benchmark: prefill and decode speed, time to first token cold and with a cached
//! prefix, peak RSS, and decode's share of the memory bandwidth measured in the same run.
//!
//! Speed is reported beside its limit: bytes of weights read per decoded token times
//! tokens/s, over the measured read bandwidth, is the fraction of the physical limit.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::generate::{encode_prompt, Event, GenerateOptions, Generation};
use crate::model::Model;
use crate::prefix_cache::PrefixCache;
use crate::sampling::argmax;
use crate::tokenizer::ModelTokenizer;
use crate::{Error, Result};

/// Text the prefill prompt is cut from (cycled to the requested length).
const PREFILL_TEXT: &str =
    "The robot stands in a small workshop. To its left is a bench with tools; \
to its right a door that opens onto a corridor. Commands arrive by voice, one at a time, and each \
must become a short JSON action: move a distance in meters, turn an angle in degrees, wait some \
seconds, say a sentence, or stop. ";
/// Fixed prefix used for the time-to-first-token measurements (a system prompt).
const TTFT_PREFIX: &str = "You are the language stage of a mobile robot. Turn each spoken command \
into one JSON action such as {\"action\":\"move\",\"distance_m\":1.0}, \
{\"action\":\"turn\",\"angle_deg\":90}, {\"action\":\"wait\",\"seconds\":2} or {\"action\":\"stop\"}.\n";
/// The request after the prefix.
const TTFT_REQUEST: &str = "Command: move forward two meters and then turn left.\nAction:";

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Prompt length for the prefill measurement (tokens).
    pub prefill_tokens: usize,
    /// Tokens decoded after the prompt.
    pub decode_tokens: usize,
    /// Size of the buffer read to measure memory bandwidth (bytes; larger than caches).
    pub bandwidth_bytes: usize,
    /// Threads that read the buffer; `None`: as many as compute (`BenchReport::threads`).
    pub bandwidth_threads: Option<usize>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            prefill_tokens: 128,
            decode_tokens: 64,
            bandwidth_bytes: 256 << 20,
            bandwidth_threads: None,
        }
    }
}

/// Results of one benchmark run.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// Architecture (`general.architecture`).
    pub architecture: String,
    /// Size of the GGUF file (bytes).
    pub file_bytes: u64,
    /// Compute threads: bora's kernel pool on the CPU, candle's elsewhere; the read
    /// bandwidth is measured with as many (unless `bandwidth_threads` says otherwise).
    pub threads: usize,
    /// Prompt tokens prefilled in one pass.
    pub prefill_tokens: usize,
    /// Prefill speed (tokens/s).
    pub prefill_tok_s: f64,
    /// Tokens decoded.
    pub decode_tokens: usize,
    /// Decode speed (tokens/s).
    pub decode_tok_s: f64,
    /// Median time of one decode step (ms).
    pub decode_ms_p50: f64,
    /// 99th percentile of one decode step (ms).
    pub decode_ms_p99: f64,
    /// Slowest decode step (ms).
    pub decode_ms_max: f64,
    /// Tokens in the fixed prefix of the TTFT measurement.
    pub ttft_prefix_tokens: usize,
    /// Tokens of the request after the prefix.
    pub ttft_request_tokens: usize,
    /// Time to first token prefilling prefix + request (ms).
    pub ttft_cold_ms: f64,
    /// Time to first token restoring the cached prefix and prefilling the request (ms).
    pub ttft_cached_ms: f64,
    /// Peak resident set size of the process (bytes; VmHWM), if the OS reports it.
    pub peak_rss_bytes: Option<u64>,
    /// KV cache size for the configured context (bytes, if fully used).
    pub kv_cache_bytes: usize,
    /// Configured context (tokens).
    pub context: usize,
    /// Weight bytes one decoded token reads.
    pub weight_bytes_per_token: usize,
    /// Measured memory read bandwidth (GB/s, 1e9 bytes).
    pub bandwidth_gb_s: f64,
    /// Bandwidth decode reaches (GB/s): weight bytes per token x decode tokens/s.
    pub decode_gb_s: f64,
    /// `decode_gb_s / bandwidth_gb_s`.
    pub decode_bandwidth_fraction: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Run the benchmark on a loaded model.
pub fn run(model: &Model, tokenizer: &ModelTokenizer, opts: &BenchOptions) -> Result<BenchReport> {
    let needed = opts.prefill_tokens + opts.decode_tokens;
    if opts.prefill_tokens == 0 || opts.decode_tokens == 0 || needed > model.context() {
        return Err(Error::InvalidArgument {
            name: "bench lengths",
            value: format!(
                "prefill {} + decode {}",
                opts.prefill_tokens, opts.decode_tokens
            ),
            reason: format!(
                "both must be positive and fit the context of {} tokens",
                model.context()
            ),
        });
    }
    let text_ids = tokenizer.encode(PREFILL_TEXT, false)?;
    let prompt: Vec<u32> = text_ids
        .iter()
        .copied()
        .cycle()
        .take(opts.prefill_tokens)
        .collect();
    let mut state = model.new_state()?;

    // Warm up (thread pool start, first-touch of buffers) outside the timed region.
    model.forward(&mut state, &prompt[..prompt.len().min(8)])?;
    state.reset();

    let t = Instant::now();
    let logits = model.forward(&mut state, &prompt)?;
    let prefill = t.elapsed();
    let mut next = argmax(logits).unwrap_or(0);
    let mut steps = Vec::with_capacity(opts.decode_tokens);
    let t = Instant::now();
    for _ in 0..opts.decode_tokens {
        let s = Instant::now();
        let logits = model.forward(&mut state, &[next])?;
        next = argmax(logits).unwrap_or(0);
        steps.push(s.elapsed());
    }
    let decode = t.elapsed();
    steps.sort_unstable();
    let pct = |p: f64| ms(steps[((steps.len() - 1) as f64 * p).round() as usize]);

    let prefix = encode_prompt(tokenizer, TTFT_PREFIX)?;
    let request = tokenizer.encode(TTFT_REQUEST, false)?;
    let mut full = prefix.clone();
    full.extend(&request);
    let t = Instant::now();
    state.reset();
    let ttft_cold = first_token(model, tokenizer, &mut state, full.clone(), t)?;
    let cache = PrefixCache::build(model, &mut state, prefix.clone(), 64)?;
    let t = Instant::now();
    let rest = cache.prepare(&mut state, &full)?;
    let ttft_cached = first_token(model, tokenizer, &mut state, rest, t)?;

    // Read before the bandwidth buffer exists: VmHWM never goes down.
    let peak_rss = peak_rss_bytes();
    // The threads that ran the products: bora's kernel pool on the CPU (`--threads`),
    // candle's on another device.
    let threads = if model.device().is_cpu() {
        crate::kernels::pool::global().threads()
    } else {
        candle_core::utils::get_num_threads()
    };
    let bandwidth = measure_read_bandwidth(
        opts.bandwidth_bytes,
        opts.bandwidth_threads.unwrap_or(threads),
    );
    let decode_tok_s = opts.decode_tokens as f64 / decode.as_secs_f64();
    let weight_bytes = model.weight_bytes_per_token();
    let decode_bw = weight_bytes as f64 * decode_tok_s;
    Ok(BenchReport {
        architecture: format!("{:?}", model.config().arch).to_lowercase(),
        file_bytes: model.file_size(),
        threads,
        prefill_tokens: opts.prefill_tokens,
        prefill_tok_s: opts.prefill_tokens as f64 / prefill.as_secs_f64(),
        decode_tokens: opts.decode_tokens,
        decode_tok_s,
        decode_ms_p50: pct(0.5),
        decode_ms_p99: pct(0.99),
        decode_ms_max: pct(1.0),
        ttft_prefix_tokens: prefix.len(),
        ttft_request_tokens: request.len(),
        ttft_cold_ms: ms(ttft_cold),
        ttft_cached_ms: ms(ttft_cached),
        peak_rss_bytes: peak_rss,
        kv_cache_bytes: model.kv_cache_bytes(),
        context: model.context(),
        weight_bytes_per_token: weight_bytes,
        bandwidth_gb_s: bandwidth / 1e9,
        decode_gb_s: decode_bw / 1e9,
        decode_bandwidth_fraction: decode_bw / bandwidth,
    })
}

/// Time from `start` to the first generated token (greedy) for `prompt` at the state's position.
fn first_token(
    model: &Model,
    tokenizer: &ModelTokenizer,
    state: &mut crate::model::ModelState,
    prompt: Vec<u32>,
    start: Instant,
) -> Result<Duration> {
    let opts = GenerateOptions {
        max_tokens: 1,
        prefill_chunk: 64,
        ..Default::default()
    };
    for ev in Generation::new(model, tokenizer, state, prompt, opts)? {
        match ev? {
            Event::Token { at, .. } => return Ok(at - start),
            Event::Done { at, .. } => return Ok(at - start),
            Event::Prefill { .. } => {}
        }
    }
    Ok(start.elapsed())
}

/// Read bandwidth of main memory (bytes/s): `threads` threads sum disjoint parts of a
/// `bytes`-sized buffer; best of several passes.
///
/// The scoped threads live only for the measurement.
pub fn measure_read_bandwidth(bytes: usize, threads: usize) -> f64 {
    let words = (bytes / 8).max(1 << 16);
    let buf: Vec<u64> = (0..words as u64).collect();
    let threads = threads.max(1);
    let part = words.div_ceil(threads);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let total: u64 = std::thread::scope(|s| {
            let handles: Vec<_> = buf
                .chunks(part)
                .map(|c| s.spawn(move || c.iter().fold(0u64, |a, &x| a.wrapping_add(x))))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(0))
                .fold(0u64, u64::wrapping_add)
        });
        std::hint::black_box(total);
        best = best.min(t.elapsed().as_secs_f64());
    }
    (words * 8) as f64 / best
}

/// Peak resident set size of this process in bytes (VmHWM from /proc/self/status).
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bandwidth_is_positive_and_plausible() {
        let bw = measure_read_bandwidth(16 << 20, 2);
        assert!(bw > 1e8 && bw < 1e13, "{bw}");
    }

    #[test]
    fn peak_rss_is_reported_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(peak_rss_bytes().is_some_and(|b| b > 1 << 20));
        }
    }
}
