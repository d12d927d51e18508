//! Whisper base (multilingual, prompted with <|en|><|transcribe|>) through `bora listen`:
//! on the committed clip "move forward two meters then turn left", the transcript is
//! ctranslate2's for the same files, " Move forward 2 meters and turn left.", and the
//! parser plans it as 2 m then a left turn.
//!
//! The model (145 MB) is fetched only on request: `scripts/test.sh` asks for it
//! (`BORA_WHISPER_BASE=1 bash scripts/setup.sh`), so the test command runs this.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn base_dir() -> PathBuf {
    std::env::var_os("BORA_MODELS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/bora/models")))
        .expect("BORA_MODELS or HOME")
        .join("whisper-base")
}

#[test]
fn whisper_base_hears_the_clip_as_ctranslate2_does() {
    let clip = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/tests/data/whisper/forward_two_meters_turn_left.wav");
    let out = Command::new(env!("CARGO_BIN_EXE_bora"))
        .arg("listen")
        .arg(&clip)
        .arg("--whisper")
        .arg(base_dir())
        .args(["--json", "--", "--model", "none"])
        .output()
        .expect("run bora listen");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{} (whisper-base is fetched by `BORA_WHISPER_BASE=1 bash scripts/setup.sh`)",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(
        lines[0]["transcript"]["text"],
        " Move forward 2 meters and turn left."
    );
    assert_eq!(
        lines[1]["plan"].to_string(),
        r#"[{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":90.0}]"#
    );
}
