//! The agent node's ROS parameters: one table, [`AGENT_PARAMS`], that declares each
//! parameter once (name, type, unit, default, allowed range, meaning, and the field it
//! sets) and turns the values ROS hands over into a checked configuration. Defaults the
//! runtime also has (`Limits`, `PlannerConfig`, ...) are read from the runtime's
//! `Default`, so they cannot drift apart. ROS-free, so it is unit-tested without a ROS
//! installation; the node converts r2r's parameter values into [`ParamValue`].
//!
//! An unknown name, a wrong type or an out-of-range value is rejected at start with a
//! message naming the parameter and what it must be.

use std::time::Duration;

use bora_agent::intent::{MAX_PLAN_STEPS, MAX_SAY_CHARS};
use bora_agent::{Limits, PerceptionConfig, PlannerConfig};
use bora_models::registry::DEFAULT_MODEL;
use bora_pipeline::hearing::EndpointConfig;
use bora_pipeline::{AgentConfig, HearingConfig, MotionTrust};
use bora_rt::budget::{MissPolicy, TokenBudget};

use crate::audio::AudioSource;
use crate::param_table::{never_given, Param, ParamTable, Range};
pub use crate::param_table::{Kind, ParamError, ParamValue};

/// Longest duration any parameter accepts, s: an hour. A larger value is a typo, and a
/// huge one would not fit a `Duration` or would overflow the deadlines computed from it.
const MAX_DURATION_S: f64 = 3600.0;

/// Any positive finite number.
const POSITIVE: Range = Range::Positive(f64::INFINITY);
/// A positive duration in s, at most [`MAX_DURATION_S`].
const SECONDS: Range = Range::Positive(MAX_DURATION_S);
/// A token budget in ms: 0 = unchecked.
const BUDGET_MS: Range = Range::OffOr {
    off: 0.0,
    means: "unchecked",
    on: &Range::Positive(MAX_DURATION_S * 1000.0),
};
/// A CPU core index: -1 = any.
const CORE: Range = Range::OffOr {
    off: -1.0,
    means: "any core",
    on: &Range::Between(0.0, 1023.0),
};

/// A double default.
fn d(x: f64) -> ParamValue {
    ParamValue::Double(x)
}

/// An integer default (a count that does not fit saturates).
fn i(x: impl TryInto<i64>) -> ParamValue {
    ParamValue::Int(x.try_into().unwrap_or(i64::MAX))
}

/// A string default.
fn s(x: &str) -> ParamValue {
    ParamValue::Str(x.to_owned())
}

/// A token budget limit from a checked value in ms (0 = unchecked).
fn ms(v: &ParamValue) -> Option<Duration> {
    let ms = v.as_f64();
    (ms > 0.0).then(|| Duration::from_secs_f64(ms / 1000.0))
}

/// A duration from a checked value in s.
fn secs(v: &ParamValue) -> Duration {
    Duration::from_secs_f64(v.as_f64())
}

/// A core from a checked value (-1 = any).
fn core(v: &ParamValue) -> Option<usize> {
    usize::try_from(v.as_i64()).ok()
}

/// A core as a parameter value (None = -1).
fn core_value(c: Option<usize>) -> ParamValue {
    c.map_or(ParamValue::Int(-1), i)
}

/// The miss policy's name, as the runtime spells it (`fallback`, `stop`, `ignore`).
fn policy_name(p: MissPolicy) -> String {
    serde_json::to_value(p)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The miss policy named `name`, as the runtime spells it; None for another name.
fn parse_policy(name: &str) -> Option<MissPolicy> {
    serde_json::from_value(serde_json::json!(name)).ok()
}

/// Declares one agent parameter: name, kind, unit, default, range, doc, and the
/// statement that writes the checked value `v` into the configuration `p`.
macro_rules! p {
    ($name:literal, $kind:ident, $unit:literal, $default:expr, $range:expr, $doc:literal,
     |$p:ident, $v:ident| $apply:expr) => {
        Param {
            name: $name,
            kind: Kind::$kind,
            unit: $unit,
            default: || $default,
            range: $range,
            doc: $doc,
            apply: |$p: &mut AgentParams, $v: &ParamValue| $apply,
            given: never_given,
        }
    };
}

/// Which LoRA adapter the language model gets (`model.adapter`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterChoice {
    /// The adapter bora ships for the model file (none for a model without one).
    Auto,
    /// None: the model as its file has it.
    None,
    /// This adapter directory (PEFT layout, as `bora tune --out` writes it).
    Dir(std::path::PathBuf),
}

impl AdapterChoice {
    /// Reads a `model.adapter` value: "auto", "none" (or ""), else a directory.
    pub fn parse(value: &str) -> Self {
        match value.trim() {
            "auto" => Self::Auto,
            "" | "none" => Self::None,
            dir => Self::Dir(dir.into()),
        }
    }
}

/// Every parameter of `bora agent`.
pub static AGENT_PARAMS: ParamTable<AgentParams> = ParamTable {
    command: "agent",
    params: &[
        p!("model", String, "", s(DEFAULT_MODEL),
            Range::Text { rule: "a string: a model name, a GGUF path, or \"none\"", accepts: |_| true },
            "model name in the cache ($BORA_MODELS), or a GGUF path; \"none\" = fallback parser only",
            |p, v| p.model = Some(v.as_str()).filter(|m| !m.is_empty() && *m != "none").map(str::to_owned)),
        p!("model.adapter", String, "", s("auto"),
            Range::Text { rule: "\"auto\", \"none\", or a directory path", accepts: |_| true },
            "LoRA adapter to add to the model: \"auto\" = the one bora ships for the model file (models/adapters/, installed in $BORA_MODELS/adapters by scripts/setup.sh; none for a model without one), \"none\" = the model as its file has it, or a directory as `bora tune --out` writes it (PEFT layout)",
            |p, v| p.adapter = AdapterChoice::parse(v.as_str())),
        p!("model.draft", Bool, "", ParamValue::Bool(true), Range::Any,
            "check the parser's plan as a draft in one forward pass and skip the decode steps the model agrees with (greedy: the model's output is unchanged); false = decode every token",
            |p, v| p.draft = v.as_bool()),
        p!("model.draft_forced", Bool, "", ParamValue::Bool(false), Range::Any,
            "also draft the tokens the grammar forces (JSON punctuation, keys) and check them in one forward pass; off by default: on the CPU a checked row costs about a decode step, so it pays only where decode is launch-bound (GPU)",
            |p, v| p.forced_draft = v.as_bool()),
        p!("device", String, "", s("cpu"),
            Range::Text { rule: "\"cpu\" or \"cuda:N\"", accepts: |d| d == "cpu" || d.starts_with("cuda") },
            "where the model runs: cpu or cuda:N (needs a build with --features cuda)",
            |p, v| p.device = v.as_str().to_owned()),
        p!("threads", Int, "threads", i(0), Range::Between(0.0, 1024.0),
            "CPU threads for the model; 0 = one per logical CPU",
            |p, v| p.threads = v.as_usize()),
        p!("max_tokens", Int, "tokens", i(160), Range::Between(1.0, 4096.0),
            "most tokens the model may generate per command",
            |p, v| p.max_tokens = v.as_usize()),
        p!("prefill_chunk", Int, "tokens", i(32), Range::Between(1.0, 4096.0),
            "prompt tokens per forward pass; the budget is checked between chunks",
            |p, v| p.prefill_chunk = v.as_usize()),
        p!("context", Int, "tokens", i(1024), Range::Between(64.0, 131_072.0),
            "model context in tokens (KV cache size)",
            |p, v| p.context = v.as_usize()),
        p!("budget.first_token_ms", Double, "ms", d(2000.0), BUDGET_MS,
            "longest time to the first generated token, ms; 0 = unchecked",
            |p, v| p.budget.first_token = ms(v)),
        p!("budget.token_gap_ms", Double, "ms", d(500.0), BUDGET_MS,
            "longest gap between two generated tokens, ms; 0 = unchecked",
            |p, v| p.budget.token_gap = ms(v)),
        p!("budget.total_ms", Double, "ms", d(6000.0), BUDGET_MS,
            "longest total generation time, ms; 0 = unchecked",
            |p, v| p.budget.total = ms(v)),
        p!("budget.miss_policy", String, "", s(&policy_name(MissPolicy::default())),
            Range::Text { rule: "\"fallback\", \"stop\" or \"ignore\"", accepts: |s| parse_policy(s).is_some() },
            "on a budget miss: fallback (deterministic parser), stop, or ignore",
            |p, v| p.miss_policy = parse_policy(v.as_str()).unwrap_or_default()),
        p!("safety.model_motion_min_accuracy", Double, "", d(MotionTrust::default().min_model_accuracy),
            Range::Between(0.0, 1.0),
            "held-out intent accuracy (fraction 0..1) a model must declare before its own plan may move the robot on a command the parser did not understand; a model declaring none never may",
            |p, v| p.motion_trust.min_model_accuracy = v.as_f64()),
        p!("limits.max_distance_m", Double, "m", d(Limits::default().max_distance_m), POSITIVE,
            "largest |distance| of one move step, m",
            |p, v| p.agent.limits.max_distance_m = v.as_f64()),
        p!("limits.max_angle_deg", Double, "deg", d(Limits::default().max_angle_deg), POSITIVE,
            "largest |angle| of one turn step, degrees",
            |p, v| p.agent.limits.max_angle_deg = v.as_f64()),
        p!("limits.max_wait_s", Double, "s", d(Limits::default().max_wait_s), POSITIVE,
            "longest wait step, s",
            |p, v| p.agent.limits.max_wait_s = v.as_f64()),
        p!("limits.max_say_chars", Int, "characters", i(Limits::default().max_say_chars),
            Range::Between(1.0, MAX_SAY_CHARS as f64),
            "longest say text, characters (1..200)",
            |p, v| p.agent.limits.max_say_chars = v.as_usize()),
        p!("limits.max_steps", Int, "steps", i(Limits::default().max_steps),
            Range::Between(1.0, MAX_PLAN_STEPS as f64),
            "most steps in a plan (1..8)",
            |p, v| p.agent.limits.max_steps = v.as_usize()),
        // The pipeline ticks every 1 / rate_hz s: a tiny rate has no such period.
        p!("planner.rate_hz", Double, "Hz", d(PlannerConfig::default().rate_hz),
            Range::Between(0.1, 10_000.0),
            "planner loop rate, Hz",
            |p, v| p.agent.planner.rate_hz = v.as_f64()),
        p!("planner.max_linear_speed_mps", Double, "m/s", d(PlannerConfig::default().max_linear_speed_mps), POSITIVE,
            "largest |linear.x| ever commanded, m/s",
            |p, v| p.agent.planner.max_linear_speed_mps = v.as_f64()),
        p!("planner.max_angular_speed_radps", Double, "rad/s", d(PlannerConfig::default().max_angular_speed_radps), POSITIVE,
            "largest |angular.z| ever commanded, rad/s",
            |p, v| p.agent.planner.max_angular_speed_radps = v.as_f64()),
        p!("planner.max_linear_accel_mps2", Double, "m/s^2", d(PlannerConfig::default().max_linear_accel_mps2), POSITIVE,
            "largest change of linear.x per second, m/s^2",
            |p, v| p.agent.planner.max_linear_accel_mps2 = v.as_f64()),
        p!("planner.max_angular_accel_radps2", Double, "rad/s^2", d(PlannerConfig::default().max_angular_accel_radps2), POSITIVE,
            "largest change of angular.z per second, rad/s^2",
            |p, v| p.agent.planner.max_angular_accel_radps2 = v.as_f64()),
        p!("planner.stop_distance_m", Double, "m", d(PlannerConfig::default().stop_distance_m), POSITIVE,
            "forward motion halts when an obstacle ahead is closer than this, m (from the scanner)",
            |p, v| p.agent.planner.stop_distance_m = v.as_f64()),
        p!("planner.max_odom_age_s", Double, "s", d(PlannerConfig::default().max_odom_age_s), POSITIVE,
            "odometry older than this stops the robot (watchdog), s",
            |p, v| p.agent.planner.max_odom_age_s = v.as_f64()),
        p!("planner.scan_wait_s", Double, "s", d(PlannerConfig::default().scan_wait_s),
            Range::Between(0.0, MAX_DURATION_S),
            "a move with no fresh scan when it starts waits this long for one (event waiting_for_scan), then is refused; 0 refuses at once, s",
            |p, v| p.agent.planner.scan_wait_s = v.as_f64()),
        p!("perception.cone_half_angle_deg", Double, "deg",
            d(f64::from(PerceptionConfig::default().cone_half_angle_deg)), POSITIVE,
            "half-width of the obstacle cone ahead, degrees",
            |p, v| p.agent.perception.cone_half_angle_deg = v.as_f64() as f32),
        p!("stages.stall_after_s", Double, "s", d(AgentConfig::default().stage_stall_after.as_secs_f64()), SECONDS,
            "a stage silent this long stops the robot (watchdog), s",
            |p, v| p.agent.stage_stall_after = secs(v)),
        p!("stages.language_core", Int, "", core_value(AgentConfig::default().language_rt.core), CORE,
            "CPU core for the language stage; -1 = any",
            |p, v| p.agent.language_rt.core = core(v)),
        p!("stages.perception_core", Int, "", core_value(AgentConfig::default().perception_rt.core), CORE,
            "CPU core for the perception stage; -1 = any",
            |p, v| p.agent.perception_rt.core = core(v)),
        p!("stages.planning_core", Int, "", core_value(AgentConfig::default().planning_rt.core), CORE,
            "CPU core for the planning stage; -1 = any",
            |p, v| p.agent.planning_rt.core = core(v)),
        p!("stages.planning_fifo_priority", Int, "",
            i(AgentConfig::default().planning_rt.fifo_priority.unwrap_or(0)),
            Range::OffOr { off: 0.0, means: "normal scheduling", on: &Range::Between(1.0, 99.0) },
            "SCHED_FIFO priority of the planning stage, 1..99; 0 = normal scheduling",
            |p, v| p.agent.planning_rt.fifo_priority = i32::try_from(v.as_i64()).ok().filter(|&x| x > 0)),
        p!("audio.enable", Bool, "", ParamValue::Bool(false), Range::Any,
            "hear voice commands on the audio topic (Whisper on the CPU; loads audio.whisper_dir at start, or refuses to start)",
            |p, v| p.audio.enable = v.as_bool()),
        p!("audio.topic", String, "", s("audio"),
            Range::Text { rule: "a topic name, not empty", accepts: |t| !t.trim().is_empty() },
            "topic of std_msgs/Int16MultiArray mono S16 audio (relative: namespaces and remapping apply)",
            |p, v| p.audio.topic = v.as_str().to_owned()),
        p!("audio.source", String, "", s("topic"),
            Range::Text { rule: "\"topic\" or \"alsa:DEVICE\" (a device of `arecord -L`)", accepts: |t| t.parse::<AudioSource>().is_ok() },
            "where audio comes from: \"topic\" (audio.topic) or \"alsa:DEVICE\", a local microphone (e.g. alsa:default, alsa:plughw:1,0), captured at audio.sample_rate_hz or the device's nearest rate",
            |p, v| p.audio.source = v.as_str().parse().unwrap_or_default()),
        p!("audio.sample_rate_hz", Int, "Hz", i(EndpointConfig::default().sample_rate_hz),
            Range::Between(8000.0, 48_000.0),
            "sample rate of the audio topic, Hz (Whisper hears 16000; others are resampled)",
            |p, v| p.hearing.endpoint.sample_rate_hz = u32::try_from(v.as_i64()).unwrap_or(16_000)),
        p!("audio.whisper_dir", String, "", s(""),
            Range::Text { rule: "a directory path, or \"\" for the cache's whisper-tiny.en", accepts: |_| true },
            "CTranslate2 Whisper model directory (model.bin, config.json, tokenizer.json); \"\" = $BORA_MODELS/whisper-tiny.en, fetched by scripts/setup.sh",
            |p, v| p.audio.whisper_dir = Some(v.as_str()).filter(|d| !d.is_empty()).map(std::path::PathBuf::from)),
        p!("hearing.threshold_dbfs", Double, "dBFS", d(EndpointConfig::default().threshold_dbfs),
            Range::Between(-100.0, -1.0),
            "speech must be louder than this, dBFS (RMS over 20 ms), and 10 dB over the noise floor",
            |p, v| p.hearing.endpoint.threshold_dbfs = v.as_f64()),
        p!("hearing.hangover_s", Double, "s", d(EndpointConfig::default().hangover.as_secs_f64()),
            Range::Between(0.05, 5.0),
            "speech ends after this long without a loud frame, s",
            |p, v| p.hearing.endpoint.hangover = secs(v)),
        p!("hearing.min_utterance_s", Double, "s", d(EndpointConfig::default().min_utterance.as_secs_f64()),
            Range::Between(0.0, 5.0),
            "utterances with less loud time than this are dropped (clicks), s",
            |p, v| p.hearing.endpoint.min_utterance = secs(v)),
        p!("hearing.max_utterance_s", Double, "s", d(EndpointConfig::default().max_utterance.as_secs_f64()),
            Range::Between(0.5, 30.0),
            "speech is cut at this length and dropped with an utterance_too_long event, s (at most Whisper's 30 s)",
            |p, v| p.hearing.endpoint.max_utterance = secs(v)),
        p!("hearing.budget_ms", Double, "ms", d(HearingConfig::default().budget.map_or(0.0, |b| b.as_secs_f64() * 1e3)), BUDGET_MS,
            "longest recognition of one utterance, ms; a later transcript is dropped with a hearing_budget_missed event (no motion); 0 = unchecked",
            |p, v| p.hearing.budget = ms(v)),
        p!("diagnostics_period_s", Double, "s", d(1.0), SECONDS,
            "period of the diagnostics message, s",
            |p, v| p.diagnostics_period = secs(v)),
        p!("lifecycle.managed", Bool, "", ParamValue::Bool(false), Range::Any,
            "a ROS 2 managed node: start unconfigured, move the robot only while active (ros2 lifecycle set /bora_agent activate)",
            |p, v| p.managed = v.as_bool()),
        p!("enable_fault_injection", Bool, "", ParamValue::Bool(false), Range::Any,
            "accept fault injections on agent/inject_fault (tests only)",
            |p, v| p.fault_injection = v.as_bool()),
    ],
};

/// The agent node's configuration, from its parameters.
#[derive(Debug, Clone)]
pub struct AgentParams {
    /// The model name or path; None = fallback parser only.
    pub model: Option<String>,
    /// Which LoRA adapter is added to the model.
    pub adapter: AdapterChoice,
    /// Whether the parser's plan is verified as a draft (fewer decode steps, same output).
    pub draft: bool,
    /// Whether the grammar's forced tokens are verified as drafts too.
    pub forced_draft: bool,
    /// cpu or cuda:N.
    pub device: String,
    /// CPU threads for the model (0 = all).
    pub threads: usize,
    /// Most generated tokens per command.
    pub max_tokens: usize,
    /// Prompt tokens per prefill pass.
    pub prefill_chunk: usize,
    /// Model context, tokens.
    pub context: usize,
    /// The token budget.
    pub budget: TokenBudget,
    /// What to do on a budget miss.
    pub miss_policy: MissPolicy,
    /// When a model's own plan may move the robot.
    pub motion_trust: MotionTrust,
    /// The pipeline's configuration (limits, planner, perception, stages).
    pub agent: AgentConfig,
    /// Diagnostics period.
    pub diagnostics_period: Duration,
    /// Whether agent/inject_fault is honoured.
    pub fault_injection: bool,
    /// Whether the node is a ROS 2 managed (lifecycle) node.
    pub managed: bool,
    /// The audio topic and the recogniser.
    pub audio: AudioParams,
    /// The hearing stage (endpointer, recognition budget).
    pub hearing: HearingConfig,
}

/// The audio input of the agent node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AudioParams {
    /// Whether the node subscribes to audio and runs the hearing stage.
    pub enable: bool,
    /// The audio topic (std_msgs/Int16MultiArray).
    pub topic: String,
    /// Where audio comes from: the topic or a local ALSA microphone.
    pub source: crate::audio::AudioSource,
    /// The Whisper model directory; None = the cache's whisper-tiny.en.
    pub whisper_dir: Option<std::path::PathBuf>,
}

impl AgentParams {
    /// Builds the configuration from `(name, value)` pairs given on the command line or
    /// in a params file; names not given keep their defaults.
    pub fn from_values<'a>(
        values: impl IntoIterator<Item = (&'a str, &'a ParamValue)>,
    ) -> Result<Self, ParamError> {
        let mut p = Self::defaults();
        AGENT_PARAMS.apply_all(&mut p, values)?;
        p.agent = p.agent.clone().check().map_err(|e| ParamError {
            name: "(planner/limits)".into(),
            value: String::new(),
            reason: e.to_string(),
        })?;
        p.hearing = p.hearing.check().map_err(|e| ParamError {
            name: "(hearing)".into(),
            value: String::new(),
            reason: e.to_string(),
        })?;
        Ok(p)
    }

    /// The configuration with every declared default applied.
    fn defaults() -> Self {
        // Placeholders only: every field a parameter sets is overwritten by its default.
        let mut p = Self {
            model: None,
            adapter: AdapterChoice::Auto,
            draft: true,
            forced_draft: false,
            device: String::new(),
            threads: 0,
            max_tokens: 0,
            prefill_chunk: 0,
            context: 0,
            budget: TokenBudget::UNLIMITED,
            miss_policy: MissPolicy::default(),
            motion_trust: MotionTrust::default(),
            agent: AgentConfig::default(),
            diagnostics_period: Duration::ZERO,
            fault_injection: false,
            managed: false,
            audio: AudioParams::default(),
            hearing: HearingConfig::default(),
        };
        AGENT_PARAMS.apply_defaults(&mut p);
        p
    }

    /// The limits and perception settings in force.
    pub fn limits(&self) -> (&Limits, &PerceptionConfig) {
        (&self.agent.limits, &self.agent.perception)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, ParamValue)]) -> Result<AgentParams, ParamError> {
        AgentParams::from_values(pairs.iter().map(|(n, v)| (*n, v)))
    }

    #[test]
    fn defaults_are_valid_and_every_declared_name_is_handled() {
        assert!(parse(&[]).is_ok());
        for s in AGENT_PARAMS.params {
            let v = (s.default)();
            let one = parse(&[(s.name, v)])
                .unwrap_or_else(|e| panic!("default of {} rejected: {e}", s.name));
            // The declared default is the one in force when the parameter is not given.
            assert_eq!(
                format!("{one:?}"),
                format!("{:?}", parse(&[]).expect("defaults")),
                "declared default of {} differs",
                s.name
            );
        }
    }

    #[test]
    fn defaults_the_runtime_has_are_the_runtime_s() {
        let p = parse(&[]).expect("defaults");
        assert_eq!(p.agent, AgentConfig::default());
        assert_eq!(p.motion_trust, MotionTrust::default());
        assert_eq!(p.miss_policy, MissPolicy::default());
        assert_eq!(p.model.as_deref(), Some(DEFAULT_MODEL));
        assert_eq!(p.hearing, HearingConfig::default());
        assert!(!p.audio.enable && p.audio.topic == "audio" && p.audio.whisper_dir.is_none());
    }

    #[test]
    fn values_reach_the_configuration() {
        let p = parse(&[
            ("planner.max_linear_speed_mps", ParamValue::Double(0.3)),
            ("budget.first_token_ms", ParamValue::Int(250)),
            ("budget.total_ms", ParamValue::Double(0.0)),
            ("model", ParamValue::Str("none".into())),
            ("stages.planning_core", ParamValue::Int(1)),
            ("stages.planning_fifo_priority", ParamValue::Int(10)),
            ("budget.miss_policy", ParamValue::Str("stop".into())),
            ("perception.cone_half_angle_deg", ParamValue::Int(30)),
        ])
        .expect("valid");
        assert_eq!(p.agent.planner.max_linear_speed_mps, 0.3);
        assert_eq!(p.budget.first_token, Some(Duration::from_millis(250)));
        assert_eq!(p.budget.total, None);
        assert_eq!(p.model, None);
        assert_eq!(p.agent.planning_rt.core, Some(1));
        assert_eq!(p.agent.planning_rt.fifo_priority, Some(10));
        assert_eq!(p.miss_policy, MissPolicy::Stop);
        assert_eq!(p.agent.perception.cone_half_angle_deg, 30.0);
    }

    #[test]
    fn bad_values_are_rejected_naming_the_parameter() {
        for (name, v) in [
            ("planner.max_linear_speed_mps", ParamValue::Double(-1.0)),
            ("planner.max_linear_speed_mps", ParamValue::Double(f64::NAN)),
            ("budget.miss_policy", ParamValue::Str("panic".into())),
            ("limits.max_steps", ParamValue::Int(9)),
            ("threads", ParamValue::Str("four".into())),
            ("stages.planning_fifo_priority", ParamValue::Int(100)),
            ("no_such_param", ParamValue::Int(1)),
            // Found by fuzz/fuzz_targets/params.rs: durations too large for a `Duration`
            // (or for a deadline computed from it) panicked instead of being rejected.
            ("budget.first_token_ms", ParamValue::Double(1e300)),
            ("budget.total_ms", ParamValue::Double(3_600_001.0)),
            ("stages.stall_after_s", ParamValue::Double(1e300)),
            ("diagnostics_period_s", ParamValue::Int(i64::MAX)),
            ("planner.rate_hz", ParamValue::Double(1e-300)),
            ("safety.model_motion_min_accuracy", ParamValue::Double(1.5)),
            (
                "safety.model_motion_min_accuracy",
                ParamValue::Str("high".into()),
            ),
            ("audio.sample_rate_hz", ParamValue::Int(1000)),
            ("audio.topic", ParamValue::Str(" ".into())),
            ("hearing.max_utterance_s", ParamValue::Double(31.0)),
        ] {
            let e = parse(&[(name, v.clone())]).expect_err(name);
            assert_eq!(e.name, name, "{e}");
        }
    }
}
