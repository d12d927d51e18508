//! Issue #16: `bora profile --speech CLIP.wav` (the real binary, Whisper tiny.en and the
//! language model, simulated robot) plays an espeak-ng clip into the hearing stage every
//! command period and reports speech end -> transcript and speech end -> first cmd_vel;
//! its `--trace` shows the hearing stage's steps and each recognition as slices on the
//! `hearing` thread, so a Perfetto view puts the ears beside the model.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The samples recorded for latency `name` in a profile report (0 when absent).
fn count(report: &Value, name: &str) -> u64 {
    report["latencies"]
        .as_array()
        .expect("latencies")
        .iter()
        .find(|l| l["name"] == name)
        .and_then(|l| l["count"].as_u64())
        .unwrap_or(0)
}

/// Thread id of the thread named `name` in a Chrome trace.
fn tid_of(trace: &[Value], name: &str) -> Option<u64> {
    trace
        .iter()
        .find(|e| e["ph"] == "M" && e["name"] == "thread_name" && e["args"]["name"] == name)
        .and_then(|e| e["tid"].as_u64())
}

#[test]
fn spoken_commands_are_timed_from_speech_end_and_traced_on_the_hearing_thread() {
    let clip = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/tests/data/whisper/forward_one_meter.wav");
    let dir = tempfile::tempdir().expect("temp dir");
    let (json, trace) = (dir.path().join("p.json"), dir.path().join("p.trace.json"));
    let out = Command::new(env!("CARGO_BIN_EXE_bora"))
        .args([
            "profile",
            "--quiet",
            "--duration",
            "8",
            "--command-period",
            "4",
        ])
        .arg("--speech")
        .arg(&clip)
        .arg("--json")
        .arg(&json)
        .arg("--trace")
        .arg(&trace)
        .output()
        .expect("bora runs");
    assert!(
        out.status.success(),
        "bora profile --speech failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written")).unwrap();
    for name in ["speech_end_to_transcript", "speech_end_to_first_cmd_vel"] {
        assert!(
            count(&report, name) >= 1,
            "no {name} sample: {}",
            report["latencies"]
        );
    }

    let trace: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&trace).expect("trace written"))
            .expect("trace is a JSON array");
    let hearing = tid_of(&trace, "hearing").expect("a thread named hearing in the trace");
    let on_hearing = |name: &str, ph: &str| {
        trace
            .iter()
            .filter(|e| e["tid"].as_u64() == Some(hearing) && e["name"] == name && e["ph"] == ph)
            .count()
    };
    let (begun, ended) = (on_hearing("recognise", "B"), on_hearing("recognise", "E"));
    assert!(begun >= 1, "no recognise slice on the hearing thread");
    assert_eq!(begun, ended, "every recognise slice is closed");
    let steps = trace
        .iter()
        .filter(|e| e["name"] == "stage_step" && e["args"]["stage"] == "hearing")
        .count();
    assert!(steps >= 1, "no stage_step of the hearing stage");
}
