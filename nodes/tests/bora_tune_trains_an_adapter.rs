//! `bora tune` on real data with the real model: twelve steps (three epochs) on four lines of
//! train.jsonl write a PEFT adapter that bora-tune loads back, the training loss falls
//! clearly, and the held-out loss (two other lines) is lower after training than before.
//! `bora intent --adapter` loads it, and it changes the model's output against the same
//! adapter with its update zeroed. The held-out test split (heldout.jsonl) is refused
//! before anything is loaded.

use std::path::{Path, PathBuf};
use std::process::Command;

use bora_models::registry::resolve_model;
use bora_tune::{BaseModel, LoraAdapter};

fn intents_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/data/intents")
}

fn bora(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bora"))
        .args(args)
        .output()
        .expect("bora runs")
}

#[test]
fn bora_tune_trains_an_adapter() {
    let model = resolve_model("smollm2-135m-instruct")
        .unwrap_or_else(|e| panic!("model not available ({e}); run scripts/setup.sh"));
    let train = std::fs::read_to_string(intents_dir().join("train.jsonl")).expect("train.jsonl");
    let lines: Vec<&str> = train.lines().take(6).collect();
    let tmp = tempfile::tempdir().expect("temp dir");
    let data = tmp.path().join("four.jsonl");
    let heldout = tmp.path().join("two.jsonl");
    std::fs::write(&data, lines[..4].join("\n") + "\n").expect("write data");
    std::fs::write(&heldout, lines[4..].join("\n") + "\n").expect("write held-out");
    let out = tmp.path().join("adapter");
    let report = tmp.path().join("report.json");

    let run = bora(&[
        "tune",
        "--data",
        data.to_str().unwrap(),
        "--heldout",
        heldout.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--epochs",
        "3",
        "--max-steps",
        "12",
        "--lr",
        "2e-3",
        // Twelve steps: a constant rate, so the fall asserted below is the adapter's,
        // not the schedule's (cosine would decay to zero within the run).
        "--lr-decay",
        "constant",
        "--batch",
        "1",
        "--json",
        report.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "bora tune failed:\n{stderr}");
    assert!(out.join("adapter_model.safetensors").is_file(), "{stderr}");
    assert!(out.join("adapter_config.json").is_file(), "{stderr}");

    let text = std::fs::read_to_string(&report).expect("--json report written");
    assert_eq!(
        text,
        std::fs::read_to_string(out.join("tune.json")).expect("tune.json written")
    );
    let r: serde_json::Value = serde_json::from_str(&text).expect("report is JSON");
    assert_eq!(r["steps"], 12, "{r}");
    assert_eq!(r["batch"], 1, "{r}");
    assert_eq!(r["seed"], 15, "{r}");
    assert_eq!(r["lr_decay"], "constant", "{r}");
    assert_eq!(r["warmup"], 0, "2 % of 12 steps rounds to no warm-up: {r}");
    assert_eq!(r["clip"], 1.0, "the default clips at norm 1: {r}");
    assert_eq!(r["data"]["lines"], 4, "{r}");
    assert!(r["command_line"]
        .as_array()
        .is_some_and(|a| a.iter().any(|v| v == "--max-steps")));
    let first = r["first_train_loss"].as_f64().expect("first loss");
    let last = r["last_train_loss"].as_f64().expect("last loss");
    assert!(
        last < 0.6 * first,
        "training loss fell only from {first} to {last}\n{stderr}"
    );
    let held = r["heldout_loss"].as_array().expect("held-out losses");
    // Before training, then after each of the three epochs.
    assert_eq!(held.len(), 4, "{r}");
    let (before, after) = (
        held[0]["loss"].as_f64().unwrap(),
        held[3]["loss"].as_f64().unwrap(),
    );
    assert!(
        after < before,
        "held-out loss {before} -> {after}\n{stderr}"
    );
    println!(
        "train {first:.3} -> {last:.3}, held-out {before:.3} -> {after:.3}, {} s/step",
        r["seconds_per_step"]
    );

    let base = BaseModel::load(&model, &candle_core::Device::Cpu).expect("base loads");
    let adapter = LoraAdapter::load(&out, &base).expect("adapter loads back");
    assert_eq!(
        adapter.config.rank, 16,
        "the shipped recipe's rank is the default"
    );
    let form = bora_tune::form::read_form(&out).expect("form record readable");
    assert_eq!(
        form.as_deref(),
        Some("short"),
        "bora tune trains the short form by default"
    );

    // The adapter changes what the language stage generates: against the same adapter
    // with B zeroed (the same tuned prompt, no update), the trained one writes another
    // text on at least one of the four lines it was trained on.
    for pairs in &adapter.layers {
        for pair in pairs.values() {
            pair.b
                .set(&pair.b.zeros_like().expect("zeros"))
                .expect("zero B");
        }
    }
    let null = tmp.path().join("null-adapter");
    adapter
        .save(&null, &base, "smollm2")
        .expect("null adapter saved");
    // Same form as the trained one, so only the weights differ.
    bora_tune::form::write_form(&null, "short").expect("form recorded");
    let texts: Vec<String> = lines[..4]
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let outputs = |dir: &Path| -> Vec<String> {
        let args = [
            "intent",
            "--json",
            "--threads",
            "1",
            "--adapter",
            dir.to_str().unwrap(),
            "--stdin",
        ];
        let mut child = Command::new(env!("CARGO_BIN_EXE_bora"))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("bora intent runs");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            for t in &texts {
                writeln!(stdin, "{t}").expect("write command");
            }
        }
        let done = child.wait_with_output().expect("bora intent finishes");
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
        String::from_utf8_lossy(&done.stdout)
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
                v["model_text"].as_str().expect("the model ran").to_owned()
            })
            .collect()
    };
    let (tuned, untuned) = (outputs(&out), outputs(&null));
    assert_eq!(tuned.len(), 4);
    println!("tuned {tuned:?}\nnull  {untuned:?}");
    assert_ne!(tuned, untuned, "the trained adapter changed no output");

    // The held-out test split is never trained on.
    let split = intents_dir().join("heldout.jsonl");
    let refused = bora(&[
        "tune",
        "--data",
        split.to_str().unwrap(),
        "--out",
        tmp.path().join("never").to_str().unwrap(),
    ]);
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "heldout.jsonl was accepted");
    assert!(msg.contains("held-out"), "{msg}");
    assert!(!tmp.path().join("never").exists());
}
