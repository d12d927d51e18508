//! Streaming generation: chunked prefill, then one token per step, as an iterator of
//! timed events so the caller can check its latency budget between any two steps.
//!
//! ```text
//! Prefill{chunk 1} .. Prefill{chunk n}  Token  Token ... Done{reason}
//! ```
//! A forward pass cannot be interrupted, so a step is the unit of preemption: the
//! cancel flag is read before every chunk and every token.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::gguf::GgufFile;
use crate::model::{Model, ModelOptions, ModelState};
use crate::sampling::{Sampler, Sampling};
use crate::tokenizer::{ModelTokenizer, StreamDecoder};
use crate::{Error, Result};

pub use crate::model::DEFAULT_PREFILL_CHUNK;

/// Something that restricts which tokens may come next (e.g. a JSON-schema grammar).
pub trait Guide {
    /// Set the logits of tokens that may not come next to -inf.
    fn mask_logits(&mut self, logits: &mut [f32]) -> Result<()>;
    /// Record that `token` was chosen.
    fn commit(&mut self, token: u32) -> Result<()>;
    /// Whether the grammar is complete (generation should stop).
    fn is_finished(&self) -> bool;
}

/// Parameters of one generation.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Most tokens to generate.
    pub max_tokens: usize,
    /// Prompt tokens per prefill forward pass (>= 1); smaller chunks give the caller
    /// more chances to check a deadline, larger ones are faster.
    pub prefill_chunk: usize,
    /// How tokens are chosen.
    pub sampling: Sampling,
    /// Stop when the generated text contains one of these (it is not emitted).
    pub stop_strings: Vec<String>,
    /// Token ids that end generation besides the tokenizer's EOS ids (e.g. end-of-turn).
    pub stop_ids: Vec<u32>,
    /// Set from another thread to stop at the next step.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            max_tokens: 64,
            prefill_chunk: DEFAULT_PREFILL_CHUNK,
            sampling: Sampling::Greedy,
            stop_strings: Vec::new(),
            stop_ids: Vec::new(),
            cancel: None,
        }
    }
}

/// Why a generation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// An EOS or stop id was sampled (not emitted).
    Eos(u32),
    /// The text matched this stop string.
    StopString(String),
    /// `max_tokens` were generated.
    MaxTokens,
    /// The cancel flag was set.
    Cancelled,
    /// The guide's grammar is complete.
    GuideFinished,
    /// The model state has no room for another token.
    ContextFull,
}

/// One step of a generation.
#[derive(Debug, Clone)]
pub enum Event {
    /// A prefill chunk was run.
    Prefill {
        /// Tokens in this chunk.
        tokens: usize,
        /// Prompt tokens prefilled so far (including this chunk).
        done: usize,
        /// Prompt tokens to prefill in all.
        total: usize,
        /// Time the chunk's forward pass took.
        took: Duration,
        /// When the chunk finished.
        at: Instant,
    },
    /// A token was generated.
    Token {
        /// Token id.
        id: u32,
        /// Text this token completes (may be empty while a UTF-8 character or a possible
        /// stop string is incomplete).
        text: String,
        /// 0-based index among generated tokens.
        index: usize,
        /// Time of this step: forward pass (none for the first token, whose logits come
        /// from prefill), mask and sampling.
        took: Duration,
        /// Time the guide took to mask the logits, if a guide is set.
        mask_took: Option<Duration>,
        /// When the token was ready.
        at: Instant,
    },
    /// Generation ended; no more events follow.
    Done {
        /// Why it ended.
        reason: StopReason,
        /// Number of tokens generated.
        generated: usize,
        /// Text held back while it could have started a stop string, now released.
        text: String,
        /// When it ended.
        at: Instant,
    },
}

enum Phase {
    Prefill { done: usize },
    Decode,
    Finished,
}

/// A running generation; iterate it to drive the model one step at a time.
pub struct Generation<'a> {
    model: &'a Model,
    tokenizer: &'a ModelTokenizer,
    state: &'a mut ModelState,
    decoder: StreamDecoder<'a>,
    guide: Option<&'a mut dyn Guide>,
    sampler: Sampler,
    opts: GenerateOptions,
    prompt: Vec<u32>,
    phase: Phase,
    /// The state holds logits from prefill that no token has been sampled from yet.
    fresh_logits: bool,
    generated: Vec<u32>,
    text: String,
    emitted: usize,
    pending_stop: Option<StopReason>,
}

impl<'a> Generation<'a> {
    /// Prepare to prefill `prompt` at the state's current position (after a restored
    /// prefix, pass only the request's own tokens) and then generate.
    pub fn new(
        model: &'a Model,
        tokenizer: &'a ModelTokenizer,
        state: &'a mut ModelState,
        prompt: Vec<u32>,
        opts: GenerateOptions,
    ) -> Result<Self> {
        if prompt.is_empty() {
            return Err(Error::InvalidArgument {
                name: "prompt",
                value: "[]".into(),
                reason: "needs at least one token to predict from".into(),
            });
        }
        if opts.prefill_chunk == 0 {
            return Err(Error::InvalidArgument {
                name: "prefill_chunk",
                value: "0".into(),
                reason: "must be at least 1 token".into(),
            });
        }
        let needed = state.pos() + prompt.len();
        if needed > state.context() {
            return Err(Error::ContextFull {
                context: state.context(),
                needed,
            });
        }
        Ok(Self {
            model,
            tokenizer,
            state,
            decoder: tokenizer.stream_decoder(),
            guide: None,
            sampler: Sampler::new(opts.sampling)?,
            opts,
            prompt,
            phase: Phase::Prefill { done: 0 },
            fresh_logits: false,
            generated: Vec::new(),
            text: String::new(),
            emitted: 0,
            pending_stop: None,
        })
    }

    /// Constrain sampling with `guide` (masked before, committed after each token).
    pub fn with_guide(mut self, guide: &'a mut dyn Guide) -> Self {
        self.guide = Some(guide);
        self
    }

    /// Ids generated so far.
    pub fn generated(&self) -> &[u32] {
        &self.generated
    }

    /// Text generated so far (including any held-back tail).
    pub fn text(&self) -> &str {
        &self.text
    }

    fn cancelled(&self) -> bool {
        self.opts
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    fn finish(&mut self, reason: StopReason) -> Event {
        self.phase = Phase::Finished;
        let end = match &reason {
            StopReason::StopString(_) => self.emitted,
            _ => self.text.len(),
        };
        let text = self
            .text
            .get(self.emitted..end)
            .unwrap_or_default()
            .to_string();
        self.emitted = end;
        Event::Done {
            reason,
            generated: self.generated.len(),
            text,
            at: Instant::now(),
        }
    }

    fn prefill_step(&mut self, done: usize) -> Result<Event> {
        let end = (done + self.opts.prefill_chunk).min(self.prompt.len());
        let start = Instant::now();
        self.model.forward(self.state, &self.prompt[done..end])?;
        if end == self.prompt.len() {
            self.fresh_logits = true;
            self.phase = Phase::Decode;
        } else {
            self.phase = Phase::Prefill { done: end };
        }
        let at = Instant::now();
        Ok(Event::Prefill {
            tokens: end - done,
            done: end,
            total: self.prompt.len(),
            took: at - start,
            at,
        })
    }

    fn decode_step(&mut self) -> Result<Event> {
        if self.generated.len() >= self.opts.max_tokens {
            return Ok(self.finish(StopReason::MaxTokens));
        }
        let start = Instant::now();
        if !std::mem::take(&mut self.fresh_logits) {
            if self.state.pos() >= self.state.context() {
                return Ok(self.finish(StopReason::ContextFull));
            }
            let last = *self
                .generated
                .last()
                .ok_or_else(|| Error::InvalidArgument {
                    name: "generation",
                    value: "no logits".into(),
                    reason: "decode reached without prefill".into(),
                })?;
            self.model.forward(self.state, &[last])?;
        }
        let logits = self.state.logits_mut();
        let mask_took = match self.guide.as_deref_mut() {
            Some(g) => {
                let t = Instant::now();
                g.mask_logits(logits)?;
                Some(t.elapsed())
            }
            None => None,
        };
        let id = self.sampler.sample(logits)?;
        if self.tokenizer.is_eos(id) || self.opts.stop_ids.contains(&id) {
            return Ok(self.finish(StopReason::Eos(id)));
        }
        if let Some(g) = self.guide.as_deref_mut() {
            g.commit(id)?;
        }
        let index = self.generated.len();
        self.generated.push(id);
        if let Some(piece) = self.decoder.push(id)? {
            self.text.push_str(&piece);
        }
        let (text, stop) = self.release_text();
        let at = Instant::now();
        let event = Event::Token {
            id,
            text,
            index,
            took: at - start,
            mask_took,
            at,
        };
        if let Some(s) = stop {
            // Report the token, then end on the next call.
            self.pending_stop = Some(StopReason::StopString(s));
        } else if self.guide.as_deref().is_some_and(|g| g.is_finished()) {
            self.pending_stop = Some(StopReason::GuideFinished);
        }
        Ok(event)
    }

    /// Text that can be emitted now: everything not part of (a possible start of) a stop
    /// string. Returns the matched stop string when one completed.
    fn release_text(&mut self) -> (String, Option<String>) {
        let tail = &self.text[self.emitted..];
        let mut found: Option<(usize, &String)> = None;
        for s in &self.opts.stop_strings {
            if let Some(i) = tail.find(s.as_str()) {
                if found.is_none_or(|(j, _)| i < j) {
                    found = Some((i, s));
                }
            }
        }
        if let Some((i, s)) = found {
            let out = tail[..i].to_string();
            let s = s.clone();
            self.emitted += i;
            return (out, Some(s));
        }
        // Hold back the longest suffix that is a proper prefix of a stop string.
        let mut hold = 0;
        for s in &self.opts.stop_strings {
            for (k, _) in s.char_indices().skip(1) {
                if tail.ends_with(&s[..k]) {
                    hold = hold.max(k);
                }
            }
        }
        let cut = tail.len() - hold;
        let out = tail[..cut].to_string();
        self.emitted += cut;
        (out, None)
    }
}

impl Iterator for Generation<'_> {
    type Item = Result<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        if matches!(self.phase, Phase::Finished) {
            return None;
        }
        if let Some(reason) = self.pending_stop.take() {
            return Some(Ok(self.finish(reason)));
        }
        if self.cancelled() {
            return Some(Ok(self.finish(StopReason::Cancelled)));
        }
        let step = match self.phase {
            Phase::Prefill { done } => self.prefill_step(done),
            Phase::Decode => self.decode_step(),
            Phase::Finished => return None,
        };
        if step.is_err() {
            self.phase = Phase::Finished;
        }
        Some(step)
    }
}

/// Load a model file's tokenizer and weights from one parse of its header.
///
/// The tokenizer is built first, so its construction peak happens before the weights
/// occupy memory; the header (with the vocabulary) is dropped before returning.
pub fn load_model_and_tokenizer(
    path: &std::path::Path,
    options: &ModelOptions,
) -> Result<(Model, ModelTokenizer)> {
    let mut file = GgufFile::open(path)?;
    let tokenizer = ModelTokenizer::from_gguf(path, file.content())?;
    file.forget_vocabulary();
    let model = Model::from_gguf(&file, options)?;
    Ok((model, tokenizer))
}

/// Tokenize a raw prompt (special tokens parsed) and add BOS when the model asks for it.
pub fn encode_prompt(tokenizer: &ModelTokenizer, text: &str) -> Result<Vec<u32>> {
    let mut ids = Vec::new();
    if tokenizer.add_bos() {
        if let Some(bos) = tokenizer.bos_id() {
            ids.push(bos);
        }
    }
    ids.extend(tokenizer.encode(text, true)?);
    Ok(ids)
}
