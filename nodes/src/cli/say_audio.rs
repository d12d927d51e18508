//! `bora say --wav FILE`: plays a WAV file on the agent's `audio` topic in real time, as a
//! microphone node would (std_msgs/Int16MultiArray, mono S16, 16 kHz, 100 ms a message),
//! and with `--wait` prints what the agent heard and the plan it made of it.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bora_models::whisper::read_wav_16k;
use bora_nodes::ros::{drain, r2r};
use r2r::std_msgs::msg::{Int16MultiArray, String as RosString};
use serde_json::Value;

/// Samples per message (100 ms at 16 kHz).
const CHUNK: usize = 1600;
/// Silence played after the clip, s: longer than the hang-over, so the utterance ends.
const TAIL_S: f64 = 1.0;

/// Plays `wav` on `audio`; with `wait`, waits up to `timeout` for the hearing event and
/// the plan, printing them (`json`: the raw JSON lines).
pub fn run(wav: &Path, wait: bool, json: bool, timeout: Duration) -> anyhow::Result<()> {
    let mut pcm = read_wav_16k(wav)?;
    pcm.extend(std::iter::repeat_n(0.0, (TAIL_S * 16_000.0) as usize));
    let ctx = r2r::Context::create().context("cannot initialise ROS 2 (rcl)")?;
    let mut node = r2r::Node::create(ctx, "bora_say", "")?;
    let qos = r2r::QosProfile::default().keep_last(100);
    let audio = node.create_publisher::<Int16MultiArray>("audio", qos)?;
    let mut events = node.subscribe::<RosString>("agent/events", r2r::QosProfile::default())?;
    let mut plans = node.subscribe::<RosString>("agent/plan", r2r::QosProfile::default())?;
    let deadline = Instant::now() + timeout;
    while audio.get_inter_process_subscription_count()? == 0 {
        if Instant::now() > deadline {
            bail!("nobody subscribes to audio: is `bora agent` running with -p audio.enable:=true and the same ROS_DOMAIN_ID?");
        }
        node.spin_once(Duration::from_millis(20));
    }
    let start = Instant::now();
    for (i, chunk) in pcm.chunks(CHUNK).enumerate() {
        // Real time: each message leaves when its last sample would have been spoken.
        let due = start + Duration::from_secs_f64(((i + 1) * CHUNK) as f64 / 16_000.0);
        while Instant::now() < due {
            node.spin_once(Duration::from_millis(5));
        }
        let data = chunk
            .iter()
            .map(|&s| (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)
            .collect();
        audio.publish(&Int16MultiArray {
            data,
            ..Default::default()
        })?;
    }
    if !wait {
        node.spin_once(Duration::from_millis(50));
        return Ok(());
    }
    let mut heard: Option<String> = None;
    while Instant::now() < deadline {
        node.spin_once(Duration::from_millis(20));
        let mut done = false;
        drain(&mut events, |m| {
            let Ok(e) = serde_json::from_str::<Value>(&m.data) else {
                return;
            };
            if heard.is_none() && is_hearing(&e) {
                print_event(&e, &m.data, json);
                match e["event"].as_str() {
                    Some("heard") => heard = e["text"].as_str().map(str::to_owned),
                    _ => done = true,
                }
            }
        });
        if done {
            return Ok(());
        }
        let Some(text) = heard.as_deref() else {
            continue;
        };
        let mut messages = Vec::new();
        drain(&mut plans, |m| messages.push(m.data));
        if let Some((report, raw)) = super::plan_line::report_for(messages, text) {
            super::plan_line::print_report(&report, &raw, json);
            return Ok(());
        }
    }
    bail!(
        "no hearing event and plan for {} within {:.0} s",
        wav.display(),
        timeout.as_secs_f64()
    )
}

/// Whether `e` is an event of the hearing stage.
fn is_hearing(e: &Value) -> bool {
    matches!(
        e["event"].as_str(),
        Some(
            "heard"
                | "nothing_heard"
                | "utterance_too_long"
                | "hearing_budget_missed"
                | "audio_rejected"
        )
    )
}

fn print_event(e: &Value, raw: &str, json: bool) {
    if json {
        println!("{raw}");
        return;
    }
    let ms = |k: &str| {
        e[k].as_f64()
            .map_or("-".to_owned(), |v| format!("{v:.0} ms"))
    };
    match e["event"].as_str() {
        Some("heard") => println!(
            "heard:   {}  [recognition {}, speech end -> transcript {}]",
            e["text"].as_str().unwrap_or_default(),
            ms("recognition_ms"),
            ms("speech_end_to_text_ms")
        ),
        Some(kind) => println!("{kind}: {e}  (no command, no motion)"),
        None => {}
    }
}
