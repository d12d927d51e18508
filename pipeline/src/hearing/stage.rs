//! The hearing stage's thread body and its input end: audio chunks in, transcripts into
//! the command path, hearing events out.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use super::endpoint::{Endpoint, Endpointer};
use super::events::{emit, HearingEvent as Event};
use super::{HearingConfig, Transcriber};
use crate::command_path::CommandPath;
use crate::stages::Links;
use bora_rt::clock::Clock;
use bora_rt::metrics::{Counter, Metrics, Quantity, Recorder};
use bora_rt::queue::{MpmcQueue, Overflow};
use bora_rt::stage::StageContext;

/// Chunks whose arrival time is remembered, to date the end of speech.
const STAMPS_KEPT: usize = 4096;

/// Audio on its way to the hearing stage.
#[derive(Debug)]
pub(crate) struct AudioChunk {
    samples: Vec<f32>,
    /// When it arrived (about when its last sample was spoken), agent clock.
    at: Duration,
}

/// Why an audio chunk was refused (each also goes out as an `audio_rejected` event).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    /// The chunk has no samples.
    #[error("audio message with no samples: send mono samples at the configured rate")]
    Empty,
    /// The chunk is longer than one message may be.
    #[error(
        "audio message of {samples} samples, more than {max}: send chunks of at most a few seconds"
    )]
    TooLong {
        /// Samples in it.
        samples: usize,
        /// Most allowed.
        max: usize,
    },
    /// The stage is behind and its queue is full: the chunk was dropped.
    #[error("hearing queue full ({capacity} chunks): audio dropped; the recogniser is slower than the audio (see hearing.budget_ms)")]
    QueueFull {
        /// The queue's capacity, chunks.
        capacity: usize,
    },
}

/// The audio input end of a running agent (e.g. the ROS node's audio subscription).
pub struct AudioInput {
    chunks: Arc<MpmcQueue<AudioChunk>>,
    links: Links,
    clock: Arc<dyn Clock>,
    max_chunk_samples: usize,
    rejected: Counter,
}

impl AudioInput {
    /// Hands in mono samples (values in [-1, 1]) at the configured rate, stamped now.
    /// A refused chunk is reported on `agent/events` and returned as the error.
    pub fn push(&mut self, samples: Vec<f32>) -> Result<(), AudioError> {
        let check = if samples.is_empty() {
            Err(AudioError::Empty)
        } else if samples.len() > self.max_chunk_samples {
            Err(AudioError::TooLong {
                samples: samples.len(),
                max: self.max_chunk_samples,
            })
        } else {
            let at = self.clock.now();
            match self.chunks.push(AudioChunk { samples, at }).is_queued() {
                true => Ok(()),
                false => Err(AudioError::QueueFull {
                    capacity: self.chunks.capacity(),
                }),
            }
        };
        if let Err(e) = &check {
            self.reject(&e.to_string());
        }
        check
    }

    /// Reports an audio message that could not be used (`reason` says why and what to
    /// do) on `agent/events`; counted.
    pub fn reject(&self, reason: &str) {
        self.rejected.incr();
        let event = Event::AudioRejected {
            reason: reason.to_owned(),
        };
        emit(&self.links, event, self.clock.now());
    }
}

/// The hearing stage's counters, named as diagnostics shows them.
struct Counters {
    heard: Counter,
    nothing: Counter,
    too_short: Counter,
    too_long: Counter,
    misses: Counter,
}

/// The hearing stage: owns the endpointer and the recogniser.
pub(crate) struct HearingStage {
    config: HearingConfig,
    endpointer: Endpointer,
    transcriber: Box<dyn Transcriber>,
    chunks: Arc<MpmcQueue<AudioChunk>>,
    path: CommandPath,
    /// (stream index just after a chunk's last sample, its arrival), oldest first.
    stamps: VecDeque<(u64, Duration)>,
    speech_to_text: Recorder,
    recognition: Recorder,
    counters: Counters,
}

impl HearingStage {
    /// A stage feeding `path`, and the input end that feeds it.
    pub fn new(
        config: HearingConfig,
        transcriber: Box<dyn Transcriber>,
        path: CommandPath,
        metrics: &mut Metrics,
    ) -> crate::Result<(Self, AudioInput)> {
        let config = config.check()?;
        let chunks = Arc::new(MpmcQueue::new(
            "audio",
            config.queue_capacity,
            Overflow::RejectNew,
            Some(Arc::clone(&path.clock)),
        )?);
        metrics.watch_queue(chunks.stats());
        let input = AudioInput {
            chunks: Arc::clone(&chunks),
            links: path.links.clone(),
            clock: Arc::clone(&path.clock),
            max_chunk_samples: config.max_chunk_samples,
            rejected: metrics.counter("audio_rejected"),
        };
        let stage = Self {
            config,
            endpointer: Endpointer::new(config.endpoint),
            transcriber,
            chunks,
            path,
            stamps: VecDeque::with_capacity(STAMPS_KEPT),
            speech_to_text: metrics
                .recorder(Quantity::CommandToAction, "speech_end_to_transcript")?,
            recognition: metrics.recorder(Quantity::StageStep, "hearing_recognition")?,
            counters: Counters {
                heard: metrics.counter("utterances_heard"),
                nothing: metrics.counter("utterances_without_speech"),
                too_short: metrics.counter("utterances_too_short"),
                too_long: metrics.counter("utterances_too_long"),
                misses: metrics.counter("hearing_budget_misses"),
            },
        };
        Ok((stage, input))
    }

    /// Feeds every queued chunk to the endpointer and handles what it finds, inside
    /// `span` (the stage's `stage_step` span: a slice in a `--trace` file) when there
    /// is one. Returns whether there was a chunk.
    pub fn step(&mut self, span: &tracing::Span) -> bool {
        let mut any = false;
        let mut _entered = None;
        while let Some(chunk) = self.chunks.pop() {
            _entered.get_or_insert_with(|| span.enter());
            any = true;
            let mut found = Vec::new();
            self.endpointer.push(&chunk.samples, &mut |e| found.push(e));
            if self.stamps.len() == STAMPS_KEPT {
                self.stamps.pop_front();
            }
            self.stamps
                .push_back((self.endpointer.position(), chunk.at));
            for endpoint in found {
                self.on_endpoint(endpoint);
            }
        }
        any
    }

    /// When stream sample `index` arrived, agent clock (chunks arrive as spoken).
    fn arrival_of(&self, index: u64) -> Duration {
        let rate = f64::from(self.config.endpoint.sample_rate_hz);
        self.stamps
            .iter()
            .find(|(end, _)| *end >= index)
            .map_or_else(
                || self.path.clock.now(),
                |(end, at)| at.saturating_sub(Duration::from_secs_f64((end - index) as f64 / rate)),
            )
    }

    fn on_endpoint(&mut self, endpoint: Endpoint) {
        let now = self.path.clock.now();
        match endpoint {
            Endpoint::Utterance {
                pcm,
                speech_end_sample,
            } => {
                let spoken = self.arrival_of(speech_end_sample);
                self.recognise(&pcm, spoken);
            }
            Endpoint::TooShort { .. } => self.counters.too_short.incr(),
            Endpoint::TooLong { limit, .. } => {
                self.counters.too_long.incr();
                let limit_s = limit.as_secs_f64();
                let reason = format!(
                    "speech went on past {limit_s:.1} s (hearing.max_utterance_s): cut there and dropped, no command; say one command at a time"
                );
                emit(
                    &self.path.links,
                    Event::UtteranceTooLong { limit_s, reason },
                    now,
                );
            }
        }
    }

    /// Transcribes one utterance under the budget; a transcript in time becomes a command.
    fn recognise(&mut self, pcm: &[f32], spoken: Duration) {
        let clock = Arc::clone(&self.path.clock);
        let rate = self.config.endpoint.sample_rate_hz;
        let audio_s = pcm.len() as f64 / f64::from(rate);
        let _span = tracing::info_span!("recognise", audio_s).entered();
        let start = clock.now();
        let result = self.transcriber.transcribe(pcm, rate);
        let done = clock.now();
        let took = done.saturating_sub(start);
        self.recognition.record(took);
        self.recognition.publish();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let links = &self.path.links;
        let heard = match result {
            Err(e) => {
                let reason = format!("recognition failed: {e}; no command");
                return emit(links, Event::AudioRejected { reason }, done);
            }
            Ok(h) => h,
        };
        let text = heard.text.trim();
        if heard.no_speech || text.is_empty() {
            self.counters.nothing.incr();
            let event = Event::NothingHeard {
                audio_s,
                recognition_ms: ms(took),
            };
            return emit(links, event, done);
        }
        if let Some(limit) = self.config.budget.filter(|b| took > *b) {
            self.counters.misses.incr();
            let event = Event::HearingBudgetMissed {
                text: text.to_owned(),
                limit_ms: ms(limit),
                observed_ms: ms(took),
            };
            return emit(links, event, done);
        }
        self.counters.heard.incr();
        let to_text = done.saturating_sub(spoken);
        self.speech_to_text.record(to_text);
        self.speech_to_text.publish();
        let event = Event::Heard {
            text: text.to_owned(),
            audio_s,
            recognition_ms: ms(took),
            speech_end_to_text_ms: ms(to_text),
        };
        emit(links, event, done);
        let outcome = self.path.command(text);
        tracing::info!(text, ?outcome, "heard a voice command");
    }

    /// The stage thread's body: step until shutdown, resting 5 ms when idle. Not watched
    /// by the planner: a recognition takes seconds, and nothing moves until it is done.
    pub fn run(mut self, ctx: &StageContext) {
        let span = ctx.step_span();
        while !ctx.should_stop() {
            ctx.beat();
            if !self.step(&span) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

#[cfg(test)]
#[path = "stage_tests.rs"]
mod tests;
