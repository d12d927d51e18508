//! `bora tokenize --json` prints the ids llama.cpp's `llama-tokenize --no-bos` printed
//! for the shared reference texts, special tokens parsed by default and not with
//! `--no-special`; unknown models fail with a message naming the known ones.
//!
//! Every SmolLM2 line goes through the binary; Gemma 3 (a second or so to build its
//! tokenizer per process) is checked on a few lines here and on all of them in
//! bora-models' tokenizer test.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn reference_lines() -> Vec<serde_json::Value> {
    let dir = match std::env::var_os("BORA_REFERENCE_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"),
    };
    let path = dir.join("tokenize.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the llama.cpp reference {}: {e}; run scripts/setup.sh (or set BORA_REFERENCE_DIR)",
            path.display()
        )
    });
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("reference line is JSON"))
        .collect()
}

/// Runs `bora tokenize` with `args`, the text on stdin; returns (success, stdout, stderr).
fn tokenize(args: &[&str], text: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bora"))
        .arg("tokenize")
        .args(args)
        .arg("--stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bora");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("bora finishes");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ids_of(model: &str, text: &str, extra: &[&str]) -> Vec<u32> {
    let mut args = vec!["--model", model, "--json"];
    args.extend_from_slice(extra);
    let (ok, stdout, stderr) = tokenize(&args, text);
    assert!(ok, "bora tokenize --model {model} failed: {stderr}");
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{stdout:?}: {e}"))
}

fn expected(line: &serde_json::Value, key: &str) -> Vec<u32> {
    serde_json::from_value(line[key].clone()).expect("ids")
}

#[test]
fn smollm2_ids_match_the_reference_for_every_line() {
    for line in reference_lines() {
        let text = line["text"].as_str().expect("text");
        assert_eq!(
            ids_of("smollm2-135m-instruct", text, &[]),
            expected(&line, "smollm2"),
            "{text:?}"
        );
    }
}

#[test]
fn gemma3_ids_match_the_reference() {
    let lines = reference_lines();
    let picked = lines.iter().filter(|l| {
        let t = l["text"].as_str().unwrap_or_default();
        t.contains("<|im_start|>") || t.contains("emoji") || t.contains('\t') || t == "stop"
    });
    let mut checked = 0;
    for line in picked {
        let text = line["text"].as_str().expect("text");
        assert_eq!(
            ids_of("gemma3-270m", text, &[]),
            expected(line, "gemma3"),
            "{text:?}"
        );
        checked += 1;
    }
    assert!(checked >= 3, "the reference lost the lines this test picks");
}

#[test]
fn no_special_keeps_control_tokens_as_text() {
    let text = "<|im_start|>user";
    let parsed = ids_of("smollm2-135m-instruct", text, &[]);
    assert_eq!(parsed[0], 1, "<|im_start|> is id 1 in SmolLM2");
    let plain = ids_of("smollm2-135m-instruct", text, &["--no-special"]);
    assert!(
        !plain.contains(&1) && plain.len() > parsed.len(),
        "{plain:?}"
    );
}

#[test]
fn default_and_ids_formats_follow_llama_tokenize() {
    let (ok, stdout, stderr) = tokenize(&["--model", "smollm2-135m-instruct"], "stop");
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "  9796 -> 'stop'\n");
    let (ok, stdout, stderr) = tokenize(&["--model", "smollm2-135m-instruct", "--ids"], "go back");
    assert!(ok, "{stderr}");
    assert_eq!(stdout, "[2345, 1056]\n");
}

#[test]
fn unknown_model_names_the_known_ones() {
    let (ok, _, stderr) = tokenize(&["--model", "no-such-model"], "hi");
    assert!(!ok);
    assert!(
        stderr.contains("smollm2-135m-instruct") && stderr.contains("gemma3-270m"),
        "{stderr}"
    );
}
