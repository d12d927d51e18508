//! The profile's spoken commands (`bora profile --speech FILE.wav`): each command of the
//! cycle is the clip, played in real time into the agent's hearing stage (Whisper tiny.en
//! hears it), and the report gains `speech_end_to_first_cmd_vel`: from the clip's last
//! sample to the first step of the plan its transcript got (the tick of its first
//! velocity command), plus the stage's own `speech_end_to_transcript`.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use bora_agent::PlanEvent;
use bora_models::whisper::read_wav_16k;
use bora_pipeline::{Agent, AgentInput, AgentOutput, AudioInput, HearingConfig};

use super::report::Latency;
use crate::hearing::WhisperTranscriber;

/// Samples per pushed chunk (100 ms at 16 kHz).
const CHUNK: usize = 1600;
/// Whisper's rate, Hz.
const RATE: f64 = 16_000.0;
/// Silence after the clip, s: past the hang-over, so each utterance ends.
const TAIL_S: f64 = 1.0;

/// Plays the clip into the hearing stage and times speech end -> first motion.
pub struct Speaker {
    audio: AudioInput,
    /// The clip and its silent tail, 16 kHz.
    pcm: Vec<f32>,
    /// Samples of the clip itself.
    clip_len: usize,
    /// When the playing clip started, and how many samples are out.
    playing: Option<(Instant, usize)>,
    /// When the last clip sample went out, until its first motion.
    speech_end: Option<Instant>,
    /// The clip was heard since it ended: its plan's first step is the motion.
    heard: bool,
    /// Speech end -> first step, per spoken command.
    samples: Vec<Duration>,
}

impl Speaker {
    /// Loads Whisper (the cache's tiny.en) and `clip`, and starts `agent`'s hearing stage.
    pub fn start(agent: &mut Agent, input: &AgentInput, clip: &Path) -> anyhow::Result<Self> {
        let mut pcm = read_wav_16k(clip)?;
        let clip_len = pcm.len();
        pcm.extend(std::iter::repeat_n(0.0, (TAIL_S * RATE) as usize));
        let whisper = WhisperTranscriber::load(None)?;
        let audio = agent
            .hear(input, Box::new(whisper), HearingConfig::default())
            .context("starting the hearing stage")?;
        Ok(Self {
            audio,
            pcm,
            clip_len,
            playing: None,
            speech_end: None,
            heard: false,
            samples: Vec::new(),
        })
    }

    /// Starts the clip, unless it is still playing.
    pub fn speak(&mut self) {
        if self.playing.is_none() {
            self.playing = Some((Instant::now(), 0));
        }
    }

    /// Pushes every chunk due by now (real time).
    pub fn pump(&mut self) {
        let Some((start, sent)) = self.playing.as_mut() else {
            return;
        };
        let due = ((start.elapsed().as_secs_f64() * RATE) as usize).min(self.pcm.len());
        while *sent + CHUNK <= due || (due == self.pcm.len() && *sent < due) {
            let end = (*sent + CHUNK).min(self.pcm.len());
            let _ = self.audio.push(self.pcm[*sent..end].to_vec());
            if *sent < self.clip_len && end >= self.clip_len {
                self.speech_end = Some(Instant::now());
                self.heard = false;
            }
            *sent = end;
        }
        if *sent == self.pcm.len() {
            self.playing = None;
        }
    }

    /// Watches the agent's outputs for the clip's transcript and its plan's first step.
    pub fn output(&mut self, out: &AgentOutput) {
        let Some(end) = self.speech_end else {
            return;
        };
        match out {
            AgentOutput::Event(json) if json.contains("\"event\":\"heard\"") => self.heard = true,
            AgentOutput::PlanEvent {
                event: PlanEvent::StepStarted { index: 0, .. },
                ..
            } if self.heard => {
                self.samples.push(end.elapsed());
                self.speech_end = None;
            }
            _ => {}
        }
    }

    /// The distribution of speech end -> first step, if any command was heard and moved.
    pub fn latency(&self) -> Option<Latency> {
        let mut ms: Vec<f64> = self.samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        let q = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
        (!ms.is_empty()).then(|| Latency {
            name: "speech_end_to_first_cmd_vel".to_owned(),
            what: "end of a spoken command (clip's last sample) to the first step of its plan (its first velocity command)".to_owned(),
            count: ms.len() as u64,
            p50_ms: q(0.5),
            p90_ms: q(0.9),
            p99_ms: q(0.99),
            p999_ms: q(0.999),
            max_ms: ms[ms.len() - 1],
        })
    }
}
