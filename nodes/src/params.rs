//! The agent node's ROS parameters: one table that declares each parameter (name, type,
//! default, unit, meaning) and turns the values ROS hands over into a checked
//! configuration. ROS-free, so it is unit-tested without a ROS installation; the node
//! converts r2r's parameter values into [`ParamValue`].
//!
//! An unknown name, a wrong type or an out-of-range value is rejected at start with a
//! message naming the parameter and what it must be.

use std::time::Duration;

use bora_agent::{Limits, PerceptionConfig, PlannerConfig};
use bora_pipeline::{AgentConfig, MotionTrust, StageRt};
use bora_rt::budget::{MissPolicy, TokenBudget};
use serde::Serialize;

/// A parameter value as ROS delivers it.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// bool
    Bool(bool),
    /// integer
    Int(i64),
    /// double
    Double(f64),
    /// string
    Str(String),
    /// anything else (arrays, byte arrays)
    Other(String),
}

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// true/false
    Bool,
    /// whole number
    Int,
    /// floating point
    Double,
    /// text
    String,
}

/// One declared parameter.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ParamSpec {
    /// Full name (dots separate the YAML nesting levels).
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Its default, as written in a params file.
    pub default: &'static str,
    /// What it is for, with its unit.
    pub doc: &'static str,
}

macro_rules! p {
    ($name:literal, $kind:ident, $default:literal, $doc:literal) => {
        ParamSpec {
            name: $name,
            kind: Kind::$kind,
            default: $default,
            doc: $doc,
        }
    };
}

/// Every parameter of `bora agent`.
pub const AGENT_PARAMS: &[ParamSpec] = &[
    p!(
        "model",
        String,
        "smollm2-135m-instruct",
        "model name in the cache ($BORA_MODELS), or a GGUF path; \"none\" = fallback parser only"
    ),
    p!(
        "device",
        String,
        "cpu",
        "where the model runs: cpu or cuda:N (needs a build with --features cuda)"
    ),
    p!(
        "threads",
        Int,
        "0",
        "CPU threads for the model; 0 = one per logical CPU"
    ),
    p!(
        "max_tokens",
        Int,
        "64",
        "most tokens the model may generate per command"
    ),
    p!(
        "prefill_chunk",
        Int,
        "32",
        "prompt tokens per forward pass; the budget is checked between chunks"
    ),
    p!(
        "context",
        Int,
        "1024",
        "model context in tokens (KV cache size)"
    ),
    p!(
        "budget.first_token_ms",
        Double,
        "2000.0",
        "longest time to the first generated token, ms; 0 = unchecked"
    ),
    p!(
        "budget.token_gap_ms",
        Double,
        "500.0",
        "longest gap between two generated tokens, ms; 0 = unchecked"
    ),
    p!(
        "budget.total_ms",
        Double,
        "6000.0",
        "longest total generation time, ms; 0 = unchecked"
    ),
    p!(
        "budget.miss_policy",
        String,
        "fallback",
        "on a budget miss: fallback (deterministic parser), stop, or ignore"
    ),
    p!(
        "safety.model_motion_min_accuracy",
        Double,
        "0.95",
        "held-out intent accuracy (fraction 0..1) a model must declare before its own plan may move the robot on a command the parser did not understand; a model declaring none never may"
    ),
    p!(
        "limits.max_distance_m",
        Double,
        "5.0",
        "largest |distance| of one move step, m"
    ),
    p!(
        "limits.max_angle_deg",
        Double,
        "360.0",
        "largest |angle| of one turn step, degrees"
    ),
    p!("limits.max_wait_s", Double, "30.0", "longest wait step, s"),
    p!(
        "limits.max_say_chars",
        Int,
        "200",
        "longest say text, characters"
    ),
    p!("limits.max_steps", Int, "8", "most steps in a plan (1..8)"),
    p!("planner.rate_hz", Double, "50.0", "planner loop rate, Hz"),
    p!(
        "planner.max_linear_speed_mps",
        Double,
        "0.5",
        "largest |linear.x| ever commanded, m/s"
    ),
    p!(
        "planner.max_angular_speed_radps",
        Double,
        "1.0",
        "largest |angular.z| ever commanded, rad/s"
    ),
    p!(
        "planner.max_linear_accel_mps2",
        Double,
        "0.5",
        "largest change of linear.x per second, m/s^2"
    ),
    p!(
        "planner.max_angular_accel_radps2",
        Double,
        "2.0",
        "largest change of angular.z per second, rad/s^2"
    ),
    p!(
        "planner.stop_distance_m",
        Double,
        "0.3",
        "forward motion halts when an obstacle ahead is closer than this, m (from the scanner)"
    ),
    p!(
        "planner.max_odom_age_s",
        Double,
        "0.2",
        "odometry older than this stops the robot (watchdog), s"
    ),
    p!(
        "perception.cone_half_angle_deg",
        Double,
        "20.0",
        "half-width of the obstacle cone ahead, degrees"
    ),
    p!(
        "stages.stall_after_s",
        Double,
        "2.0",
        "a stage silent this long stops the robot (watchdog), s"
    ),
    p!(
        "stages.language_core",
        Int,
        "-1",
        "CPU core for the language stage; -1 = any"
    ),
    p!(
        "stages.perception_core",
        Int,
        "-1",
        "CPU core for the perception stage; -1 = any"
    ),
    p!(
        "stages.planning_core",
        Int,
        "-1",
        "CPU core for the planning stage; -1 = any"
    ),
    p!(
        "stages.planning_fifo_priority",
        Int,
        "0",
        "SCHED_FIFO priority of the planning stage, 1..99; 0 = normal scheduling"
    ),
    p!(
        "diagnostics_period_s",
        Double,
        "1.0",
        "period of the diagnostics message, s"
    ),
    p!(
        "enable_fault_injection",
        Bool,
        "false",
        "accept fault injections on agent/inject_fault (tests only)"
    ),
];

/// A parameter that is unknown, of the wrong type or out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("parameter `{name}` = {value}: {reason}")]
pub struct ParamError {
    /// The parameter's name.
    pub name: String,
    /// The value given.
    pub value: String,
    /// What is wrong and what it must be.
    pub reason: String,
}

/// The agent node's configuration, from its parameters.
#[derive(Debug, Clone)]
pub struct AgentParams {
    /// The model name or path; None = fallback parser only.
    pub model: Option<String>,
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
}

fn spec(name: &str) -> Option<&'static ParamSpec> {
    AGENT_PARAMS.iter().find(|p| p.name == name)
}

fn err(name: &str, value: &ParamValue, reason: impl Into<String>) -> ParamError {
    let value = match value {
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Int(i) => i.to_string(),
        ParamValue::Double(d) => d.to_string(),
        ParamValue::Str(s) => format!("{s:?}"),
        ParamValue::Other(s) => s.clone(),
    };
    ParamError {
        name: name.to_owned(),
        value,
        reason: reason.into(),
    }
}

/// The value of `name` as a double (integers are accepted).
fn double(name: &str, v: &ParamValue) -> Result<f64, ParamError> {
    match v {
        ParamValue::Double(d) if d.is_finite() => Ok(*d),
        ParamValue::Int(i) => Ok(*i as f64),
        _ => Err(err(name, v, "must be a finite number")),
    }
}

fn int(name: &str, v: &ParamValue) -> Result<i64, ParamError> {
    match v {
        ParamValue::Int(i) => Ok(*i),
        _ => Err(err(name, v, "must be an integer")),
    }
}

fn ranged_usize(name: &str, v: &ParamValue, min: i64, max: i64) -> Result<usize, ParamError> {
    let i = int(name, v)?;
    if i < min || i > max {
        return Err(err(name, v, format!("must be {min} to {max}")));
    }
    usize::try_from(i).map_err(|_| err(name, v, "must not be negative"))
}

fn positive(name: &str, v: &ParamValue) -> Result<f64, ParamError> {
    let d = double(name, v)?;
    if d > 0.0 {
        Ok(d)
    } else {
        Err(err(name, v, "must be greater than 0"))
    }
}

/// Longest duration any parameter accepts, s: an hour. A larger value is a typo, and a
/// huge one would not fit a `Duration` or would overflow the deadlines computed from it.
const MAX_DURATION_S: f64 = 3600.0;

/// A positive duration parameter given in seconds, at most [`MAX_DURATION_S`].
fn seconds(name: &str, v: &ParamValue) -> Result<Duration, ParamError> {
    let s = positive(name, v)?;
    if s > MAX_DURATION_S {
        return Err(err(name, v, format!("must be at most {MAX_DURATION_S} s")));
    }
    Ok(Duration::from_secs_f64(s))
}

fn budget_ms(name: &str, v: &ParamValue) -> Result<Option<Duration>, ParamError> {
    let d = double(name, v)?;
    if !(0.0..=MAX_DURATION_S * 1000.0).contains(&d) {
        return Err(err(
            name,
            v,
            format!(
                "must be 0 (unchecked) or a positive number of ms, at most {}",
                MAX_DURATION_S * 1000.0
            ),
        ));
    }
    Ok((d > 0.0).then(|| Duration::from_secs_f64(d / 1000.0)))
}

fn core(name: &str, v: &ParamValue) -> Result<Option<usize>, ParamError> {
    let i = int(name, v)?;
    match i {
        -1 => Ok(None),
        0..=1023 => Ok(usize::try_from(i).ok()),
        _ => Err(err(
            name,
            v,
            "must be -1 (any core) or a core index 0..1023",
        )),
    }
}

impl AgentParams {
    /// Builds the configuration from `(name, value)` pairs given on the command line or
    /// in a params file; names not given keep their defaults.
    pub fn from_values<'a>(
        values: impl IntoIterator<Item = (&'a str, &'a ParamValue)>,
    ) -> Result<Self, ParamError> {
        let mut p = Self::defaults();
        for (name, v) in values {
            let Some(s) = spec(name) else {
                return Err(err(
                    name,
                    v,
                    "is not a parameter of bora agent (see `bora agent --list-params`)",
                ));
            };
            p.set(s, v)?;
        }
        p.agent = p.agent.clone().check().map_err(|e| ParamError {
            name: "(planner/limits)".into(),
            value: String::new(),
            reason: e.to_string(),
        })?;
        Ok(p)
    }

    fn defaults() -> Self {
        Self {
            model: Some("smollm2-135m-instruct".into()),
            device: "cpu".into(),
            threads: 0,
            max_tokens: 64,
            prefill_chunk: 32,
            context: 1024,
            budget: TokenBudget {
                first_token: Some(Duration::from_millis(2000)),
                token_gap: Some(Duration::from_millis(500)),
                total: Some(Duration::from_millis(6000)),
            },
            miss_policy: MissPolicy::Fallback,
            motion_trust: MotionTrust::default(),
            agent: AgentConfig {
                planner: PlannerConfig::default(),
                ..AgentConfig::default()
            },
            diagnostics_period: Duration::from_secs(1),
            fault_injection: false,
        }
    }

    fn set(&mut self, s: &ParamSpec, v: &ParamValue) -> Result<(), ParamError> {
        let n = s.name;
        let a = &mut self.agent;
        match n {
            "model" => match v {
                ParamValue::Str(m) if m.is_empty() || m == "none" => self.model = None,
                ParamValue::Str(m) => self.model = Some(m.clone()),
                _ => {
                    return Err(err(
                        n,
                        v,
                        "must be a string: a model name, a GGUF path, or \"none\"",
                    ))
                }
            },
            "device" => match v {
                ParamValue::Str(d) if d == "cpu" || d.starts_with("cuda") => {
                    self.device = d.clone()
                }
                _ => return Err(err(n, v, "must be \"cpu\" or \"cuda:N\"")),
            },
            "threads" => self.threads = ranged_usize(n, v, 0, 1024)?,
            "max_tokens" => self.max_tokens = ranged_usize(n, v, 1, 4096)?,
            "prefill_chunk" => self.prefill_chunk = ranged_usize(n, v, 1, 4096)?,
            "context" => self.context = ranged_usize(n, v, 64, 131_072)?,
            "budget.first_token_ms" => self.budget.first_token = budget_ms(n, v)?,
            "budget.token_gap_ms" => self.budget.token_gap = budget_ms(n, v)?,
            "budget.total_ms" => self.budget.total = budget_ms(n, v)?,
            "budget.miss_policy" => {
                self.miss_policy = match v {
                    ParamValue::Str(s) if s == "fallback" => MissPolicy::Fallback,
                    ParamValue::Str(s) if s == "stop" => MissPolicy::Stop,
                    ParamValue::Str(s) if s == "ignore" => MissPolicy::Ignore,
                    _ => return Err(err(n, v, "must be \"fallback\", \"stop\" or \"ignore\"")),
                }
            }
            "safety.model_motion_min_accuracy" => {
                let f = double(n, v)?;
                if !(0.0..=1.0).contains(&f) {
                    return Err(err(n, v, "must be a fraction from 0 to 1"));
                }
                self.motion_trust.min_model_accuracy = f;
            }
            "limits.max_distance_m" => a.limits.max_distance_m = positive(n, v)?,
            "limits.max_angle_deg" => a.limits.max_angle_deg = positive(n, v)?,
            "limits.max_wait_s" => a.limits.max_wait_s = positive(n, v)?,
            "limits.max_say_chars" => a.limits.max_say_chars = ranged_usize(n, v, 1, 10_000)?,
            "limits.max_steps" => a.limits.max_steps = ranged_usize(n, v, 1, 8)?,
            "planner.rate_hz" => {
                // The pipeline ticks every 1 / rate_hz s: a tiny rate has no such period.
                let hz = positive(n, v)?;
                if !(0.1..=10_000.0).contains(&hz) {
                    return Err(err(n, v, "must be 0.1 to 10000 Hz"));
                }
                a.planner.rate_hz = hz;
            }
            "planner.max_linear_speed_mps" => a.planner.max_linear_speed_mps = positive(n, v)?,
            "planner.max_angular_speed_radps" => {
                a.planner.max_angular_speed_radps = positive(n, v)?
            }
            "planner.max_linear_accel_mps2" => a.planner.max_linear_accel_mps2 = positive(n, v)?,
            "planner.max_angular_accel_radps2" => {
                a.planner.max_angular_accel_radps2 = positive(n, v)?
            }
            "planner.stop_distance_m" => a.planner.stop_distance_m = positive(n, v)?,
            "planner.max_odom_age_s" => a.planner.max_odom_age_s = positive(n, v)?,
            "perception.cone_half_angle_deg" => {
                a.perception.cone_half_angle_deg = positive(n, v)? as f32
            }
            "stages.stall_after_s" => a.stage_stall_after = seconds(n, v)?,
            "stages.language_core" => a.language_rt.core = core(n, v)?,
            "stages.perception_core" => a.perception_rt.core = core(n, v)?,
            "stages.planning_core" => a.planning_rt.core = core(n, v)?,
            "stages.planning_fifo_priority" => {
                let prio = int(n, v)?;
                if !(0..=99).contains(&prio) {
                    return Err(err(n, v, "must be 0 (normal scheduling) or 1..99"));
                }
                a.planning_rt = StageRt {
                    fifo_priority: (prio > 0).then_some(prio as i32),
                    ..a.planning_rt
                };
            }
            "diagnostics_period_s" => self.diagnostics_period = seconds(n, v)?,
            "enable_fault_injection" => match v {
                ParamValue::Bool(b) => self.fault_injection = *b,
                _ => return Err(err(n, v, "must be true or false")),
            },
            _ => return Err(err(n, v, "is declared but not handled (a bug in bora)")),
        }
        Ok(())
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
        for s in AGENT_PARAMS {
            let v = match s.kind {
                Kind::Bool => ParamValue::Bool(s.default == "true"),
                Kind::Int => ParamValue::Int(s.default.parse().expect("int default")),
                Kind::Double => ParamValue::Double(s.default.parse().expect("double default")),
                Kind::String => ParamValue::Str(s.default.into()),
            };
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
    fn values_reach_the_configuration() {
        let p = parse(&[
            ("planner.max_linear_speed_mps", ParamValue::Double(0.3)),
            ("budget.first_token_ms", ParamValue::Int(250)),
            ("budget.total_ms", ParamValue::Double(0.0)),
            ("model", ParamValue::Str("none".into())),
            ("stages.planning_core", ParamValue::Int(1)),
        ])
        .expect("valid");
        assert_eq!(p.agent.planner.max_linear_speed_mps, 0.3);
        assert_eq!(p.budget.first_token, Some(Duration::from_millis(250)));
        assert_eq!(p.budget.total, None);
        assert_eq!(p.model, None);
        assert_eq!(p.agent.planning_rt.core, Some(1));
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
        ] {
            let e = parse(&[(name, v.clone())]).expect_err(name);
            assert_eq!(e.name, name, "{e}");
        }
    }
}
