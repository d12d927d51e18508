//! The real `bora` binary checks every `--params-file` named in `--ros-args` before r2r
//! reads it (r2r 0.9.7 panics, exit code 101, on a missing or malformed file): a missing
//! or malformed file is refused with its path and the reason; a key that matches no name
//! of the node, and a parameter the node does not declare, are reported by file and key;
//! the plain `bora_agent:` key applies under a namespace. Also: a thread count beyond the
//! bound is refused before anything starts, and logs to a file carry no ANSI colour.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `bora` with this test's own ROS domain, loopback-only discovery and no inherited
/// NO_COLOR (the colour check must see what a plain non-terminal run does).
fn bora() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bora"));
    c.env("ROS_DOMAIN_ID", (1 + std::process::id() % 100).to_string())
        .env("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    c
}

fn run(c: &mut Command) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = c.output().expect("bora runs");
    (
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write params file");
    p
}

/// Runs `bora <cmd> --ros-args <ros...>` and expects a refusal: exit code 1 (an error,
/// not r2r's panic 101) and every `needles` in stderr.
fn refused(cmd: &[&str], ros: &[&str], needles: &[&str]) {
    let (code, _, err) = run(bora().args(cmd).arg("--ros-args").args(ros));
    assert_eq!(code, Some(1), "{cmd:?} {ros:?}: stderr: {err}");
    assert!(!err.contains("panicked"), "{cmd:?} {ros:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{cmd:?} {ros:?}: {n:?} not in: {err}");
    }
}

#[test]
fn missing_and_malformed_params_files_are_refused_by_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no_such_profile.yaml");
    let missing = missing.to_str().expect("utf-8 temp path");
    let bad = write(
        dir.path(),
        "malformed.yaml",
        "bora_agent:\n  ros__parameters: [1, 2\n",
    );
    let bad = bad.to_str().expect("utf-8 temp path");
    for cmd in [&["agent", "--check-params"][..], &["agent"], &["sim"]] {
        refused(
            cmd,
            &["--params-file", missing],
            &[missing, "does not exist"],
        );
        refused(
            cmd,
            &["--params-file", bad],
            &[bad, "not a valid ROS 2 parameter file"],
        );
    }
    refused(
        &["agent", "--check-params"],
        &["--params-file", dir.path().to_str().expect("utf-8")],
        &["is not a file"],
    );
}

#[test]
fn keys_that_match_no_node_and_undeclared_parameters_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    // The key the launch README used to advise: r2r 0.9.7 ignores it.
    let wildcard = write(
        dir.path(),
        "wildcard.yaml",
        "/**/bora_agent:\n  ros__parameters:\n    threads: 1\n",
    );
    let wildcard = wildcard.to_str().expect("utf-8");
    refused(
        &["agent", "--check-params"],
        &["--params-file", wildcard],
        &[wildcard, "`/**/bora_agent`", "matches no name"],
    );
    let typo = write(
        dir.path(),
        "typo.yaml",
        "bora_agent:\n  ros__parameters:\n    thread: 1\n",
    );
    let typo = typo.to_str().expect("utf-8");
    refused(
        &["agent", "--check-params"],
        &["--params-file", typo],
        &[typo, "`thread`", "`bora_agent`", "not a parameter"],
    );
}

#[test]
fn the_plain_node_key_applies_under_a_namespace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = write(
        dir.path(),
        "plain.yaml",
        "bora_agent:\n  ros__parameters:\n    planner:\n      rate_hz: 25.0\n",
    );
    let full = write(
        dir.path(),
        "full.yaml",
        "/robot1/bora_agent:\n  ros__parameters:\n    planner:\n      rate_hz: 20.0\n",
    );
    for (file, hz) in [(&plain, 25.0), (&full, 20.0)] {
        let (code, out, err) = run(bora()
            .args([
                "agent",
                "--check-params",
                "--ros-args",
                "-r",
                "__ns:=/robot1",
            ])
            .arg("--params-file")
            .arg(file));
        assert_eq!(code, Some(0), "{}: {err}", file.display());
        let values: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
        assert_eq!(values["planner.rate_hz"], hz, "{}: {out}", file.display());
    }
    // The same wildcard key is ignored under the namespace too: refused by name.
    let wildcard = write(
        dir.path(),
        "wildcard.yaml",
        "/**/bora_agent:\n  ros__parameters:\n    threads: 1\n",
    );
    refused(
        &["agent", "--check-params"],
        &[
            "-r",
            "__ns:=/robot1",
            "--params-file",
            wildcard.to_str().expect("utf-8"),
        ],
        &["/robot1/bora_agent"],
    );
}

#[test]
fn a_running_agent_warns_about_an_unknown_key_in_plain_text_when_logging_to_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(
        dir.path(),
        "two_keys.yaml",
        "bora_agent:\n  ros__parameters:\n    model: none\n/**/bora_agent:\n  ros__parameters:\n    threads: 1\n",
    );
    let log_path = dir.path().join("stderr.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut child = bora()
        .args(["agent", "--ros-args", "--params-file"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("bora agent starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut text = String::new();
    while Instant::now() < deadline && !text.contains("listening on voice_command") {
        std::thread::sleep(Duration::from_millis(100));
        text.clear();
        std::fs::File::open(&log_path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .expect("read log");
        if let Ok(Some(status)) = child.try_wait() {
            panic!("bora agent exited ({status}) before listening: {text}");
        }
    }
    // SAFETY: kill has no memory preconditions; the pid is our child, not yet waited for.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().expect("bora agent exits");
    let bytes = std::fs::read(&log_path).expect("read log");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("listening on voice_command"), "{text}");
    assert!(
        status.success(),
        "SIGTERM is a clean stop: {status}; {text}"
    );
    assert!(
        text.contains("`/**/bora_agent`") && text.contains(&*file.to_string_lossy()),
        "the warning names the key and the file: {text}"
    );
    assert!(
        !bytes.contains(&0x1b),
        "ANSI escape in a log written to a file: {text}"
    );
}

#[test]
fn thread_counts_beyond_the_bound_are_refused_before_anything_starts() {
    for cmd in [
        &["bench", "--threads", "100000"][..],
        &["generate", "--threads", "100000", "hi"],
        &["profile", "--threads", "1025"],
        &["profile", "--stress-cpu", "100000"],
    ] {
        let (code, _, err) = run(bora().args(cmd));
        assert_eq!(code, Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains("0 (one per logical CPU) to 1024"),
            "{cmd:?}: {err}"
        );
    }
    let (code, _, err) = run(bora().args(["intent", "--threads", "5000", "stop"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("`threads` = 5000"), "{err}");
}
