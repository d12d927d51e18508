//! Issue #20 with the real model: `bora intent --stdin --json` on the non-commands of
//! tests/data/non_commands.txt (questions, chit-chat, thanks, system-prompt requests,
//! injections). Before the fix SmolLM2-135M answered each of them with a 1 m drive that
//! the agent executed. Now every one has no motion and says "not understood", the model
//! did run on each (its text is in the report), and in the same process a command the
//! parser understands still gets its motion.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

/// Runs `bora intent --stdin --json` on `lines`; one report per line.
fn intent(lines: &[String]) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bora"))
        .args(["intent", "--stdin", "--json", "--threads", "1"])
        // The untuned model: the one that proposes motion for these (the tuned default
        // declines them; that is measured by `bora eval intents`).
        .args(["--adapter", "none"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run bora intent");
    let mut stdin = child.stdin.take().expect("stdin");
    for l in lines {
        writeln!(stdin, "{l}").expect("write stdin");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("bora intent finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bora intent failed: {stderr}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn moves(report: &Value) -> bool {
    report["plan"].as_array().is_some_and(|steps| {
        steps
            .iter()
            .any(|s| s["action"] == "move" || s["action"] == "turn")
    })
}

#[test]
fn no_non_command_gets_motion_and_a_real_command_still_does() {
    let mut lines = bora_testkit::non_commands();
    assert!(lines.len() >= 20, "{} non-commands", lines.len());
    lines.push("move forward one meter".into());
    let reports = intent(&lines);
    assert_eq!(reports.len(), lines.len(), "one report per line");
    let (control, reports) = reports.split_last().expect("reports");
    let mut model_motion = 0;
    for (r, s) in reports.iter().zip(&lines) {
        assert_eq!(r["command"], s.as_str(), "{r}");
        assert!(!moves(r), "motion for {s:?}: {r}");
        assert_eq!(r["understood"], false, "{r}");
        // The model loaded and ran: this is not the parser-only degraded mode.
        let text = r["model_text"]
            .as_str()
            .unwrap_or_else(|| panic!("model did not run: {r}"));
        if text.contains("\"move\"") || text.contains("\"turn\"") {
            model_motion += 1;
            assert!(r["reasons"].to_string().contains("not understood"), "{r}");
        }
    }
    // What made this issue: the untuned model proposes motion for such sentences. If it
    // ever stops doing so, this test no longer exercises the policy and must be revisited.
    println!(
        "model proposed motion for {model_motion} of {} non-commands",
        reports.len()
    );
    assert!(model_motion > 0, "the model proposed no motion at all");
    assert!(moves(control), "{control}");
    assert_eq!(control["understood"], true, "{control}");
}
