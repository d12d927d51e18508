//! The agent's ears: Whisper (bora-models) as the pipeline's [`Transcriber`], loaded from
//! the `audio.whisper_dir` parameter. Shared by `bora agent`; `bora listen` calls Whisper
//! directly on a file.

use std::path::{Path, PathBuf};

use anyhow::Context;
use bora_models::whisper::{
    default_model_dir, resample, EncoderWindow, TranscribeOptions, Whisper, MAX_SECONDS,
};
use bora_pipeline::{Heard, Transcriber};

/// Whisper's input rate, Hz.
const WHISPER_RATE: u32 = 16_000;

/// Whisper on the CPU, greedy, the full 30 s window (the window the reference transcripts
/// were checked on), no-speech rule on.
pub struct WhisperTranscriber {
    whisper: Whisper,
    options: TranscribeOptions,
}

impl WhisperTranscriber {
    /// Loads the CTranslate2 Whisper model in `dir` (None: whisper-tiny.en in the model
    /// cache, where `scripts/setup.sh` puts it). The error names the missing file and
    /// the way to get it.
    pub fn load(dir: Option<&Path>) -> anyhow::Result<Self> {
        let dir: PathBuf = dir.map_or_else(default_model_dir, Path::to_path_buf);
        let device = candle_core::Device::Cpu;
        let whisper = Whisper::load(&dir, &device).with_context(|| {
            format!(
                "cannot load the Whisper model in {} (parameter audio.whisper_dir; scripts/setup.sh fetches whisper-tiny.en)",
                dir.display()
            )
        })?;
        Ok(Self {
            whisper,
            options: TranscribeOptions {
                window: EncoderWindow::Full,
                ..TranscribeOptions::default()
            },
        })
    }
}

impl Transcriber for WhisperTranscriber {
    fn transcribe(&mut self, pcm: &[f32], sample_rate_hz: u32) -> Result<Heard, String> {
        let mut pcm16 = resample::resample(pcm, sample_rate_hz, WHISPER_RATE);
        // The endpointer's limit is at most 30 s, but resampling may round up a sample.
        pcm16.truncate((MAX_SECONDS * f64::from(WHISPER_RATE)) as usize);
        let t = self
            .whisper
            .transcribe(&pcm16, &self.options)
            .map_err(|e| format!("{e:#}"))?;
        tracing::debug!(
            text = t.text.as_str(),
            total_us = t.timing.total_us,
            no_speech_prob = t.no_speech_prob,
            "whisper"
        );
        Ok(Heard {
            text: t.text,
            no_speech: t.no_speech,
        })
    }

    fn describe(&self) -> String {
        format!("whisper {} (cpu)", self.whisper.dir().display())
    }
}
