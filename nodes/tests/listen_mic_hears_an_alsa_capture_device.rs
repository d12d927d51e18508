//! `bora listen --mic DEVICE` through real ALSA capture, no mock: ALSA's `file` PCM plugin
//! over a `null` slave plays a raw file into capture (then zeros), defined in a config file
//! of the test's own (ALSA_CONFIG_PATH for the child process only; nothing global changes).
//! The file holds two committed espeak-ng clips with silence around them; the endpointer
//! finds both, Whisper tiny.en transcribes each, and each gets its plan.
//!
//! Ctrl-C (SIGINT) ends the capture with a summary line and a clean exit.
//!
//! Needs the built binary, libasound and whisper-tiny.en (scripts/setup.sh).

use std::path::Path;
use std::process::{Command, Output};

use bora_models::whisper::read_wav_16k;
use serde_json::Value;

/// A committed 16 kHz mono clip (models/tests/data/whisper) as S16 samples.
fn clip(name: &str) -> Vec<i16> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/tests/data/whisper")
        .join(name);
    read_wav_16k(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .iter()
        .map(|&x| (x * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16)
        .collect()
}

/// An ALSA configuration defining `pcm.bora_test`: capture reads `raw` (S16 LE, mono,
/// 16 kHz), then silence.
fn alsa_config(dir: &Path, raw: &[i16]) -> std::path::PathBuf {
    let raw_path = dir.join("capture.raw");
    let bytes: Vec<u8> = raw.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(&raw_path, bytes).expect("write raw audio");
    let conf = dir.join("asound.conf");
    std::fs::write(
        &conf,
        format!(
            "pcm.bora_test {{\n  type file\n  slave.pcm {{ type null }}\n  file \"/dev/null\"\n  infile \"{}\"\n  format \"raw\"\n}}\n",
            raw_path.display()
        ),
    )
    .expect("write asound.conf");
    conf
}

fn listen(conf: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bora"))
        .arg("listen")
        .args(args)
        .env("ALSA_CONFIG_PATH", conf)
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run bora listen")
}

#[test]
fn two_spoken_commands_on_an_alsa_device_are_heard_and_planned() {
    let dir = tempfile::tempdir().expect("temp dir");
    let silence = |s: f64| vec![0_i16; (s * 16_000.0) as usize];
    let mut raw = silence(0.5);
    raw.extend(clip("forward_one_meter.wav"));
    raw.extend(silence(1.0));
    raw.extend(clip("stop_now.wav"));
    raw.extend(silence(1.0));
    let conf = alsa_config(dir.path(), &raw);

    let out = listen(
        &conf,
        &[
            "--mic",
            "bora_test",
            "--max-utterances",
            "2",
            "--max-seconds",
            "30",
            "--json",
            "--",
            "--model",
            "none",
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bora listen --mic failed: {stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 4, "two transcripts, two plans:\n{stdout}");
    // The same transcripts as ctranslate2 gives for the files (references.jsonl).
    for (i, (text, plan)) in [
        (
            " Drive forward one meter.",
            r#"[{"action":"move","distance_m":1.0}]"#,
        ),
        (" Stop right now.", r#"[{"action":"stop"}]"#),
    ]
    .into_iter()
    .enumerate()
    {
        let heard = &lines[2 * i];
        assert_eq!(heard["mic"], "bora_test", "{heard}");
        assert_eq!(heard["utterance"], i + 1, "{heard}");
        assert_eq!(heard["transcript"]["text"], text, "{heard}");
        let planned = &lines[2 * i + 1];
        assert_eq!(planned["plan"].to_string(), plan, "{planned}");
    }
}

#[test]
fn a_missing_alsa_device_is_named_before_the_model_loads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = alsa_config(dir.path(), &[0; 16]);
    // A Whisper directory that does not exist: the device is checked first.
    let out = listen(
        &conf,
        &["--mic", "bora_no_such_device", "--whisper", "/nonexistent"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("no ALSA capture device 'bora_no_such_device'")
            && stderr.contains("arecord -L"),
        "{stderr}"
    );
}

#[test]
fn ctrl_c_stops_the_microphone_with_a_summary() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let dir = tempfile::tempdir().expect("temp dir");
    // Silence: after the file the plugin gives zeros, so capture never ends by itself.
    let conf = alsa_config(dir.path(), &vec![0; 16_000]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_bora"))
        .args(["listen", "--mic", "bora_test", "--", "--model", "none"])
        .env("ALSA_CONFIG_PATH", &conf)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bora listen");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut seen = String::new();
    while !seen.contains("Ctrl-C stops") {
        let mut line = String::new();
        if stderr.read_line(&mut line).expect("read stderr") == 0 {
            panic!("bora listen ended before listening: {seen}");
        }
        seen.push_str(&line);
    }
    // SAFETY: kill has no memory-safety preconditions; the pid is our own child's.
    let sent = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    assert_eq!(sent, 0, "SIGINT sent");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("bora listen did not stop within 30 s of SIGINT: {seen}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).expect("read stderr");
    seen.push_str(&rest);
    assert!(status.success(), "exit {status:?} after SIGINT: {seen}");
    assert!(
        seen.contains("bora listen: stopped (Ctrl-C): 0 utterance(s)")
            && seen.contains("of audio from 'bora_test'"),
        "{seen}"
    );
}
