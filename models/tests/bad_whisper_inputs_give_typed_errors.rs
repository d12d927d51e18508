//! Broken Whisper inputs give typed errors naming the file (and the variable) instead of
//! panics: a model.bin that is truncated, holds an unknown variable or a wrong dtype; a
//! model directory without its files; WAV files that are not RIFF, of an unsupported
//! sample format, empty or too long.

use std::path::Path;

use bora_models::whisper::ct2::write_model_bin;
use bora_models::whisper::wav::{wav_bytes_i16, WavProblem};
use bora_models::whisper::{read_wav_16k, Whisper};
use bora_models::Error;
use candle_core::Device;

/// A model directory holding `model` as model.bin and minimal config/tokenizer files.
fn model_dir(model: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("model.bin"), model).expect("write");
    std::fs::write(dir.path().join("config.json"), "{}").expect("write");
    std::fs::write(dir.path().join("tokenizer.json"), "{}").expect("write");
    dir
}

fn load_error(model: &[u8]) -> (tempfile::TempDir, Error) {
    let dir = model_dir(model);
    let err = Whisper::load(dir.path(), &Device::Cpu).expect_err("must not load");
    (dir, err)
}

#[test]
fn broken_model_files_are_typed_errors_naming_file_and_variable() {
    let w = vec![0u8; 4 * 6];
    let good = write_model_bin(
        "WhisperSpec",
        &[("encoder/conv1/weight", &[2, 1, 3], 0, &w)],
        &[],
    );
    // Truncated anywhere: Ct2Truncated naming model.bin.
    let (dir, err) = load_error(&good[..good.len() - 5]);
    match err {
        Error::Ct2Truncated { path, section, .. } => {
            assert_eq!(path, dir.path().join("model.bin"));
            assert!(section.contains("encoder/conv1/weight"), "{section}");
        }
        other => panic!("{other}"),
    }
    // An integer dtype where a weight is expected, once the tokenizer is valid, is checked
    // in the unit tests; a dtype id outside 0..=5 fails while reading.
    let bad_dtype = write_model_bin(
        "WhisperSpec",
        &[("encoder/conv1/weight", &[1], 7, &[0])],
        &[],
    );
    match load_error(&bad_dtype).1 {
        Error::Ct2Dtype {
            variable, found, ..
        } => {
            assert_eq!(variable, "encoder/conv1/weight");
            assert_eq!(found, "id 7");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn missing_model_files_name_the_file_and_the_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    match Whisper::load(dir.path(), &Device::Cpu).expect_err("empty dir") {
        Error::WhisperModel { path, .. } => assert_eq!(path, dir.path().join("model.bin")),
        other => panic!("{other}"),
    }
}

fn wav_problem(bytes: &[u8]) -> WavProblem {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("in.wav");
    std::fs::write(&path, bytes).expect("write");
    match read_wav_16k(&path).expect_err("bad WAV") {
        Error::Wav { path: p, reason } => {
            assert_eq!(p, path);
            reason
        }
        other => panic!("{other}"),
    }
}

#[test]
fn bad_wav_files_are_typed_errors() {
    assert_eq!(wav_problem(b"ID3\x04 an mp3 file"), WavProblem::NotRiffWave);
    assert_eq!(
        wav_problem(&wav_bytes_i16(&[], 1, 16_000)),
        WavProblem::Empty
    );
    let mut pcm8 = wav_bytes_i16(&[0; 8], 1, 16_000);
    pcm8[34] = 8;
    assert_eq!(
        wav_problem(&pcm8),
        WavProblem::UnsupportedFormat {
            format_tag: 1,
            bits: 8
        }
    );
    let mut alaw = wav_bytes_i16(&[0; 8], 1, 16_000);
    alaw[20] = 6; // WAVE_FORMAT_ALAW
    assert!(matches!(
        wav_problem(&alaw),
        WavProblem::UnsupportedFormat { format_tag: 6, .. }
    ));
    let long = wav_bytes_i16(&vec![0; 8000 * 31], 1, 8000);
    assert!(matches!(wav_problem(&long), WavProblem::TooLong { .. }));
    let e = Error::Wav {
        path: Path::new("x.wav").to_owned(),
        reason: WavProblem::NotRiffWave,
    };
    assert_eq!(e.to_string(), "x.wav: not a WAV file (no RIFF/WAVE header)");
}

#[test]
fn a_48_khz_stereo_wav_reads_as_16_khz_mono() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("in.wav");
    let frames = 48_000;
    let samples: Vec<i16> = (0..frames)
        .flat_map(|i| {
            let v =
                ((2.0 * std::f64::consts::PI * 440.0 * i as f64 / 48_000.0).sin() * 8000.0) as i16;
            [v, v]
        })
        .collect();
    std::fs::write(&path, wav_bytes_i16(&samples, 2, 48_000)).expect("write");
    let pcm = read_wav_16k(&path).expect("reads");
    assert_eq!(pcm.len(), 16_000);
    let peak = pcm[1000..15_000].iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!((peak - 8000.0 / 32768.0).abs() < 2e-3, "{peak}");
}
