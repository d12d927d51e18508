//! Silence and noise through Whisper tiny.en give no command: an empty transcript (the
//! no-speech rule) or text without any motion word, so nothing downstream moves.
//!
//! Needs the model from `scripts/setup.sh`; fails (does not skip) without it.

use bora_models::whisper::{default_model_dir, EncoderWindow, TranscribeOptions, Whisper};
use candle_core::Device;

const MOTION_WORDS: &[&str] = &[
    "forward", "back", "left", "right", "turn", "move", "go", "drive", "rotate", "stop", "meter",
    "degree",
];

fn assert_no_command(what: &str, text: &str) {
    let lower = text.to_lowercase();
    for w in MOTION_WORDS {
        assert!(
            !lower
                .split(|c: char| !c.is_alphanumeric())
                .any(|t| t.starts_with(w)),
            "{what} transcribed as {text:?}, which has the motion word {w:?}"
        );
    }
}

/// Deterministic white noise in [-amplitude, amplitude] (a 64-bit LCG).
fn noise(n: usize, amplitude: f32) -> Vec<f32> {
    let mut s: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amplitude
        })
        .collect()
}

#[test]
fn silence_and_noise_transcribe_to_no_command() {
    let dir = default_model_dir();
    let mut whisper = Whisper::load(&dir, &Device::Cpu)
        .unwrap_or_else(|e| panic!("Whisper tiny.en is needed at {}: {e}", dir.display()));
    let cases = [
        ("2 s of silence", vec![0.0; 32_000]),
        ("2 s of quiet noise", noise(32_000, 0.01)),
        ("2 s of loud noise", noise(32_000, 0.5)),
    ];
    for window in [
        EncoderWindow::Full,
        EncoderWindow::Fit { margin_frames: 100 },
    ] {
        let opts = TranscribeOptions {
            window,
            ..TranscribeOptions::default()
        };
        for (what, pcm) in &cases {
            let t = whisper.transcribe(pcm, &opts).expect("transcribes");
            eprintln!(
                "{what} ({window:?}): {:?} no_speech_prob {:.2} avg_logprob {:.2}",
                t.text, t.no_speech_prob, t.avg_logprob
            );
            assert_no_command(what, &t.text);
        }
    }
    let silence = whisper
        .transcribe(&[0.0; 32_000], &TranscribeOptions::default())
        .expect("transcribes");
    assert!(
        silence.text.trim().is_empty(),
        "silence gave {:?}",
        silence.text
    );
}
