//! Endpointing: where speech starts and ends in a stream of audio samples, by energy.
//!
//! The stream is cut into 20 ms frames. A frame is *loud* when its RMS level is above
//! both an absolute threshold and the tracked noise floor plus a margin. Speech starts
//! after [`START_FRAMES`] loud frames in a row whose zero-crossing rate is that of voiced
//! sound (below [`MAX_ONSET_ZCR`]): a hiss (fan, white noise) crosses zero about every
//! other sample and never starts an utterance, a vowel does. It ends once no frame has
//! been loud for the hang-over. The noise floor follows quiet frames down at once and
//! rises slowly ([`FLOOR_RISE_DB_PER_S`]) while no one speaks, so a steady background
//! raises the bar for speech instead of becoming speech.
//!
//! An utterance with less loud time than the minimum is dropped (a click, a cough); one
//! that reaches the maximum length is cut there, reported, and the rest of that speech
//! is skipped until the next silence: a command is refused whole rather than half-heard.

use std::collections::VecDeque;
use std::time::Duration;

/// Length of one analysis frame, s.
pub const FRAME_S: f64 = 0.02;
/// Loud voiced frames in a row that start an utterance (40 ms).
pub const START_FRAMES: usize = 2;
/// Highest zero-crossing rate (crossings per sample) of a frame that may start speech.
pub const MAX_ONSET_ZCR: f64 = 0.3;
/// How fast the noise floor rises while no one speaks, dB per second.
pub const FLOOR_RISE_DB_PER_S: f64 = 10.0;
/// Quietest level the floor goes down to, dBFS (digital silence is -inf).
const FLOOR_MIN_DBFS: f64 = -100.0;

/// Settings of the endpointer, with units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EndpointConfig {
    /// Sample rate of the stream, Hz.
    pub sample_rate_hz: u32,
    /// A frame must be louder than this to be speech, dBFS (RMS; 0 = full scale).
    pub threshold_dbfs: f64,
    /// ... and louder than the noise floor by this much, dB.
    pub margin_db: f64,
    /// Speech ends after this long without a loud frame.
    pub hangover: Duration,
    /// Utterances with less loud time than this are dropped.
    pub min_utterance: Duration,
    /// Utterances are cut at this length (audio kept before the start included).
    pub max_utterance: Duration,
    /// Audio kept from before the start, so a soft onset is not lost.
    pub pre_roll: Duration,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            sample_rate_hz: 16_000,
            threshold_dbfs: -45.0,
            margin_db: 10.0,
            hangover: Duration::from_millis(500),
            min_utterance: Duration::from_millis(200),
            max_utterance: Duration::from_secs(10),
            pre_roll: Duration::from_millis(200),
        }
    }
}

/// What the endpointer found.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    /// A whole utterance: its samples (pre-roll and hang-over included).
    Utterance {
        /// The samples, at the stream's rate.
        pcm: Vec<f32>,
        /// Index in the stream of the sample just after the last loud frame.
        speech_end_sample: u64,
    },
    /// Speech shorter than the minimum was dropped.
    TooShort {
        /// Its loud time.
        loud: Duration,
    },
    /// Speech reached the maximum length: cut and dropped, the rest skipped.
    TooLong {
        /// The limit it reached.
        limit: Duration,
        /// Index in the stream of the sample where it was cut.
        cut_at_sample: u64,
    },
}

#[derive(Debug)]
enum State {
    Idle {
        onset_frames: usize,
    },
    Speech {
        pcm: Vec<f32>,
        start: u64,
        last_loud_end: u64,
        loud_frames: usize,
    },
    Skipping {
        last_loud_end: u64,
    },
}

/// The energy endpointer: feed it samples, get [`Endpoint`]s.
#[derive(Debug)]
pub struct Endpointer {
    config: EndpointConfig,
    frame_len: usize,
    frame: Vec<f32>,
    pre_roll: VecDeque<f32>,
    pre_roll_len: usize,
    /// Stream index of the next sample to be framed.
    pos: u64,
    floor_db: f64,
    state: State,
}

/// A frame's RMS level, dBFS (-inf for digital silence).
pub fn level_dbfs(frame: &[f32]) -> f64 {
    let energy: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    10.0 * (energy / frame.len().max(1) as f64).log10()
}

/// A frame's zero-crossing rate: sign changes per sample.
pub fn zero_crossing_rate(frame: &[f32]) -> f64 {
    let crossings = frame
        .windows(2)
        .filter(|w| (w[0] >= 0.0) != (w[1] >= 0.0))
        .count();
    crossings as f64 / frame.len().max(1) as f64
}

impl Endpointer {
    /// An endpointer over a stream with `config`'s rate (at least 1 kHz).
    pub fn new(config: EndpointConfig) -> Self {
        let rate = f64::from(config.sample_rate_hz.max(1000));
        let frame_len = (rate * FRAME_S).round() as usize;
        let pre_roll_len = (rate * config.pre_roll.as_secs_f64()).round() as usize;
        Self {
            config,
            frame_len,
            frame: Vec::with_capacity(frame_len),
            pre_roll: VecDeque::with_capacity(pre_roll_len + frame_len),
            pre_roll_len,
            pos: 0,
            floor_db: config.threshold_dbfs - config.margin_db,
            state: State::Idle { onset_frames: 0 },
        }
    }

    /// The settings.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Samples seen so far (the stream index of the next one).
    pub fn position(&self) -> u64 {
        self.pos + self.frame.len() as u64
    }

    /// The tracked noise floor, dBFS.
    pub fn noise_floor_dbfs(&self) -> f64 {
        self.floor_db
    }

    /// Feeds `samples` (values in [-1, 1]); hands every endpoint they complete to `on`.
    pub fn push(&mut self, samples: &[f32], on: &mut dyn FnMut(Endpoint)) {
        for &s in samples {
            self.frame.push(if s.is_finite() { s } else { 0.0 });
            if self.frame.len() == self.frame_len {
                let frame = std::mem::take(&mut self.frame);
                self.on_frame(&frame, on);
                self.frame = frame;
                self.frame.clear();
            }
        }
    }

    fn samples(&self, d: Duration) -> u64 {
        (d.as_secs_f64() * f64::from(self.config.sample_rate_hz)).round() as u64
    }

    fn on_frame(&mut self, frame: &[f32], on: &mut dyn FnMut(Endpoint)) {
        let db = level_dbfs(frame);
        let loud = db
            > self
                .config
                .threshold_dbfs
                .max(self.floor_db + self.config.margin_db);
        let end = self.pos + frame.len() as u64;
        let hangover = self.samples(self.config.hangover);
        let max_len = self.samples(self.config.max_utterance);
        match &mut self.state {
            State::Idle { onset_frames } => {
                let voiced = loud && zero_crossing_rate(frame) < MAX_ONSET_ZCR;
                *onset_frames = if voiced { *onset_frames + 1 } else { 0 };
                let started = *onset_frames >= START_FRAMES;
                self.remember(frame);
                if started {
                    let pcm: Vec<f32> = self.pre_roll.drain(..).collect();
                    let start = end - pcm.len() as u64;
                    self.state = State::Speech {
                        pcm,
                        start,
                        last_loud_end: end,
                        loud_frames: START_FRAMES,
                    };
                } else {
                    self.track_floor(db);
                }
            }
            State::Speech {
                pcm,
                start,
                last_loud_end,
                loud_frames,
            } => {
                pcm.extend_from_slice(frame);
                if loud {
                    *last_loud_end = end;
                    *loud_frames += 1;
                }
                if end - *last_loud_end >= hangover {
                    let loud_time = Duration::from_secs_f64(
                        *loud_frames as f64 * frame.len() as f64
                            / f64::from(self.config.sample_rate_hz),
                    );
                    let event = if loud_time < self.config.min_utterance {
                        Endpoint::TooShort { loud: loud_time }
                    } else {
                        Endpoint::Utterance {
                            pcm: std::mem::take(pcm),
                            speech_end_sample: *last_loud_end,
                        }
                    };
                    self.state = State::Idle { onset_frames: 0 };
                    on(event);
                } else if end - *start >= max_len {
                    let last_loud_end = *last_loud_end;
                    self.state = State::Skipping { last_loud_end };
                    on(Endpoint::TooLong {
                        limit: self.config.max_utterance,
                        cut_at_sample: end,
                    });
                }
            }
            State::Skipping { last_loud_end } => {
                if loud {
                    *last_loud_end = end;
                }
                if end - *last_loud_end >= hangover {
                    self.state = State::Idle { onset_frames: 0 };
                }
                // A steady loud background ends the skip as the floor rises to it.
                self.track_floor(db);
            }
        }
        self.pos = end;
    }

    /// Keeps the last `pre_roll` of audio (plus the frame being looked at).
    fn remember(&mut self, frame: &[f32]) {
        self.pre_roll.extend(frame.iter().copied());
        let keep = self.pre_roll_len + frame.len();
        while self.pre_roll.len() > keep {
            self.pre_roll.pop_front();
        }
    }

    /// Follows a quieter level at once and a louder one slowly.
    fn track_floor(&mut self, db: f64) {
        let db = db.max(FLOOR_MIN_DBFS);
        if db < self.floor_db {
            self.floor_db = db;
        } else {
            self.floor_db = (self.floor_db + FLOOR_RISE_DB_PER_S * FRAME_S).min(db);
        }
    }
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
