//! `bora listen FILE.wav`: speech to text with Whisper (offline, no ROS), then the plan the
//! language stage makes of the transcript, exactly as `bora intent` makes it: the words
//! after `--` are `bora intent`'s own flags (`bora listen cmd.wav -- --model none`).
//! `bora listen --mic [DEVICE]`: the same for each utterance heard on a live ALSA
//! microphone (cli/listen_mic.rs), until Ctrl-C or `--max-utterances`.
//!
//! The WAV may be 16-bit PCM or 32-bit float, any rate, mono or stereo: it is mixed to
//! mono and resampled to 16 kHz by a windowed-sinc low-pass (bora_models::whisper::resample).
//! Silence (Whisper's no-speech rule) gives no command, so no plan and no motion.

use std::path::PathBuf;

use anyhow::Context;
use bora_models::whisper::{
    default_model_dir, read_wav_16k, EncoderWindow, TranscribeOptions, Transcript, Whisper,
};
use bora_models::DeviceSpec;
use bora_nodes::audio::Mic;
use clap::{Args, Parser};

use super::intent::IntentArgs;

/// Arguments of `bora listen`.
#[derive(Args, Debug)]
pub struct ListenArgs {
    /// The WAV file: 16-bit PCM or 32-bit float, any rate, mono or stereo, at most 30 s.
    #[arg(required_unless_present = "mic")]
    pub file: Option<PathBuf>,
    /// Listen on a live ALSA capture device instead of a file (`default` when no DEVICE is
    /// given; `arecord -L` lists them): each utterance is transcribed and planned.
    #[arg(long, value_name = "DEVICE", num_args = 0..=1, default_missing_value = "default",
          conflicts_with = "file")]
    pub mic: Option<String>,
    /// With --mic: stop after this many utterances (default: until Ctrl-C).
    #[arg(long, value_name = "N", requires = "mic")]
    pub max_utterances: Option<u64>,
    /// With --mic: stop after this much captured audio, s (default: until Ctrl-C).
    #[arg(long, value_name = "S", requires = "mic")]
    pub max_seconds: Option<f64>,
    /// Whisper model directory (CTranslate2 files); default: whisper-tiny.en in the model
    /// cache ($BORA_MODELS, fetched by scripts/setup.sh).
    #[arg(long, value_name = "DIR")]
    pub whisper: Option<PathBuf>,
    /// Compute device for Whisper (`cpu`, `cuda:0`).
    #[arg(long, default_value = "cpu")]
    pub asr_device: String,
    /// Experimental: run the encoder on the utterance only (plus 1 s) instead of the full
    /// 30 s window. Much faster, but on the reference clips only 1 of 12 transcripts equals
    /// ctranslate2's and two loop on a phrase (bench/asr-compare.sh): not for commands yet.
    #[arg(long)]
    pub fit_window: bool,
    /// Print JSON: one line with the transcript, then `bora intent --json`'s line.
    #[arg(long)]
    pub json: bool,
    /// `bora intent` flags for the language stage (after `--`), e.g. `-- --model none`.
    #[arg(last = true, value_name = "INTENT FLAGS")]
    pub intent: Vec<String>,
}

/// `bora intent`'s flags parsed on their own (so `listen` declares none of them again).
#[derive(Parser, Debug)]
#[command(name = "bora listen ... --")]
struct IntentFlags {
    #[command(flatten)]
    args: IntentArgs,
}

/// Runs `bora listen`.
pub fn run(args: ListenArgs) -> anyhow::Result<()> {
    if args.mic.is_none() && (args.max_utterances.is_some() || args.max_seconds.is_some()) {
        anyhow::bail!("--max-utterances and --max-seconds go with --mic (a file is one utterance)");
    }
    let dir = args.whisper.clone().unwrap_or_else(default_model_dir);
    let device: DeviceSpec = args.asr_device.parse()?;
    let device = device.open()?;
    // The file is read and the device opened before the model is loaded: a wrong path or
    // device name fails at once.
    let mic = args
        .mic
        .as_deref()
        .map(|d| Mic::open(d, super::listen_mic::WHISPER_RATE))
        .transpose()?;
    let pcm = match (&mic, &args.file) {
        (None, Some(file)) => Some(read_wav_16k(file)?),
        _ => None,
    };
    let mut whisper = Whisper::load(&dir, &device)?;
    let opts = TranscribeOptions {
        window: if args.fit_window {
            EncoderWindow::Fit { margin_frames: 100 }
        } else {
            EncoderWindow::Full
        },
        ..TranscribeOptions::default()
    };
    match (mic, &args.file, pcm) {
        (Some(mic), _, _) => {
            let limits = super::listen_mic::Limits {
                utterances: args.max_utterances,
                seconds: args.max_seconds,
            };
            let mut heard = |source, t: &Transcript| report(&args, source, t);
            super::listen_mic::run(mic, &mut whisper, &opts, limits, &mut heard)
        }
        (None, Some(file), Some(pcm)) => {
            let t = whisper
                .transcribe(&pcm, &opts)
                .with_context(|| format!("transcribing {}", file.display()))?;
            report(&args, serde_json::json!({ "file": file }), &t)
        }
        _ => anyhow::bail!("bora listen: give a WAV file or --mic [DEVICE]"),
    }
}

/// Prints what Whisper heard (`source` names the file or device in the JSON line), then
/// the plan `bora intent` makes of it (none for silence).
fn report(args: &ListenArgs, source: serde_json::Value, t: &Transcript) -> anyhow::Result<()> {
    let text = t.text.trim().to_owned();
    if args.json {
        let mut line = source;
        line["transcript"] = serde_json::to_value(t)?;
        println!("{line}");
    } else {
        let timing = &t.timing;
        println!(
            "heard:   {}",
            if text.is_empty() {
                "(no speech)"
            } else {
                &text
            }
        );
        println!(
            "asr:     {:.2} s of audio in {:.1} ms (mel {:.1}, encoder {:.1} over {} frames, decoder {:.1}; {} tokens), no-speech p {:.2}",
            t.audio_s,
            timing.total_us as f64 / 1e3,
            timing.mel_us as f64 / 1e3,
            timing.encode_us as f64 / 1e3,
            t.encoder_frames,
            timing.decode_us as f64 / 1e3,
            t.tokens.len(),
            t.no_speech_prob
        );
    }
    if text.is_empty() {
        if !args.json {
            println!("plan:    none (nothing heard, no motion)");
        }
        return Ok(());
    }
    // The transcript goes last, after `--`, so a leading `-` in it is not a flag.
    let mut argv = vec!["bora listen ... --".to_owned()];
    argv.extend(args.intent.iter().cloned());
    if args.json {
        argv.push("--json".to_owned());
    }
    argv.extend(["--".to_owned(), text]);
    let flags = IntentFlags::try_parse_from(argv).unwrap_or_else(|e| e.exit());
    super::intent::run(flags.args)
}
