//! `bora listen FILE.wav`: speech to text with Whisper (offline, no ROS), then the plan the
//! language stage makes of the transcript, exactly as `bora intent` makes it: the words
//! after `--` are `bora intent`'s own flags (`bora listen cmd.wav -- --model none`).
//!
//! The WAV may be 16-bit PCM or 32-bit float, any rate, mono or stereo: it is mixed to
//! mono and resampled to 16 kHz by a windowed-sinc low-pass (bora_models::whisper::resample).
//! Silence (Whisper's no-speech rule) gives no command, so no plan and no motion.

use std::path::PathBuf;

use anyhow::Context;
use bora_models::whisper::{
    default_model_dir, read_wav_16k, EncoderWindow, TranscribeOptions, Whisper,
};
use bora_models::DeviceSpec;
use clap::{Args, Parser};

use super::intent::IntentArgs;

/// Arguments of `bora listen`.
#[derive(Args, Debug)]
pub struct ListenArgs {
    /// The WAV file: 16-bit PCM or 32-bit float, any rate, mono or stereo, at most 30 s.
    pub file: PathBuf,
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
    let dir = args.whisper.clone().unwrap_or_else(default_model_dir);
    let device: DeviceSpec = args.asr_device.parse()?;
    let device = device.open()?;
    let pcm = read_wav_16k(&args.file)?;
    let mut whisper = Whisper::load(&dir, &device)?;
    let opts = TranscribeOptions {
        window: if args.fit_window {
            EncoderWindow::Fit { margin_frames: 100 }
        } else {
            EncoderWindow::Full
        },
        ..TranscribeOptions::default()
    };
    let t = whisper
        .transcribe(&pcm, &opts)
        .with_context(|| format!("transcribing {}", args.file.display()))?;
    let text = t.text.trim().to_owned();
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "file": args.file, "transcript": t })
        );
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
