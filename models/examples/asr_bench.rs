//! Whisper latency on WAV clips, for `bench/asr-compare.sh` (which runs faster-whisper on
//! the same clips and threads): one JSON line per clip and repetition on stdout.
//!
//! `cargo run --release -p bora-models --example asr_bench -- DIR THREADS REPS WINDOW CLIP...`
//! with WINDOW `full` (30 s) or `fit` (the utterance plus 1 s; `FIT_MARGIN=frames` sets
//! the padding, 10 ms each). One warm-up run first.

use std::path::{Path, PathBuf};

use bora_models::whisper::{read_wav_16k, EncoderWindow, TranscribeOptions, Whisper};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, threads, reps, window, clips @ ..] = args.as_slice() else {
        return Err("usage: asr_bench DIR THREADS REPS full|fit CLIP...".into());
    };
    // candle sizes its CPU pools from these at first use.
    std::env::set_var("RAYON_NUM_THREADS", threads);
    std::env::set_var("CANDLE_NUM_THREADS", threads);
    let window = match window.as_str() {
        "full" => EncoderWindow::Full,
        "fit" => EncoderWindow::Fit {
            margin_frames: std::env::var("FIT_MARGIN").map_or(100, |m| m.parse().unwrap_or(100)),
        },
        w => return Err(format!("window `{w}`: full or fit").into()),
    };
    let opts = TranscribeOptions {
        window,
        ..TranscribeOptions::default()
    };
    let mut whisper = Whisper::load(Path::new(dir), &candle_core::Device::Cpu)?;
    let clips: Vec<(PathBuf, Vec<f32>)> = clips
        .iter()
        .map(|c| Ok((PathBuf::from(c), read_wav_16k(Path::new(c))?)))
        .collect::<Result<_, bora_models::Error>>()?;
    if let Some((_, pcm)) = clips.first() {
        whisper.transcribe(pcm, &opts)?;
    }
    for rep in 0..reps.parse::<usize>()? {
        for (path, pcm) in &clips {
            let t = whisper.transcribe(pcm, &opts)?;
            println!(
                "{}",
                serde_json::json!({
                    "clip": path.file_name().map(|n| n.to_string_lossy()),
                    "rep": rep,
                    "audio_s": t.audio_s,
                    "latency_ms": t.timing.total_us as f64 / 1e3,
                    "encode_ms": t.timing.encode_us as f64 / 1e3,
                    "decode_ms": t.timing.decode_us as f64 / 1e3,
                    "text": t.text,
                    "tokens": t.tokens,
                })
            );
        }
    }
    Ok(())
}
