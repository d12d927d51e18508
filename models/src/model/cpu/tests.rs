//! The lean CPU forward (the CPU default) against the candle-ops forward on the real
//! models, and against itself under other prompt chunkings.
//!
//! Both paths quantize activations to 8 bits before every weight product, so they do not
//! agree to float noise: a value that rounds one way in one path and the other way in
//! the other moves the logits by tenths. Measured against llama.cpp
//! (`bench/logits-vs-llama.sh`), each path sits 0.20-0.26 RMS from llama.cpp's logits,
//! and llama.cpp sits 0.24 RMS (up to 0.64 at one position) from itself when only its KV
//! cache type changes. The bounds below are that noise, and the checks can fail: a
//! missing sliding-window cut is caught (tested).

use super::super::{Model, ModelOptions};
use crate::registry::resolve_model;
use crate::Result;

/// A short prompt and a plausible continuation, tokenized by each model.
const PROMPT: &str = "Robot commands:\nInput: move forward two meters\nOutput: {\"action\":";
const CONTINUATION: &str = "\"move\",\"distance_m\":2}";

/// Largest RMS logit difference allowed at any one step.
const STEP_RMS: f64 = 0.8;
/// Largest mean over the steps.
const MEAN_RMS: f64 = 0.4;
/// Near tie, as in the llama.cpp greedy test: a greedy choice may differ when the other
/// path's choice is within this many logits of its top.
const NEAR_TIE: f32 = 0.3;

fn tokens(name: &str, text: &str, prompt: bool) -> Result<Vec<u32>> {
    let tok = crate::ModelTokenizer::from_gguf_file(&resolve_model(name)?)?;
    if prompt {
        crate::generate::encode_prompt(&tok, text)
    } else {
        tok.encode(text, false)
    }
}

fn load(name: &str, context: usize, window: Option<Option<usize>>) -> Result<Model> {
    let path = resolve_model(name)?;
    let mut m = Model::load(
        &path,
        &ModelOptions {
            threads: 0,
            context,
            ..Default::default()
        },
    )?;
    if let Some(w) = window {
        for b in &mut m.blocks {
            if b.attn.window.is_some() {
                b.attn.window = w;
            }
        }
    }
    Ok(m)
}

/// Logits after every step: the prompt in chunks of `chunk`, then each continuation token.
fn run(model: &Model, prompt: &[u32], chunk: usize, cont: &[u32]) -> Result<Vec<Vec<f32>>> {
    let mut state = model.new_state()?;
    let mut out = Vec::new();
    for c in prompt.chunks(chunk) {
        out.push(model.forward(&mut state, c)?.to_vec());
    }
    for &t in cont {
        out.push(model.forward(&mut state, &[t])?.to_vec());
    }
    Ok(out)
}

/// Per step: RMS of the logit differences, and whether the greedy choices agree up to a
/// near tie.
fn differences(a: &[Vec<f32>], b: &[Vec<f32>]) -> Vec<(f64, bool)> {
    let top = |v: &[f32]| crate::sampling::argmax(v).unwrap_or(0) as usize;
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let sq: f64 = x.iter().zip(y).map(|(p, q)| f64::from(p - q).powi(2)).sum();
            let (ax, ay) = (top(x), top(y));
            let near = ax == ay || (y[ay] - y[ax]).abs() <= NEAR_TIE;
            ((sq / x.len() as f64).sqrt(), near)
        })
        .collect()
}

fn assert_close(what: &str, steps: &[(f64, bool)]) {
    let mean = steps.iter().map(|s| s.0).sum::<f64>() / steps.len() as f64;
    assert!(mean <= MEAN_RMS, "{what}: mean RMS {mean:.3}: {steps:?}");
    for (i, &(rms, near)) in steps.iter().enumerate() {
        assert!(rms <= STEP_RMS, "{what} step {i}: RMS {rms:.3}: {steps:?}");
        assert!(
            near,
            "{what} step {i}: greedy choices differ beyond a near tie: {steps:?}"
        );
    }
}

/// Lean vs candle on the short prompt (prefill in chunks of 5, then decode steps).
fn lean_vs_candle_short(name: &str) -> Result<()> {
    let (prompt, cont) = (
        tokens(name, PROMPT, true)?,
        tokens(name, CONTINUATION, false)?,
    );
    let lean = load(name, 64, None)?;
    let candle = load(name, 64, None)?.with_candle_ops();
    let steps = differences(
        &run(&lean, &prompt, 5, &cont)?,
        &run(&candle, &prompt, 5, &cont)?,
    );
    assert_close(name, &steps);
    Ok(())
}

#[test]
fn lean_cpu_forward_matches_candle_smollm2() -> Result<()> {
    lean_vs_candle_short("smollm2-135m-instruct")
}

#[test]
fn lean_cpu_forward_matches_candle_gemma3() -> Result<()> {
    lean_vs_candle_short("gemma3-270m")
}

/// A prompt longer than gemma 3's 512-token sliding window, so the local layers cut.
fn long_prompt() -> String {
    let acts = [
        "moved forward",
        "turned left",
        "moved back",
        "turned right",
        "stopped",
    ];
    let mut s = String::new();
    for n in 1..=40 {
        let a = acts[n % acts.len()];
        s.push_str(&format!(
            "Robot log entry {n}: {a} {} meters, battery {}%.\n",
            n % 9 + 1,
            100 - n
        ));
    }
    s.push_str("Robot log entry 41:");
    s
}

#[test]
fn lean_cpu_forward_matches_candle_gemma3_past_the_sliding_window() -> Result<()> {
    let name = "gemma3-270m";
    let prompt = tokens(name, &long_prompt(), true)?;
    assert!(
        prompt.len() > 600,
        "prompt of {} tokens does not pass the window",
        prompt.len()
    );
    let cont = tokens(name, " moved forward 3 meters", false)?;
    let candle = run(
        &load(name, 1024, None)?.with_candle_ops(),
        &prompt,
        256,
        &cont,
    )?;
    let lean = run(&load(name, 1024, None)?, &prompt, 256, &cont)?;
    // The steps after the prompt: the window cuts in every local layer.
    let tail = prompt.len().div_ceil(256) - 1;
    assert_close(
        "gemma3 past the window",
        &differences(&lean[tail..], &candle[tail..]),
    );
    // The check can fail: the lean path without its window cut is far outside it.
    let uncut = run(&load(name, 1024, Some(None))?, &prompt, 256, &cont)?;
    let off = differences(&uncut[tail..], &candle[tail..]);
    let worst = off.iter().fold(0f64, |m, s| m.max(s.0));
    assert!(
        worst > 2.0 * STEP_RMS,
        "a missing window cut went unnoticed: {off:?}"
    );
    Ok(())
}

#[test]
fn lean_cpu_forward_is_the_same_in_any_chunking() -> Result<()> {
    // Prefill in one pass, in chunks of 5, or token by token gives the same logits bit
    // for bit (the kernels sum each output in one order whatever the batch), so a cached
    // prefix or another chunk size never changes a generation. gemma 3 with its window
    // shrunk to 6 so that chunks straddle cuts.
    for (name, window) in [
        ("smollm2-135m-instruct", None),
        ("gemma3-270m", Some(Some(6))),
    ] {
        let (prompt, cont) = (
            tokens(name, PROMPT, true)?,
            tokens(name, CONTINUATION, false)?,
        );
        let m = load(name, 64, window)?;
        let last = |chunk: usize| -> Result<Vec<Vec<f32>>> {
            let all = run(&m, &prompt, chunk, &cont)?;
            Ok(all[all.len() - cont.len() - 1..].to_vec())
        };
        let one_pass = last(prompt.len())?;
        for chunk in [5, 1] {
            assert!(
                last(chunk)? == one_pass,
                "{name}: chunks of {chunk} changed the logits"
            );
        }
    }
    Ok(())
}
