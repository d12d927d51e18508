//! The endpointer on synthetic signals (silence, tone bursts, noise) and on the committed
//! espeak-ng clips.

use super::*;

const RATE: f64 = 16_000.0;

fn samples(s: f64) -> usize {
    (s * RATE).round() as usize
}

fn silence(s: f64) -> Vec<f32> {
    vec![0.0; samples(s)]
}

/// A sine of `hz` at `amp` for `s` seconds: a stand-in for a voiced sound.
fn tone(hz: f64, amp: f32, s: f64) -> Vec<f32> {
    (0..samples(s))
        .map(|i| amp * (std::f64::consts::TAU * hz * i as f64 / RATE).sin() as f32)
        .collect()
}

/// Uniform white noise in [-amp, amp] (xorshift: deterministic).
fn noise(amp: f32, s: f64, seed: u64) -> Vec<f32> {
    let mut x = seed | 1;
    (0..samples(s))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            amp * ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

fn cat(parts: &[Vec<f32>]) -> Vec<f32> {
    parts.concat()
}

/// Every endpoint of `signal`, fed in chunks of `chunk` samples.
fn run(config: EndpointConfig, signal: &[f32], chunk: usize) -> Vec<Endpoint> {
    let mut ep = Endpointer::new(config);
    let mut found = Vec::new();
    for c in signal.chunks(chunk) {
        ep.push(c, &mut |e| found.push(e));
    }
    found
}

fn utterances(found: &[Endpoint]) -> Vec<(usize, u64)> {
    found
        .iter()
        .filter_map(|e| match e {
            Endpoint::Utterance {
                pcm,
                speech_end_sample,
            } => Some((pcm.len(), *speech_end_sample)),
            _ => None,
        })
        .collect()
}

#[test]
fn silence_and_steady_white_noise_are_never_speech() {
    let cfg = EndpointConfig::default();
    assert!(run(cfg, &silence(5.0), 1600).is_empty());
    // Loud hiss (about -19 dBFS RMS) from the first sample: too many zero crossings.
    assert!(run(cfg, &noise(0.2, 5.0, 7), 1600).is_empty());
    // A burst of hiss inside silence: the same.
    let burst = cat(&[silence(1.0), noise(0.3, 1.5, 9), silence(1.0)]);
    assert!(run(cfg, &burst, 320).is_empty());
}

#[test]
fn a_tone_burst_is_one_utterance_ending_at_the_burst() {
    let cfg = EndpointConfig::default();
    let signal = cat(&[silence(1.0), tone(220.0, 0.3, 0.8), silence(1.5)]);
    let found = run(cfg, &signal, 1000);
    let u = utterances(&found);
    assert_eq!(u.len(), 1, "{found:?}");
    let (len, end) = u[0];
    // Speech ends where the tone does, within a frame.
    assert!(
        (end as f64 / RATE - 1.8).abs() <= FRAME_S + 1e-9,
        "end {end}"
    );
    // Pre-roll (0.2 s) + tone (0.8 s) + hang-over (0.5 s), within two frames.
    let expect = 0.2 + 0.8 + 0.5;
    assert!(
        (len as f64 / RATE - expect).abs() <= 2.0 * FRAME_S,
        "len {len}"
    );
}

#[test]
fn the_chunk_size_does_not_change_the_result() {
    let cfg = EndpointConfig::default();
    let signal = cat(&[silence(0.5), tone(300.0, 0.2, 0.6), silence(1.0)]);
    let reference = run(cfg, &signal, signal.len());
    for chunk in [1, 7, 320, 1601] {
        assert_eq!(run(cfg, &signal, chunk), reference, "chunk {chunk}");
    }
}

#[test]
fn two_bursts_a_hangover_apart_are_two_utterances_and_a_short_gap_is_one() {
    let cfg = EndpointConfig::default();
    let burst = || tone(200.0, 0.3, 0.4);
    let apart = cat(&[silence(0.5), burst(), silence(1.0), burst(), silence(1.0)]);
    assert_eq!(utterances(&run(cfg, &apart, 512)).len(), 2);
    let close = cat(&[silence(0.5), burst(), silence(0.2), burst(), silence(1.0)]);
    assert_eq!(utterances(&run(cfg, &close, 512)).len(), 1);
}

#[test]
fn a_click_is_too_short_and_a_long_tone_is_cut_at_the_limit() {
    let cfg = EndpointConfig {
        max_utterance: Duration::from_secs(2),
        ..EndpointConfig::default()
    };
    let click = cat(&[silence(0.5), tone(200.0, 0.5, 0.08), silence(1.0)]);
    let found = run(cfg, &click, 800);
    assert!(
        matches!(found.as_slice(), [Endpoint::TooShort { .. }]),
        "{found:?}"
    );
    let long = cat(&[silence(0.5), tone(200.0, 0.3, 5.0), silence(1.0)]);
    let found = run(cfg, &long, 800);
    let [Endpoint::TooLong {
        limit,
        cut_at_sample,
    }] = found.as_slice()
    else {
        panic!("expected one cut, got {found:?}");
    };
    assert_eq!(*limit, Duration::from_secs(2));
    // Cut 2 s after the start (pre-roll included), not later.
    let cut_s = *cut_at_sample as f64 / RATE;
    assert!((cut_s - 2.3).abs() <= 2.0 * FRAME_S, "cut at {cut_s} s");
    // The rest of that speech is skipped; speech after the next silence is heard again.
    let then = cat(&[long, tone(200.0, 0.3, 0.5), silence(1.0)]);
    let found = run(cfg, &then, 800);
    assert_eq!(utterances(&found).len(), 1, "{found:?}");
}

#[test]
fn speech_over_a_quieter_background_is_found_and_a_steady_hum_raises_the_floor() {
    let cfg = EndpointConfig::default();
    // Hiss at about -35 dBFS with a -17 dBFS tone burst on top.
    let mut signal = noise(0.03, 4.0, 3);
    for (s, t) in signal[samples(1.5)..].iter_mut().zip(tone(250.0, 0.2, 0.6)) {
        *s += t;
    }
    let found = run(cfg, &signal, 1600);
    assert_eq!(utterances(&found).len(), 1, "{found:?}");
    // A low hum from the start is cut once at the limit, then becomes the floor.
    let cfg = EndpointConfig {
        max_utterance: Duration::from_secs(2),
        ..cfg
    };
    let mut ep = Endpointer::new(cfg);
    let mut found = Vec::new();
    ep.push(&tone(100.0, 0.05, 30.0), &mut |e| found.push(e));
    assert!(
        matches!(found.as_slice(), [Endpoint::TooLong { .. }]),
        "{found:?}"
    );
    assert!(ep.noise_floor_dbfs() > -40.0, "{}", ep.noise_floor_dbfs());
}

/// The 16-bit mono samples of a committed WAV clip (models/tests/data/whisper).
fn clip(name: &str) -> Vec<f32> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/tests/data/whisper")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let at = bytes
        .windows(4)
        .position(|w| w == b"data")
        .expect("a data chunk");
    bytes[at + 8..]
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}

#[test]
fn each_espeak_clip_is_exactly_one_utterance_holding_all_its_speech() {
    let cfg = EndpointConfig::default();
    for name in ["forward_one_meter.wav", "stop.wav", "turn_around.wav"] {
        let speech = clip(name);
        let signal = cat(&[silence(0.5), speech.clone(), silence(1.0)]);
        let found = run(cfg, &signal, 1600);
        let u = utterances(&found);
        assert_eq!(u.len(), 1, "{name}: {found:?}");
        let (len, _) = u[0];
        assert!(
            len >= speech.len() / 2,
            "{name}: {len} of {} samples",
            speech.len()
        );
        // Noise of the same loudness heard the same way gives nothing.
        let hiss = noise(0.1, speech.len() as f64 / RATE, 5);
        let found = run(cfg, &cat(&[silence(0.5), hiss, silence(1.0)]), 1600);
        assert!(found.is_empty(), "{name}: noise gave {found:?}");
    }
}
