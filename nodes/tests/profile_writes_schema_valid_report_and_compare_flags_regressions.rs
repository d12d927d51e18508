//! `bora profile` (the real binary, real model, simulated robot, a short run) writes a
//! JSON report that its JSON Schema file accepts, with samples in every latency, an SVG
//! and a Perfetto trace; `bora profile compare` passes the report against itself and
//! flags (exit 3) a copy with a doctored p99 regression.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn bora() -> Command {
    Command::new(env!("CARGO_BIN_EXE_bora"))
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/profile.schema.json");
    let text = std::fs::read_to_string(&path).expect("schema file in the repository");
    serde_json::from_str(&text).expect("schema is JSON")
}

#[test]
fn profile_report_is_schema_valid_and_compare_flags_a_doctored_regression() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (json, svg, trace) = (
        dir.path().join("p.json"),
        dir.path().join("p.svg"),
        dir.path().join("p.trace.json"),
    );
    let out = bora()
        .args([
            "profile",
            "--quiet",
            "--duration",
            "8",
            "--command-period",
            "2",
        ])
        .arg("--json")
        .arg(&json)
        .arg("--plot")
        .arg(&svg)
        .arg("--trace")
        .arg(&trace)
        .output()
        .expect("bora runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bora profile failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("command_to_plan"), "table: {stdout}");

    // The report against the schema file in the repository.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json written")).unwrap();
    let validator = jsonschema::validator_for(&schema()).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
    assert_eq!(report["schema"], "bora.profile/1");

    // Every latency block has samples, and the headline ones are there.
    let latencies = report["latencies"].as_array().unwrap();
    for l in latencies {
        assert!(l["count"].as_u64().unwrap() > 0, "no samples: {l}");
        assert!(l["p50_ms"].as_f64().unwrap() <= l["max_ms"].as_f64().unwrap());
    }
    let names: Vec<&str> = latencies
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    for want in [
        "ttft",
        "token_gap",
        "command_to_plan",
        "command_to_first_cmd_vel",
        "planning_jitter",
        "transit.commands",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    // The language stage runs the model: it always shows. (The planner's ticks cost
    // microseconds: over 8 s they may add up to less than one /proc clock tick, and
    // threads that used no measurable CPU are left out of the table.)
    assert!(
        report["threads"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "language"),
        "{}",
        report["threads"]
    );

    let svg_text = std::fs::read_to_string(&svg).expect("svg written");
    assert!(svg_text.contains("<svg") && svg_text.contains("command_to_plan"));
    let trace_json: Value =
        serde_json::from_str(&std::fs::read_to_string(&trace).expect("trace written"))
            .expect("trace is JSON");
    assert!(!trace_json.as_array().expect("event array").is_empty());

    // compare: the report against itself passes...
    let same = bora()
        .args(["profile", "compare"])
        .arg(&json)
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stdout)
    );

    // ...and a copy whose command_to_plan p99 doubled (+ 100 ms) is flagged.
    let mut doctored = report.clone();
    for l in doctored["latencies"].as_array_mut().unwrap() {
        if l["name"] == "command_to_plan" {
            let p99 = l["p99_ms"].as_f64().unwrap();
            l["p99_ms"] = (p99 * 2.0 + 100.0).into();
        }
    }
    let worse = dir.path().join("worse.json");
    std::fs::write(&worse, serde_json::to_string(&doctored).unwrap()).unwrap();
    let flagged = bora()
        .args(["profile", "compare"])
        .arg(&json)
        .arg(&worse)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&flagged.stdout);
    assert_eq!(flagged.status.code(), Some(3), "{text}");
    let row = text
        .lines()
        .find(|l| l.starts_with("p99 command_to_plan "))
        .expect("row for command_to_plan");
    assert!(row.ends_with("REGRESSION"), "{row}");
    assert_eq!(
        text.lines().filter(|l| l.ends_with("REGRESSION")).count(),
        1,
        "only the doctored figure: {text}"
    );
}
