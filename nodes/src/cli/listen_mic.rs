//! `bora listen --mic [DEVICE]`: a live ALSA microphone through the hearing stage's
//! endpointer; each utterance is resampled to 16 kHz, transcribed and planned as
//! `bora listen FILE.wav` does it, until Ctrl-C, `--max-utterances` or `--max-seconds`.

use anyhow::Context;
use bora_models::whisper::{resample, TranscribeOptions, Transcript, Whisper, MAX_SECONDS};
use bora_pipeline::hearing::endpoint::Endpoint;
use bora_pipeline::hearing::{EndpointConfig, Endpointer};
use bora_pipeline::HearingConfig;

use bora_nodes::audio::Mic;
use bora_nodes::signals;

/// Whisper's input rate, Hz.
pub(super) const WHISPER_RATE: u32 = 16_000;

/// When the microphone loop stops (None: not on that count).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Limits {
    /// After this many utterances.
    pub utterances: Option<u64>,
    /// After this much captured audio, s.
    pub seconds: Option<f64>,
}

/// Runs the microphone loop of `bora listen --mic DEVICE` on the opened `mic`: each
/// utterance's transcript goes to `heard` with its JSON source (device, number).
pub(super) fn run(
    mut mic: Mic,
    whisper: &mut Whisper,
    opts: &TranscribeOptions,
    limits: Limits,
    heard: &mut dyn FnMut(serde_json::Value, &Transcript) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let device = mic.device().to_owned();
    let endpoint = EndpointConfig {
        sample_rate_hz: mic.rate_hz(),
        ..EndpointConfig::default()
    };
    let endpoint = HearingConfig {
        endpoint,
        ..HearingConfig::default()
    }
    .check()
    .with_context(|| format!("ALSA device '{device}' captures at {} Hz", mic.rate_hz()))?
    .endpoint;
    let mut endpointer = Endpointer::new(endpoint);
    let max_samples = limits
        .seconds
        .map(|s| (s.max(0.0) * f64::from(mic.rate_hz())) as u64);
    signals::install().context("cannot install the SIGINT/SIGTERM handler")?;
    eprintln!(
        "bora listen: ALSA '{device}' at {} Hz ({} channel(s) mixed to mono); speak a command, Ctrl-C stops",
        mic.rate_hz(),
        mic.channels()
    );
    let (mut utterances, mut captured) = (0_u64, 0_u64);
    let mut buf = Vec::new();
    let mut found = Vec::new();
    let why = loop {
        if limits.utterances.is_some_and(|n| utterances >= n) {
            break "--max-utterances";
        }
        if max_samples.is_some_and(|n| captured >= n) {
            break "--max-seconds";
        }
        if signals::stop_requested() {
            break "Ctrl-C";
        }
        buf.clear();
        captured += mic.read(&mut buf)? as u64;
        endpointer.push(&buf, &mut |e| found.push(e));
        for e in found.drain(..) {
            match e {
                Endpoint::Utterance { pcm, .. } => {
                    utterances += 1;
                    let mut pcm16 = resample::resample(&pcm, mic.rate_hz(), WHISPER_RATE);
                    // The endpointer cuts at 30 s at most; resampling may round up a sample.
                    pcm16.truncate((MAX_SECONDS * f64::from(WHISPER_RATE)) as usize);
                    let t = whisper
                        .transcribe(&pcm16, opts)
                        .with_context(|| format!("transcribing an utterance from '{device}'"))?;
                    let source = serde_json::json!({ "mic": &device, "utterance": utterances });
                    heard(source, &t)?;
                }
                Endpoint::TooShort { loud } => {
                    tracing::debug!(loud_s = loud.as_secs_f64(), "too short, dropped");
                }
                Endpoint::TooLong { limit, .. } => eprintln!(
                    "bora listen: speech went on past {:.1} s: dropped, say one command at a time",
                    limit.as_secs_f64()
                ),
            }
            if limits.utterances.is_some_and(|n| utterances >= n) {
                break;
            }
        }
    };
    eprintln!(
        "bora listen: stopped ({why}): {utterances} utterance(s) in {:.1} s of audio from '{device}'",
        captured as f64 / f64::from(mic.rate_hz())
    );
    if mic.overruns() > 0 {
        eprintln!(
            "bora listen: {} capture overrun(s) on '{device}': some audio was lost while transcribing",
            mic.overruns()
        );
    }
    Ok(())
}
