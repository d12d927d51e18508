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
use crate::token_mask::TokenMask;
use crate::tokenizer::{ModelTokenizer, StreamDecoder};
use crate::{Error, Result};

mod draft;
mod head;
pub use draft::DraftStats;
use draft::{Expected, Queued};
use head::HeadBuffers;

pub use crate::model::DEFAULT_PREFILL_CHUNK;

/// Something that restricts which tokens may come next (e.g. a JSON-schema grammar).
pub trait Guide {
    /// Set the logits of tokens that may not come next to -inf.
    fn mask_logits(&mut self, logits: &mut [f32]) -> Result<()>;
    /// Record that `token` was chosen.
    fn commit(&mut self, token: u32) -> Result<()>;
    /// Whether the grammar is complete (generation should stop).
    fn is_finished(&self) -> bool;
    /// The tokens the grammar allows as the only continuation from here, in their
    /// canonical tokenization (empty where there is a choice). A hint for drafting
    /// ([`GenerateOptions::forced_draft`]): the model still chooses every token.
    fn forced(&mut self) -> Vec<u32> {
        Vec::new()
    }
    /// The tokens allowed next, without logits (None: this guide only masks logits).
    /// With it, a lean CPU generation computes the logits of the allowed tokens only.
    fn allowed(&mut self) -> Result<Option<TokenMask>> {
        Ok(None)
    }
    /// Whether the grammar would be complete after `tokens` (from here, without
    /// changing this guide). False when unknown. A verification pass whose expected
    /// tokens end the grammar skips the row that would follow the last of them.
    fn ends_after(&mut self, _tokens: &[u32]) -> bool {
        false
    }
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
    /// Tokens the output is expected to start with (e.g. a deterministic parse of the
    /// request, serialised as the model would write it). With greedy sampling they are
    /// checked in one forward pass and every one the model agrees with costs no step of
    /// its own; the output is the model's own either way. Ignored with other sampling.
    pub draft: Vec<u32>,
    /// Longest one draft verification pass may be expected to take: its rows are capped
    /// so that, at the per-row cost this generation measured last (its prefill, then
    /// its earlier passes), it stays within this; a budget's token gap thus also holds
    /// across a pass. None = the whole draft in one pass.
    pub draft_pass_max: Option<Duration>,
    /// Where the guide forces the next tokens ([`Guide::forced`]: JSON punctuation, keys),
    /// draft them too (greedy only): verified like `draft`, the output is unchanged.
    pub forced_draft: bool,
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
            draft: Vec::new(),
            draft_pass_max: None,
            forced_draft: false,
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
    /// Tokens a verification pass chose, in order, not yet emitted; the guide has
    /// committed them all already.
    queued: std::collections::VecDeque<Queued>,
    /// The end a verification pass reached (an end-of-sequence id) after `queued`.
    queued_end: Option<StopReason>,
    /// Tokens expected next (the draft's rest, or the guide's forced tokens).
    expected: Expected,
    /// Logits of every row of the last verification pass (reused) where the pass
    /// computes them whole.
    every: Vec<f32>,
    /// The lean CPU backend stops before the output head ([`Model::forward_hidden`]);
    /// tokens are chosen from these hidden rows.
    heads: Option<HeadBuffers>,
    draft_stats: DraftStats,
    /// Time one row of a batched forward pass took, as last measured (prefill chunk or
    /// verification pass); sizes the next pass against `draft_pass_max`.
    row_cost: Option<Duration>,
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
        let expected = Expected::new(&opts.draft);
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
            queued: std::collections::VecDeque::new(),
            queued_end: None,
            expected,
            every: Vec::new(),
            heads: model.has_hidden_rows().then(HeadBuffers::default),
            draft_stats: DraftStats::default(),
            row_cost: None,
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

    /// How the draft went so far.
    pub fn draft_stats(&self) -> DraftStats {
        self.draft_stats
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
        let chunk = &self.prompt[done..end];
        match self.heads.as_mut() {
            Some(hb) => self
                .model
                .forward_hidden(self.state, chunk, &mut hb.hidden)?,
            None => {
                self.model.forward(self.state, chunk)?;
            }
        }
        // A verification row also computes its logits, whole (about a quarter more than a
        // prefill row of a small model: the output projection is its largest product)
        // unless it is chosen from hidden rows under a guide's mask.
        let took = match self.sparse_rows() {
            true => start.elapsed(),
            false => start.elapsed() * 5 / 4,
        };
        self.row_cost = Some(took / (end - done).max(1) as u32);
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
        if let Some(q) = self.queued.pop_front() {
            return self.emit(q.id, q.took, q.mask_took);
        }
        if let Some(reason) = self.queued_end.take() {
            return Ok(self.finish(reason));
        }
        if self.generated.len() >= self.opts.max_tokens {
            return Ok(self.finish(StopReason::MaxTokens));
        }
        let start = Instant::now();
        if !std::mem::take(&mut self.fresh_logits) {
            if self.state.pos() >= self.state.context() {
                return Ok(self.finish(StopReason::ContextFull));
            }
            let last = self.last_generated()?;
            self.refill_expected();
            if self.draft_ahead() > 0 {
                return self.verify_draft(last, start);
            }
            match self.heads.as_mut() {
                Some(hb) => self
                    .model
                    .forward_hidden(self.state, &[last], &mut hb.hidden)?,
                None => {
                    self.model.forward(self.state, &[last])?;
                }
            }
        }
        let (id, mask_took) = self.choose_last()?;
        if self.tokenizer.is_eos(id) || self.opts.stop_ids.contains(&id) {
            return Ok(self.finish(StopReason::Eos(id)));
        }
        if let Some(g) = self.guide.as_deref_mut() {
            g.commit(id)?;
        }
        self.expected.follow(id);
        self.emit(id, start.elapsed(), mask_took)
    }

    /// Whether passes stop before the output head and rows take only the logits their
    /// guide's mask allows (the lean CPU backend with a guide).
    fn sparse_rows(&self) -> bool {
        self.heads.is_some() && self.guide.is_some()
    }

    /// Chooses the token after the last row of the last forward pass.
    fn choose_last(&mut self) -> Result<(u32, Option<Duration>)> {
        let guide = self.guide.as_deref_mut();
        match self.heads.as_mut() {
            Some(hb) => {
                let rows = hb.hidden.len() / self.model.config().hidden.max(1);
                hb.choose(self.model, guide, &mut self.sampler, rows.saturating_sub(1))
            }
            None => choose(guide, &mut self.sampler, self.state.logits_mut()),
        }
    }

    /// The newest generated id (the input of the next decode step).
    fn last_generated(&self) -> Result<u32> {
        self.generated
            .last()
            .copied()
            .ok_or_else(|| Error::InvalidArgument {
                name: "generation",
                value: "no logits".into(),
                reason: "decode reached without prefill".into(),
            })
    }

    /// Records the chosen (and already committed) `id` and reports it as a token event.
    fn emit(&mut self, id: u32, took: Duration, mask_took: Option<Duration>) -> Result<Event> {
        let index = self.generated.len();
        self.generated.push(id);
        if let Some(piece) = self.decoder.push(id)? {
            self.text.push_str(&piece);
        }
        let (text, stop) = self.release_text();
        let event = Event::Token {
            id,
            text,
            index,
            took,
            mask_took,
            at: Instant::now(),
        };
        if let Some(s) = stop {
            // Report the token, then end on the next call.
            self.pending_stop = Some(StopReason::StopString(s));
        } else if self.queued.is_empty() && self.guide.as_deref().is_some_and(|g| g.is_finished()) {
            // With tokens queued the guide is already past them: it finished at the last.
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

/// Masks `logits` with `guide` (timed) and samples a token from them.
fn choose(
    guide: Option<&mut (dyn Guide + '_)>,
    sampler: &mut Sampler,
    logits: &mut [f32],
) -> Result<(u32, Option<Duration>)> {
    let mask_took = match guide {
        Some(g) => {
            let t = Instant::now();
            g.mask_logits(logits)?;
            Some(t.elapsed())
        }
        None => None,
    };
    Ok((sampler.sample(logits)?, mask_took))
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
