//! Voice on the robot, end to end over real ROS 2: `bora sim` and `bora agent` (with
//! `audio.enable`, Whisper tiny.en on the CPU) as processes, an rclpy audio source playing
//! a committed espeak-ng clip on `audio` (std_msgs/Int16MultiArray) in real time, and the
//! rclpy robot peer watching events, plans, cmd_vel and odometry.
//!
//! One rig for every case (starting one costs seconds; CI has 2 cores): silence and hiss
//! give no event and no motion, speech past `hearing.max_utterance_s` is cut with an
//! event and moves nothing, "drive forward one meter" drives the robot one meter, and
//! `bora say --wav` speaks "turn around", which is heard and planned as a half turn.
//!
//! Needs the built binary, the venv and whisper-tiny.en (scripts/setup.sh).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use bora_tests::rig::{bora_bin, Rig};
use bora_tests::{isolate_ros, peer_script, python, repo_root, wait_with_timeout};
use serde_json::{json, Value};

/// A committed clip (models/tests/data/whisper).
fn clip(name: &str) -> String {
    repo_root()
        .join("models/tests/data/whisper")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// The rclpy audio source (tests/peers/audio_peer.py) in the rig's ROS domain.
struct AudioPeer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl AudioPeer {
    fn start(domain: u32) -> anyhow::Result<Self> {
        let mut child = Command::new(python()?)
            .arg(peer_script("audio_peer.py"))
            .env("ROS_DOMAIN_ID", domain.to_string())
            .env("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the rclpy audio peer")?;
        let stdin = child.stdin.take().context("audio peer stdin")?;
        let stdout = BufReader::new(child.stdout.take().context("audio peer stdout")?);
        let mut peer = Self {
            child,
            stdin,
            stdout,
        };
        let ready = peer.call(json!({"op": "ready", "timeout": 30}))?;
        ensure!(ready["ok"] == true, "the agent never subscribed to audio");
        Ok(peer)
    }

    fn call(&mut self, req: Value) -> anyhow::Result<Value> {
        writeln!(self.stdin, "{req}")?;
        self.stdin.flush()?;
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            bail!("the audio peer exited");
        }
        serde_json::from_str(&line).with_context(|| format!("audio peer reply: {line}"))
    }

    /// Plays `parts` in real time; returns the reply (t_start, t_end, t_wav_end).
    fn play(&mut self, parts: Value) -> anyhow::Result<Value> {
        self.call(json!({"op": "play", "parts": parts}))
    }
}

impl Drop for AudioPeer {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({"op": "quit"}));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first hearing event of kind `kind` after `since` (peer clock), within `timeout_s`.
fn hearing_event(rig: &mut Rig, kind: &str, since: f64, timeout_s: f64) -> anyhow::Result<Value> {
    let contains = format!("\"event\":\"{kind}\"");
    let r = rig.call(
        json!({"op": "wait_event", "contains": contains, "since": since, "timeout": timeout_s}),
    )?;
    if r["ok"] != true {
        return Ok(Value::Null);
    }
    let event = r["event"].as_str().context("event text")?;
    Ok(serde_json::from_str(event)?)
}

/// Whether any cmd_vel since `since` asked for motion.
fn moved_since(rig: &mut Rig, since: f64) -> anyhow::Result<bool> {
    let log = rig.cmd_vel_log(since)?;
    Ok(log.iter().any(|(_, v, w)| *v != 0.0 || *w != 0.0))
}

#[test]
fn spoken_audio_drives_the_robot_and_silence_noise_and_overlong_speech_do_not() -> anyhow::Result<()>
{
    let started = Instant::now();
    let mut rig = Rig::start(
        &[],
        &[
            "model:=none",
            "audio.enable:=true",
            // The command clip (1.4 s) fits; two clips back to back (4.3 s) do not.
            "hearing.max_utterance_s:=3.0",
        ],
    )?;
    let mut audio = AudioPeer::start(rig.domain)?;

    // Silence, then loud hiss (about -19 dBFS): nothing is heard, nothing moves.
    let played =
        audio.play(json!([{"silence": 1.0}, {"noise": 1.5, "amp": 0.35}, {"silence": 1.0}]))?;
    let t0 = played["t_start"].as_f64().context("t_start")?;
    for kind in ["heard", "nothing_heard", "utterance_too_long"] {
        let e = hearing_event(&mut rig, kind, t0, 0.5)?;
        ensure!(e.is_null(), "silence and noise gave {e}{}", rig.logs());
    }
    ensure!(
        !moved_since(&mut rig, t0)?,
        "the robot moved on silence and noise"
    );

    // Two commands spoken without a pause: cut at the limit, with an event; no motion.
    let played = audio.play(json!([
        {"silence": 0.5},
        {"wav": clip("forward_two_meters_turn_left.wav")},
        {"wav": clip("back_then_stop.wav")},
        {"silence": 1.0}
    ]))?;
    let t1 = played["t_start"].as_f64().context("t_start")?;
    let cut = hearing_event(&mut rig, "utterance_too_long", t1, 5.0)?;
    ensure!(!cut.is_null(), "no utterance_too_long event{}", rig.logs());
    assert_eq!(cut["limit_s"], 3.0, "{cut}");
    assert!(
        cut["reason"]
            .as_str()
            .is_some_and(|r| r.contains("hearing.max_utterance_s")),
        "{cut}"
    );
    // The skipped rest gives no command either (allow for a late recognition).
    let e = hearing_event(&mut rig, "heard", t1, 4.0)?;
    ensure!(e.is_null(), "an over-long utterance gave a command: {e}");
    ensure!(!moved_since(&mut rig, t0)?, "the robot moved on cut speech");

    // "Drive forward one meter": heard, planned by the same path as text, driven.
    let played = audio.play(
        json!([{"silence": 0.5}, {"wav": clip("forward_one_meter.wav")}, {"silence": 1.0}]),
    )?;
    let t2 = played["t_start"].as_f64().context("t_start")?;
    let speech_end = played["t_wav_end"][0].as_f64().context("t_wav_end")?;
    let heard = hearing_event(&mut rig, "heard", t2, 30.0)?;
    ensure!(
        !heard.is_null(),
        "the command clip was not heard{}",
        rig.logs()
    );
    let text = heard["text"].as_str().context("heard text")?.to_owned();
    assert_eq!(text, "Drive forward one meter.", "{heard}");
    let plan = rig.wait_plan_since(&text, t2, 10.0)?;
    assert_eq!(
        plan["plan"],
        json!([{"action": "move", "distance_m": 1.0}]),
        "{plan}"
    );
    rig.wait_event("plan_done", t2, 30.0)?;
    let first_motion = rig
        .cmd_vel_log(t2)?
        .into_iter()
        .find(|(_, v, _)| *v > 0.0)
        .map(|(t, _, _)| t)
        .context("no forward cmd_vel after the spoken command")?;
    let pose = rig.wait_still(0.5, 30.0)?;
    let (x, y) = (
        pose["x"].as_f64().unwrap_or(f64::NAN),
        pose["y"].as_f64().unwrap_or(f64::NAN),
    );
    assert!(
        ((x - 1.0).powi(2) + y.powi(2)).sqrt() < 0.05,
        "ended at ({x}, {y}), not within 5 cm of (1, 0)"
    );
    // `bora say --wav` (the demo's way to speak) plays a clip the same way.
    let out = Command::new(bora_bin()?)
        .args(["say", "--wait", "--timeout", "30", "--wav"])
        .arg(clip("turn_around.wav"))
        .env("ROS_DOMAIN_ID", rig.domain.to_string())
        .env("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let out = wait_with_timeout(out, Duration::from_secs(40))?;
    let said = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success(),
        "bora say --wav failed: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("heard:   Turn around."), "{said}");
    assert!(
        said.contains(r#"{"action":"turn","angle_deg":180.0}"#),
        "{said}"
    );
    println!(
        "heard {text:?}: recognition {:.0} ms, speech end -> transcript {:.0} ms (agent), clip end -> first cmd_vel {:.0} ms (peers); test {:.1} s",
        heard["recognition_ms"].as_f64().unwrap_or(f64::NAN),
        heard["speech_end_to_text_ms"].as_f64().unwrap_or(f64::NAN),
        (first_motion - speech_end) * 1e3,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[test]
fn audio_without_a_whisper_model_refuses_to_start_naming_the_file_and_setup() -> anyhow::Result<()>
{
    isolate_ros();
    let missing = std::env::temp_dir().join("bora-no-whisper-here");
    let child = Command::new(bora_bin()?)
        .args([
            "agent",
            "--ros-args",
            "-p",
            "model:=none",
            "-p",
            "audio.enable:=true",
        ])
        .arg("-p")
        .arg(format!("audio.whisper_dir:={}", missing.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let out = wait_with_timeout(child, Duration::from_secs(30))?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started without its ears: {err}");
    for needed in ["model.bin", "scripts/setup.sh", "audio.whisper_dir"] {
        assert!(
            err.contains(needed),
            "the error does not name {needed}: {err}"
        );
    }
    Ok(())
}
