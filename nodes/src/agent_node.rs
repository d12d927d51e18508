//! `bora agent`: the ROS 2 node that hosts the agent pipeline.
//!
//! This thread owns the r2r node: it spins it, moves incoming messages into the
//! runtime's queues (through [`AgentInput`]) and publishes what the stages produce
//! (through [`bora_pipeline::AgentOutputs`]). The stages never touch ROS.
//!
//! Topics (relative, so `--ros-args -r` remapping and namespaces apply):
//! in `voice_command` (std_msgs/String), `scan` (sensor_msgs/LaserScan, sensor-data
//! QoS), `odom` (nav_msgs/Odometry); out `cmd_vel` (geometry_msgs/Twist), `agent/plan`,
//! `agent/text`, `agent/say`, `agent/events` (std_msgs/String), `diagnostics`
//! (diagnostic_msgs/DiagnosticArray). With `audio.enable`, also in `audio`
//! (std_msgs/Int16MultiArray, mono S16 at `audio.sample_rate_hz`; why this message:
//! [`crate::ros::audio`]): the hearing stage endpoints it, Whisper transcribes each
//! utterance under `hearing.budget_ms`, and the transcript takes the voice_command path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bora_agent::{LaserScan, Odometry};
use bora_pipeline::{Agent, AgentInput, AgentOutput, AgentReport, Interpreter, PlanModel};
use bora_rt::clock::{Clock, SystemClock};
use r2r::diagnostic_msgs::msg::{DiagnosticArray, DiagnosticStatus, KeyValue};
use r2r::geometry_msgs::msg::Twist;
use r2r::std_msgs::msg::Int16MultiArray;
use r2r::{std_msgs, QosProfile};

use crate::audio::{AudioSource, Mic, MicFeed};
use crate::hearing::WhisperTranscriber;
use crate::params::{AgentParams, AGENT_PARAMS};
use crate::params_files::ParamsFile;
use crate::ros::convert::{quaternion_to_yaw, twist_from};
use crate::ros::lifecycle::{LifecycleServer, Primary};
use crate::ros::{audio as ros_audio, cdr, drain, given_params, params_file};
use crate::signals;

/// The node's name (parameters in a params file go under it, or under `/**`).
pub const NODE_NAME: &str = crate::ros::AGENT_NODE_NAME;

/// Builds the language model for the agent, or says why it cannot (the node then runs
/// degraded: fallback parser only).
pub type ModelLoader = dyn Fn(&AgentParams) -> anyhow::Result<Box<dyn PlanModel>>;

/// Reports the params files' keys that match no name of this node (a warning; an error
/// when `strict`, for `--check-params`) and refuses parameters the agent does not declare,
/// naming the file and key.
fn check_files(node: &r2r::Node, files: &[ParamsFile], strict: bool) -> anyhow::Result<()> {
    let declared = AGENT_PARAMS.names();
    let policy = params_file::Policy {
        other_nodes: &[crate::ros::SIM_NODE_NAME],
        node_cmd: "agent",
        unknown_key_is_error: strict,
        undeclared_is_error: true,
    };
    params_file::report(node, files, &declared, policy)?;
    Ok(())
}

/// Reads and checks the node's parameters (from `--ros-args -p` and `--params-file`).
pub fn read_params(node: &r2r::Node) -> anyhow::Result<AgentParams> {
    let given = given_params(node)?;
    AgentParams::from_values(given.iter().map(|(n, v)| (n.as_str(), v)))
        .context("invalid parameter for bora agent")
}

/// For `bora agent --check-params`: creates the node only to read its parameters,
/// checks them as a start would, and returns every declared parameter's value in force
/// (the given one, else the default) as a JSON object keyed by the dotted name.
pub fn check_params() -> anyhow::Result<serde_json::Value> {
    let files = params_file::preflight()?;
    let ctx = r2r::Context::create().context("cannot initialise ROS 2 (rcl)")?;
    let node = r2r::Node::create(ctx, NODE_NAME, "").context("cannot create the ROS 2 node")?;
    check_files(&node, &files, true)?;
    let given = given_params(&node)?;
    AgentParams::from_values(given.iter().map(|(n, v)| (n.as_str(), v)))
        .context("invalid parameter for bora agent")?;
    let mut values = AGENT_PARAMS.defaults_json();
    for (name, v) in given {
        values.insert(name, v.to_json());
    }
    Ok(serde_json::Value::Object(values))
}

/// Runs the agent node until SIGINT/SIGTERM. `load_model` builds the language model; if
/// it fails the node starts degraded (fallback parser only) and says so on diagnostics.
pub fn run(load_model: &ModelLoader) -> anyhow::Result<()> {
    signals::install().context("cannot install the SIGINT/SIGTERM handler")?;
    let files = params_file::preflight()?;
    let ctx = r2r::Context::create().context("cannot initialise ROS 2 (rcl)")?;
    let mut node = r2r::Node::create(ctx, NODE_NAME, "").context("cannot create the ROS 2 node")?;
    check_files(&node, &files, false)?;
    let params = read_params(&node)?;

    let load_start = Instant::now();
    let (model, model_error) = match &params.model {
        None => (None, Some("model parameter is \"none\"".to_owned())),
        Some(_) => match load_model(&params) {
            Ok(m) => (Some(m), None),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "language model unavailable: running degraded (fallback parser only)");
                eprintln!("bora agent: language model unavailable ({e:#}); running degraded: fallback parser only");
                (None, Some(format!("{e:#}")))
            }
        },
    };
    // Audio asked for but no ears: refuse to start, naming the file (not a silent robot).
    let transcriber = params
        .audio
        .enable
        .then(|| WhisperTranscriber::load(params.audio.whisper_dir.as_deref()))
        .transpose()
        .context("audio.enable is true but the speech recogniser cannot be loaded")?;
    // audio.source alsa:DEVICE: the microphone opens now (a wrong name refuses to start),
    // and the endpointer runs at the rate the device gives.
    let mut hearing_config = params.hearing;
    let mic = match (&params.audio.source, &transcriber) {
        (AudioSource::Alsa(device), Some(_)) => {
            let mic = Mic::open(device, hearing_config.endpoint.sample_rate_hz)
                .context("audio.source names a microphone that cannot be opened")?;
            hearing_config.endpoint.sample_rate_hz = mic.rate_hz();
            Some(mic)
        }
        _ => None,
    };
    let interpreter = Interpreter::new(model, params.agent.limits.clone(), params.miss_policy)
        .with_motion_trust(params.motion_trust);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let (mut agent, mut input, outputs) =
        Agent::start(params.agent.clone(), interpreter, Arc::clone(&clock))
            .context("cannot start the agent pipeline")?;
    let hearing = match transcriber {
        Some(t) => Some(
            agent
                .hear(&input, Box::new(t), hearing_config)
                .context("cannot start the hearing stage")?,
        ),
        None => None,
    };

    // Raw: r2r would turn bytes that are not UTF-8 into "" and cut at a NUL (ros/cdr.rs).
    let mut voice = node.subscribe_raw(
        "voice_command",
        "std_msgs/msg/String",
        QosProfile::default(),
    )?;
    let (hearing, mic_feed) = match (hearing, mic) {
        (Some(input), Some(mic)) => (None, Some(MicFeed::start(mic, input)?)),
        (hearing, _) => (hearing, None),
    };
    let mut audio = match hearing {
        Some(input) => {
            // Deep enough to hold the audio that arrives while a frame of the node is slow.
            let qos = QosProfile::default().keep_last(100);
            let sub = node.subscribe::<Int16MultiArray>(&params.audio.topic, qos)?;
            Some((sub, input))
        }
        None => None,
    };
    let mut odom = node.subscribe::<r2r::nav_msgs::msg::Odometry>("odom", QosProfile::default())?;
    let mut scan =
        node.subscribe::<r2r::sensor_msgs::msg::LaserScan>("scan", QosProfile::sensor_data())?;
    let mut fault =
        node.subscribe::<std_msgs::msg::String>("agent/inject_fault", QosProfile::default())?;
    let cmd_vel = node.create_publisher::<Twist>("cmd_vel", QosProfile::default())?;
    let plan_pub =
        node.create_publisher::<std_msgs::msg::String>("agent/plan", QosProfile::default())?;
    let text_pub =
        node.create_publisher::<std_msgs::msg::String>("agent/text", QosProfile::default())?;
    let say_pub =
        node.create_publisher::<std_msgs::msg::String>("agent/say", QosProfile::default())?;
    let event_pub =
        node.create_publisher::<std_msgs::msg::String>("agent/events", QosProfile::default())?;
    let diag_pub =
        node.create_publisher::<DiagnosticArray>("diagnostics", QosProfile::default())?;
    let mut ros_clock = r2r::Clock::create(r2r::ClockType::SystemTime)?;
    let mut lifecycle = if params.managed {
        Some(LifecycleServer::serve(&mut node).context("cannot serve the lifecycle services")?)
    } else {
        None
    };

    let rate = hearing_config.endpoint.sample_rate_hz;
    let ears = match (&audio, &params.audio.source) {
        (Some(_), _) => format!(" and {} (audio)", params.audio.topic),
        (None, AudioSource::Alsa(d)) if mic_feed.is_some() => {
            format!(" and ALSA microphone '{d}' at {rate} Hz")
        }
        _ => String::new(),
    };
    eprintln!(
        "bora agent: model {} ({} s to load), planner {} Hz, limits {:.2} m/s {:.2} rad/s; listening on voice_command{}",
        agent.report().model,
        (load_start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
        params.agent.planner.rate_hz,
        params.agent.planner.max_linear_speed_mps,
        params.agent.planner.max_angular_speed_radps,
        ears
    );
    for (stage, rt) in agent.rt_reports() {
        tracing::info!(stage = stage.as_str(), rt = ?rt, "stage real-time setup");
    }

    let mut next_diag = Instant::now();
    while !signals::stop_requested() {
        node.spin_once(Duration::from_millis(2));
        if let Some(lc) = lifecycle.as_mut() {
            let now_ns = u64::try_from(load_start.elapsed().as_nanos()).unwrap_or(u64::MAX);
            for (from, to) in lc.poll(now_ns) {
                on_transition(&mut input, &cmd_vel, from, to);
            }
            if lc.state() == Primary::Finalized {
                break;
            }
        }
        let inactive = lifecycle
            .as_ref()
            .map(|lc| lc.state())
            .filter(|s| *s != Primary::Active);
        drain(&mut voice, |raw| match inactive {
            Some(state) => refuse_inactive(&mut input, &raw, state),
            None => on_voice(&mut input, &raw),
        });
        if let Some(feed) = &mic_feed {
            feed.set_listening(inactive.is_none());
        }
        if let Some((sub, hearing)) = audio.as_mut() {
            // Audio while not active is not listened to (as a voice command is refused).
            drain(sub, |m| {
                if inactive.is_none() {
                    ros_audio::feed(hearing, &m, &params.audio.topic);
                }
            });
        }
        drain(&mut odom, |m| input.odom(odometry(&m, input.now())));
        drain(&mut scan, |m| input.scan(laser_scan(m, input.now())));
        drain(&mut fault, |m| {
            on_fault(&mut input, &m.data, params.fault_injection)
        });
        while let Some(out) = outputs.pop() {
            let r = match out {
                AgentOutput::CmdVel(t) => cmd_vel.publish(&twist_from(t.linear_x, t.angular_z)),
                AgentOutput::Plan(json) => {
                    tracing::info!(plan = json.as_str(), "plan");
                    plan_pub.publish(&text_msg(json))
                }
                AgentOutput::Text(t) => text_pub.publish(&text_msg(t)),
                AgentOutput::Say(t) => say_pub.publish(&text_msg(t)),
                AgentOutput::Event(_) | AgentOutput::PlanEvent { .. } => {
                    let e = out.event_json().unwrap_or_default();
                    tracing::info!(event = e.as_str(), "planner");
                    event_pub.publish(&text_msg(e))
                }
            };
            if let Err(e) = r {
                tracing::warn!(error = %e, "publish failed");
            }
        }
        if Instant::now() >= next_diag {
            next_diag += params.diagnostics_period;
            let report = agent.report();
            let stamp = r2r::Clock::to_builtin_time(&ros_clock.get_now()?);
            let msg = diagnostics(&report, model_error.as_deref(), stamp);
            if let Err(e) = diag_pub.publish(&msg) {
                tracing::warn!(error = %e, "diagnostics publish failed");
            }
        }
    }
    // Leave the robot standing: a zero velocity before anything else shuts down.
    let zero = twist_from(0.0, 0.0);
    for _ in 0..3 {
        let _ = cmd_vel.publish(&zero);
        node.spin_once(Duration::from_millis(5));
    }
    eprintln!("bora agent: stopping (zero velocity published)");
    if let Some(Err(e)) = mic_feed.map(MicFeed::stop) {
        eprintln!("bora agent: the microphone had stopped: {e}");
    }
    agent
        .stop(Duration::from_secs(3))
        .context("a stage did not stop")?;
    Ok(())
}

/// Leaving `active` stops the robot (a reflex stop, reported on agent/plan, and a zero
/// velocity now); entering it says so.
fn on_transition(
    input: &mut AgentInput,
    cmd_vel: &r2r::Publisher<Twist>,
    from: Primary,
    to: Primary,
) {
    if from == Primary::Active {
        let _ = input.command("stop");
        let _ = cmd_vel.publish(&twist_from(0.0, 0.0));
    }
    eprintln!("bora agent: lifecycle {} -> {}", from.label(), to.label());
}

/// A command while the managed node is not active: refused, with the way out.
fn refuse_inactive(input: &mut AgentInput, raw: &[u8], state: Primary) {
    let shown = voice_text(raw).unwrap_or_else(|(shown, _)| shown);
    let reason = format!(
        "bora_agent is {} (ROS 2 lifecycle): no command runs until it is activated, e.g. `ros2 lifecycle set /bora_agent activate`",
        state.label()
    );
    tracing::warn!(
        command = shown.as_str(),
        state = state.label(),
        "voice command refused: node not active"
    );
    input.reject(&shown, &reason);
}

fn on_voice(input: &mut AgentInput, raw: &[u8]) {
    match voice_text(raw) {
        Ok(text) => {
            let outcome = input.command(&text);
            tracing::info!(command = text.as_str(), outcome = ?outcome, "voice command");
        }
        Err((shown, reason)) => {
            tracing::warn!(
                command = shown.as_str(),
                reason = reason.as_str(),
                "voice command rejected"
            );
            input.reject(&shown, &reason);
        }
    }
}

/// The text of a serialized voice command, or what can be shown of it and why it is
/// refused: it must be UTF-8 without NUL (a NUL cannot come from a ROS client's string
/// API, so it marks a crafted or corrupted message).
fn voice_text(raw: &[u8]) -> Result<String, (String, String)> {
    let bytes = cdr::string_bytes(raw).map_err(|e| {
        (
            String::new(),
            format!("voice_command message unreadable as std_msgs/String: {e}"),
        )
    })?;
    match std::str::from_utf8(bytes) {
        Err(e) => Err((
            String::from_utf8_lossy(bytes).into_owned(),
            format!(
                "command is not valid UTF-8 (bad byte at offset {}): send UTF-8 text",
                e.valid_up_to()
            ),
        )),
        Ok(t) if t.contains('\0') => Err((
            t.to_owned(),
            "command contains a NUL character: send plain text".to_owned(),
        )),
        Ok(t) => Ok(t.to_owned()),
    }
}

/// A std_msgs/String for `text`. r2r's String cannot hold a NUL (its conversion would
/// panic), and model text or a say step may carry one: it becomes U+FFFD.
fn text_msg(text: String) -> std_msgs::msg::String {
    let data = if text.contains('\0') {
        text.replace('\0', "\u{fffd}")
    } else {
        text
    };
    std_msgs::msg::String { data }
}

fn on_fault(input: &mut AgentInput, text: &str, enabled: bool) {
    if !enabled {
        tracing::warn!(
            fault = text,
            "fault injection ignored: parameter enable_fault_injection is false"
        );
        return;
    }
    // "stall_language SECONDS"
    let mut words = text.split_whitespace();
    match (
        words.next(),
        words.next().and_then(|s| s.parse::<f64>().ok()),
    ) {
        (Some("stall_language"), Some(s)) if s.is_finite() && s > 0.0 => {
            input.inject_language_stall(Duration::from_secs_f64(s.min(3600.0)))
        }
        _ => tracing::warn!(
            fault = text,
            "unknown fault (known: `stall_language SECONDS`)"
        ),
    }
}

fn odometry(m: &r2r::nav_msgs::msg::Odometry, now: Duration) -> Odometry {
    let p = &m.pose.pose;
    Odometry {
        x: p.position.x,
        y: p.position.y,
        yaw: quaternion_to_yaw(&p.orientation),
        linear_x: m.twist.twist.linear.x,
        angular_z: m.twist.twist.angular.z,
        stamp: now,
    }
}

fn laser_scan(m: r2r::sensor_msgs::msg::LaserScan, now: Duration) -> LaserScan {
    LaserScan {
        angle_min: m.angle_min,
        angle_increment: m.angle_increment,
        range_min: m.range_min,
        range_max: m.range_max,
        ranges: m.ranges,
        stamp: now,
    }
}

fn kv(key: &str, value: impl ToString) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: value.to_string(),
    }
}

/// The diagnostics message: one status for the model, one for latency, one for queues.
fn diagnostics(
    report: &AgentReport,
    model_error: Option<&str>,
    stamp: r2r::builtin_interfaces::msg::Time,
) -> DiagnosticArray {
    const OK: u8 = 0;
    const WARN: u8 = 1;
    let degraded = !report.degraded.is_empty();
    let mut model_values = vec![kv("model", &report.model)];
    if let Some(e) = model_error {
        model_values.push(kv("model_error", e));
    }
    for d in &report.degraded {
        model_values.push(kv("degraded", d));
    }
    for c in &report.metrics.counters {
        model_values.push(kv(&c.name, c.value));
    }
    let latency_values = report
        .metrics
        .latencies
        .iter()
        .flat_map(|l| {
            let name = format!("{:?}/{}", l.quantity, l.label).to_lowercase();
            [
                kv(&format!("{name}/count"), l.count),
                kv(&format!("{name}/p50_us"), l.p50_us),
                kv(&format!("{name}/p99_us"), l.p99_us),
                kv(&format!("{name}/max_us"), l.max_us),
            ]
        })
        .collect();
    let queue_values = report
        .metrics
        .queues
        .iter()
        .map(|q| kv(&q.name, serde_json::to_string(q).unwrap_or_default()))
        .collect();
    let status = |name: &str, level: u8, message: &str, values: Vec<KeyValue>| DiagnosticStatus {
        level,
        name: format!("bora/{name}"),
        message: message.to_owned(),
        hardware_id: "bora".into(),
        values,
    };
    DiagnosticArray {
        header: r2r::std_msgs::msg::Header {
            stamp,
            frame_id: String::new(),
        },
        status: vec![
            status(
                "language",
                if degraded { WARN } else { OK },
                if degraded {
                    "degraded: fallback parser only"
                } else {
                    "ok"
                },
                model_values,
            ),
            status(
                "latency",
                OK,
                "latency percentiles (microseconds)",
                latency_values,
            ),
            status("queues", OK, "queue counters", queue_values),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cdr_le(text: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 1, 0, 0];
        v.extend(u32::try_from(text.len() + 1).unwrap_or(0).to_le_bytes());
        v.extend(text);
        v.push(0);
        v
    }

    #[test]
    fn voice_commands_must_be_utf8_without_nul() {
        assert_eq!(
            voice_text(&cdr_le(b"turn left")),
            Ok("turn left".to_owned())
        );
        assert_eq!(
            voice_text(&cdr_le("\u{1b}[2J\r".as_bytes())),
            Ok("\u{1b}[2J\r".to_owned())
        );
        let (shown, why) = voice_text(&cdr_le(b"go \xff 1 m")).unwrap_err();
        assert_eq!(shown, "go \u{fffd} 1 m");
        assert!(why.contains("UTF-8") && why.contains("offset 3"), "{why}");
        let (shown, why) = voice_text(&cdr_le(b"stop\0go")).unwrap_err();
        assert_eq!(shown, "stop\u{0}go");
        assert!(why.contains("NUL"), "{why}");
        let (_, why) = voice_text(&[0, 1]).unwrap_err();
        assert!(why.contains("unreadable"), "{why}");
    }

    #[test]
    fn published_text_never_carries_a_nul() {
        assert_eq!(text_msg("a\0b".into()).data, "a\u{fffd}b");
        assert_eq!(text_msg("plain".into()).data, "plain");
    }
}
