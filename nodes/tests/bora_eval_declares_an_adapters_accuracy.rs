//! Issue #15: `bora eval intents --adapter DIR --declare` records the adapter's
//! model-alone accuracy beside it (bora_accuracy.json), and the language stage reads it
//! back as the adapter's declared held-out accuracy: `bora intent` reports the model as
//! measured (and, below safety.model_motion_min_accuracy, still not trusted for motion).
//! Retraining the adapter makes the declaration stale, and loading then fails with an
//! error that names the file instead of trusting it silently.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Three commands and a non-command: the shipped adapter's own plans for these are all
/// valid, and it proposes no motion for "thank you so much".
const CASES: &str = r#"{"text":"turn left","plans":[[{"action":"turn","angle_deg":90.0}]],"category":"basic"}
{"text":"move forward two meters","plans":[[{"action":"move","distance_m":2.0}]],"category":"basic"}
{"text":"say hello","plans":[[{"action":"say","text":"hello"}]],"category":"say"}
{"text":"thank you so much","plans":[[]],"category":"non_command"}
"#;

fn bora(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bora"))
        .args(args)
        .output()
        .expect("bora runs")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("shipped adapter") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

#[test]
fn a_declared_accuracy_is_read_back_until_the_adapter_changes() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/adapters/smollm2-intents");
    let tmp = tempfile::tempdir().expect("temp dir");
    let adapter = tmp.path().join("adapter");
    copy_dir(&shipped, &adapter);
    let _ = std::fs::remove_file(adapter.join("bora_accuracy.json"));
    let cases = tmp.path().join("cases.jsonl");
    std::fs::write(&cases, CASES).expect("write cases");
    let a = adapter.to_str().unwrap();

    let out = bora(&[
        "eval",
        "intents",
        "--threads",
        "1",
        "--adapter",
        a,
        "--declare",
        cases.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "bora eval --declare failed:\n{stderr}"
    );
    let text =
        std::fs::read_to_string(adapter.join("bora_accuracy.json")).expect("declaration written");
    let d: Value = serde_json::from_str(&text).expect("declaration is JSON");
    assert_eq!(d["schema"], "bora.adapter-accuracy/1");
    assert_eq!(d["cases"], 4);
    assert_eq!(d["invalid_outputs"], 0);
    assert_eq!(d["non_commands_model_moved"], 0);
    let acc = d["heldout_accuracy"].as_f64().expect("accuracy");
    assert!((0.0..=1.0).contains(&acc) && acc > 0.0, "{d}");

    // The agent's language stage reads it: the model is described as measured.
    let out = bora(&["intent", "--threads", "1", "--adapter", a, "turn left"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = format!("declared held-out accuracy {:.1} %", 100.0 * acc);
    assert!(
        stdout.contains(&shown),
        "declared {shown} not reported:\n{stdout}"
    );

    // Retrained (here: one byte of the weights changed): loading refuses the stale claim.
    let weights = adapter.join("adapter_model.safetensors");
    let mut bytes = std::fs::read(&weights).expect("weights");
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&weights, bytes).expect("rewrite weights");
    let out = bora(&["intent", "--threads", "1", "--adapter", a, "turn left"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a stale declaration was accepted");
    assert!(
        stderr.contains("bora_accuracy.json") && stderr.contains("stale"),
        "{stderr}"
    );
}
