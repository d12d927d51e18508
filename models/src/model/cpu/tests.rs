//! The lean CPU forward against the candle-ops forward on the real models: the same
//! logits (within float noise) through chunked prefill, decode steps, and (gemma3, with
//! its window shrunk to 4 on both paths) sliding-window cuts.

use super::super::{Model, ModelOptions};
use crate::registry::resolve_model;
use crate::Result;

/// Tokens of a short prompt (ids well inside both vocabularies).
const PROMPT: [u32; 12] = [1, 504, 3458, 314, 253, 1345, 28, 732, 6693, 30, 198, 42];

fn load(name: &str, window: Option<usize>) -> Result<Model> {
    let path = resolve_model(name)?;
    let mut m = Model::load(
        &path,
        &ModelOptions {
            context: 64,
            ..Default::default()
        },
    )?;
    if let Some(w) = window {
        for b in &mut m.blocks {
            if b.attn.window.is_some() {
                b.attn.window = Some(w);
            }
        }
    }
    Ok(m)
}

/// Logits after every step: prefill in chunks of 5, then 4 decode tokens.
fn run(model: &Model) -> Result<Vec<Vec<f32>>> {
    let mut state = model.new_state()?;
    let mut out = Vec::new();
    for chunk in PROMPT.chunks(5) {
        out.push(model.forward(&mut state, chunk)?.to_vec());
    }
    for t in [17u32, 900, 5, 77] {
        out.push(model.forward(&mut state, &[t])?.to_vec());
    }
    Ok(out)
}

fn compare(name: &str, window: Option<usize>) -> Result<()> {
    let mut lean = load(name, window)?;
    lean.lean = true;
    let reference = load(name, window)?.with_candle_ops();
    let (a, b) = (run(&lean)?, run(&reference)?);
    for (step, (x, y)) in a.iter().zip(&b).enumerate() {
        let scale = y.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = x.iter().zip(y).fold(0f32, |m, (p, q)| m.max((p - q).abs()));
        assert!(
            diff <= 2e-3 * scale.max(1.0),
            "{name} step {step}: max |diff| {diff} vs max |logit| {scale}"
        );
        assert_eq!(
            crate::sampling::argmax(x),
            crate::sampling::argmax(y),
            "{name} step {step}: greedy token differs"
        );
    }
    Ok(())
}

#[test]
#[ignore = "lean path logits differ from candle's (max 0.47 of 15.5 on SmolLM2, 5.5 of 29.5 on gemma3); opt-in until found (issue #8)"]
fn lean_cpu_forward_matches_candle_smollm2() -> Result<()> {
    compare("smollm2-135m-instruct", None)
}

#[test]
#[ignore = "lean path logits differ from candle's (max 0.47 of 15.5 on SmolLM2, 5.5 of 29.5 on gemma3); opt-in until found (issue #8)"]
fn lean_cpu_forward_matches_candle_gemma3_with_window_cuts() -> Result<()> {
    compare("gemma3-270m", Some(4))
}
