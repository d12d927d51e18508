//! Greedy decoding with timestamps off, as CTranslate2's Whisper `generate` does it for
//! `beam_size=1`: suppressed tokens masked at every step, blank and end-of-text masked at
//! the first, the most likely token taken until `<|endoftext|>`; the no-speech
//! probability read at the `<|startoftranscript|>` position of the first step.

use candle_core::{DType, Tensor};

use super::model::WhisperModel;

use crate::Result;

/// What greedy decoding needs besides the model: the prompt and the token rules.
#[derive(Debug, Clone)]
pub struct DecodeRules {
    /// The prompt: `<|startoftranscript|>` [language, task] `<|notimestamps|>`.
    pub prompt: Vec<u32>,
    /// Index in `prompt` of `<|startoftranscript|>` (where no-speech is read).
    pub sot_index: usize,
    /// `<|endoftext|>`.
    pub eot: u32,
    /// The no-speech token (`<|nocaptions|>` or `<|nospeech|>`), if the vocabulary has one.
    pub no_speech: Option<u32>,
    /// Tokens never generated (non-speech symbols and the task tokens).
    pub suppress: Vec<u32>,
    /// Tokens not generated first (the blank and `<|endoftext|>`).
    pub suppress_begin: Vec<u32>,
    /// At most this many tokens are generated.
    pub max_new_tokens: usize,
}

/// The result of one greedy decode.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The generated tokens, without the prompt and the end-of-text token.
    pub tokens: Vec<u32>,
    /// Sum of the log-probabilities of the generated tokens, end-of-text included.
    pub sum_logprob: f32,
    /// Probability of the no-speech token at the start-of-transcript position.
    pub no_speech_prob: f32,
}

/// Decodes greedily from `audio_features` (`[1, frames, width]`, the encoder's output):
/// the prompt runs once, then one token per step against the decoder's cache.
pub fn greedy(
    model: &WhisperModel,
    audio_features: &Tensor,
    rules: &DecodeRules,
) -> Result<Decoded> {
    let vocab = model.config.vocab_size;
    let mut mask = vec![0f32; vocab];
    for &t in &rules.suppress {
        if let Some(m) = mask.get_mut(t as usize) {
            *m = f32::NEG_INFINITY;
        }
    }
    let mut begin_mask = mask.clone();
    for &t in &rules.suppress_begin {
        if let Some(m) = begin_mask.get_mut(t as usize) {
            *m = f32::NEG_INFINITY;
        }
    }

    let mut out = Decoded {
        tokens: Vec::new(),
        sum_logprob: 0.0,
        no_speech_prob: 0.0,
    };
    let limit = model
        .config
        .max_target_positions
        .saturating_sub(rules.prompt.len())
        .min(rules.max_new_tokens);
    let mut state = model.decoder.start(audio_features)?;
    let mut input = rules.prompt.clone();
    for step in 0..limit {
        let h = model.decoder.forward(&mut state, &input)?.squeeze(0)?;
        let seq = input.len();
        if step == 0 {
            if let Some(ns) = rules.no_speech {
                let first = row(&model.decoder.logits(&h.narrow(0, rules.sot_index, 1)?)?)?;
                let (max, log_sum) = log_sum_exp(&first);
                out.no_speech_prob = first
                    .get(ns as usize)
                    .map_or(0.0, |&l| (l - max - log_sum).exp());
            }
        }
        let mut logits = row(&model.decoder.logits(&h.narrow(0, seq - 1, 1)?)?)?;
        let m = if step == 0 { &begin_mask } else { &mask };
        for (l, &m) in logits.iter_mut().zip(m) {
            *l += m;
        }
        let mut next = 0;
        for (i, &l) in logits.iter().enumerate() {
            if l > logits[next] {
                next = i;
            }
        }
        let (max, log_sum) = log_sum_exp(&logits);
        out.sum_logprob += logits[next] - max - log_sum;
        let next = next as u32;
        if next == rules.eot {
            break;
        }
        out.tokens.push(next);
        input = vec![next];
    }
    Ok(out)
}

/// The one row of `[1, vocab]` scores, as f32 on the host.
fn row(logits: &Tensor) -> Result<Vec<f32>> {
    Ok(logits.squeeze(0)?.to_dtype(DType::F32)?.to_vec1()?)
}

/// `(max, ln(sum(exp(x - max))))`: `x[i] - max - ln_sum` is the log-softmax.
fn log_sum_exp(x: &[f32]) -> (f32, f32) {
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = x.iter().map(|&v| (v - max).exp()).sum();
    (max, sum.ln())
}
