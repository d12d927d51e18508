//! Greedy decoding with timestamps off, as CTranslate2's Whisper `generate` does it for
//! `beam_size=1`: suppressed tokens masked at every step, blank and end-of-text masked at
//! the first, the most likely token taken until `<|endoftext|>`; the no-speech
//! probability read at the `<|startoftranscript|>` position of the first step.

use candle_core::{DType, IndexOp, Tensor, D};
use candle_transformers::models::whisper::model::Whisper as CandleWhisper;

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

/// Decodes greedily from `audio_features` (`[1, frames, width]`, the encoder's output).
pub fn greedy(
    model: &mut CandleWhisper,
    audio_features: &Tensor,
    rules: &DecodeRules,
) -> Result<Decoded> {
    let device = audio_features.device().clone();
    let vocab = model.config.vocab_size;
    let mut mask = vec![0f32; vocab];
    for &t in &rules.suppress {
        if let Some(m) = mask.get_mut(t as usize) {
            *m = f32::NEG_INFINITY;
        }
    }
    let mask = Tensor::from_vec(mask, vocab, &device)?;
    let mut begin_mask = vec![0f32; vocab];
    for &t in &rules.suppress_begin {
        if let Some(m) = begin_mask.get_mut(t as usize) {
            *m = f32::NEG_INFINITY;
        }
    }
    let begin_mask = (Tensor::from_vec(begin_mask, vocab, &device)? + &mask)?;

    let mut tokens = rules.prompt.clone();
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
    for step in 0..limit {
        let input = Tensor::new(tokens.as_slice(), &device)?.unsqueeze(0)?;
        let ys = model.decoder.forward(&input, audio_features, step == 0)?;
        let seq = tokens.len();
        if step == 0 {
            if let Some(ns) = rules.no_speech {
                let first = model
                    .decoder
                    .final_linear(&ys.i((..1, rules.sot_index..rules.sot_index + 1))?)?
                    .i((0, 0))?;
                let probs = candle_nn::ops::softmax_last_dim(&first.to_dtype(DType::F32)?)?;
                out.no_speech_prob = probs.i(ns as usize)?.to_scalar::<f32>()?;
            }
        }
        let logits = model
            .decoder
            .final_linear(&ys.i((..1, seq - 1..))?)?
            .i((0, 0))?
            .to_dtype(DType::F32)?;
        let logits = logits.broadcast_add(if step == 0 { &begin_mask } else { &mask })?;
        let logprobs = candle_nn::ops::log_softmax(&logits, D::Minus1)?;
        let next = logprobs.argmax(D::Minus1)?.to_scalar::<u32>()?;
        out.sum_logprob += logprobs.i(next as usize)?.to_scalar::<f32>()?;
        if next == rules.eot {
            break;
        }
        tokens.push(next);
        out.tokens.push(next);
    }
    Ok(out)
}
