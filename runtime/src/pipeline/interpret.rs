//! The language stage's decision, without threads: a command becomes a validated plan
//! by one of three paths, tried in order:
//!
//! 1. **reflex**: a command containing stop, halt or freeze never reaches the model;
//! 2. **model**: the language model, constrained to the intent schema, under a token
//!    budget (see [`PlanModel`]);
//! 3. **fallback**: the deterministic parser, when there is no model, the model missed
//!    its budget (policy [`MissPolicy::Fallback`]), its output did not validate, or its
//!    plan contradicts what the parser understood of the same command.
//!
//! If every path fails, the result is "no motion" with the reasons.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use crate::agent::{is_reflex_stop, parse_command, Limits, Plan, Step, ValidPlan};
use crate::budget::{BudgetMiss, MissPolicy, TokenBudget};

/// Which path produced a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The language model.
    Model,
    /// The deterministic fallback parser.
    Fallback,
    /// The reflex stop (the model was bypassed).
    Reflex,
    /// No path produced a plan: no motion.
    None,
}

/// Where time went in one interpretation, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencyBreakdown {
    /// Tokenizing the command.
    pub tokenize_us: u64,
    /// Prefill of the command's tokens (the cached prefix excluded).
    pub prefill_us: u64,
    /// Decoding the plan's tokens.
    pub decode_us: u64,
    /// Start of interpretation to the model's first token, if it produced one.
    pub ttft_us: Option<u64>,
    /// Computing grammar masks, summed over all tokens.
    pub mask_us: u64,
    /// Tokens the model generated.
    pub tokens: u32,
    /// Start to end of the whole interpretation (all paths tried).
    pub total_us: u64,
}

/// What happened to the model's token budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BudgetOutcome {
    /// The model was not run (reflex, or no model loaded).
    NotRun,
    /// Every limit was met.
    Met,
    /// A limit was missed; generation was cancelled (or, with policy `ignore`, went on).
    Missed {
        /// Which limit: first_token, token_gap or total.
        limit: crate::budget::Limit,
        /// The limit in microseconds.
        limit_us: u64,
        /// What was observed, in microseconds.
        observed_us: u64,
        /// By how much it was over, in microseconds.
        over_by_us: u64,
    },
    /// A newer command cancelled this generation.
    Preempted,
}

impl From<BudgetMiss> for BudgetOutcome {
    fn from(m: BudgetMiss) -> Self {
        BudgetOutcome::Missed {
            limit: m.limit,
            limit_us: micros(m.limit_value),
            observed_us: micros(m.observed),
            over_by_us: micros(m.over_by),
        }
    }
}

/// What the model produced for one command.
#[derive(Debug, Clone)]
pub struct ModelAttempt {
    /// The generated text (JSON when the grammar was respected).
    pub text: String,
    /// How the budget went.
    pub budget: BudgetOutcome,
    /// Timings of this attempt (total_us is filled in by the caller).
    pub latency: LatencyBreakdown,
    /// An error from the model itself (not a budget miss), with what it was.
    pub error: Option<String>,
}

/// A language model that turns a command into plan JSON under a budget. Implemented by
/// the LLM language engine; tests use doubles.
pub trait PlanModel: Send {
    /// Generates plan JSON for `command`, streaming text pieces to `on_text`, stopping
    /// early when `cancel` is set or the budget is missed.
    fn generate(
        &mut self,
        command: &str,
        cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> ModelAttempt;
    /// One line naming the model and device, for diagnostics.
    fn describe(&self) -> String;
    /// The token budget the model generates under (the planner enforces its first-token
    /// and total limits from outside too). Unlimited unless the model has one.
    fn budget(&self) -> TokenBudget {
        TokenBudget::UNLIMITED
    }
    /// Registers the model's recorders (TTFT, token gaps, misses) with the agent's metrics.
    fn attach_metrics(&mut self, _metrics: &mut crate::metrics::Metrics) -> crate::Result<()> {
        Ok(())
    }
}

/// The result of interpreting one command.
#[derive(Debug, Clone)]
pub struct Interpretation {
    /// The command text as received.
    pub command: String,
    /// The plan, or `None` for no motion.
    pub plan: Option<ValidPlan>,
    /// Which path produced the plan.
    pub source: Source,
    /// Timings.
    pub latency: LatencyBreakdown,
    /// The model's budget outcome.
    pub budget: BudgetOutcome,
    /// What the model generated, if it ran.
    pub model_text: Option<String>,
    /// Why earlier paths were not used, or why there is no plan (in order).
    pub reasons: Vec<String>,
}

impl Interpretation {
    /// The JSON published on `agent/plan` and printed by `bora intent --json`:
    /// `{"plan":[...] or null, "source", "command", "latency_us", "budget", "reasons", ...}`.
    pub fn to_json(&self) -> Value {
        let plan = self
            .plan
            .as_ref()
            .and_then(|p| serde_json::to_value(p.plan()).ok())
            .and_then(|v| v.get("plan").cloned())
            .unwrap_or(Value::Null);
        json!({
            "plan": plan,
            "source": self.source,
            "command": self.command,
            "latency_us": self.latency,
            "budget": self.budget,
            "model_text": self.model_text,
            "reasons": self.reasons,
        })
    }
}

/// The language stage's logic: reflex, model, fallback. Owns the optional model.
pub struct Interpreter {
    model: Option<Box<dyn PlanModel>>,
    limits: Limits,
    policy: MissPolicy,
}

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("model", &self.model.as_ref().map(|m| m.describe()))
            .field("limits", &self.limits)
            .field("policy", &self.policy)
            .finish()
    }
}

impl Interpreter {
    /// An interpreter with `model` (None: fallback parser only, a degraded mode).
    pub fn new(model: Option<Box<dyn PlanModel>>, limits: Limits, policy: MissPolicy) -> Self {
        Self {
            model,
            limits,
            policy,
        }
    }

    /// Whether a model is loaded (false: degraded, fallback parser only).
    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// The model's one-line description, or why there is none.
    pub fn describe(&self) -> String {
        self.model.as_ref().map_or_else(
            || "none (fallback parser only)".to_owned(),
            |m| m.describe(),
        )
    }

    /// Lets the model record into the agent's metrics.
    pub fn attach_metrics(&mut self, metrics: &mut crate::metrics::Metrics) -> crate::Result<()> {
        match self.model.as_mut() {
            Some(m) => m.attach_metrics(metrics),
            None => Ok(()),
        }
    }

    /// The model's token budget and the policy on a miss (unlimited without a model).
    pub fn budget(&self) -> (TokenBudget, MissPolicy) {
        let budget = self
            .model
            .as_ref()
            .map_or(TokenBudget::UNLIMITED, |m| m.budget());
        (budget, self.policy)
    }

    /// The limits plans are validated against.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Interprets `command`. `cancel` is set by a newer command; then the result is a
    /// preempted interpretation with no plan, whatever the paths produced.
    pub fn interpret(
        &mut self,
        command: &str,
        cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> Interpretation {
        let start = Instant::now();
        let mut out = Interpretation {
            command: command.to_owned(),
            plan: None,
            source: Source::None,
            latency: LatencyBreakdown::default(),
            budget: BudgetOutcome::NotRun,
            model_text: None,
            reasons: Vec::new(),
        };
        if command.trim().is_empty() {
            out.reasons.push("empty command".into());
            out.latency.total_us = micros(start.elapsed());
            return out;
        }
        if is_reflex_stop(command) {
            out.plan = self
                .limits
                .validate(Plan {
                    steps: vec![Step::Stop {}],
                })
                .ok();
            out.source = Source::Reflex;
            out.latency.total_us = micros(start.elapsed());
            return out;
        }
        if let Some(model) = self.model.as_mut() {
            let attempt = model.generate(command, cancel, on_text);
            out.latency = attempt.latency;
            out.budget = attempt.budget;
            out.model_text = Some(attempt.text.clone());
            match (attempt.budget, attempt.error) {
                (BudgetOutcome::Preempted, _) => {
                    out.reasons.push("preempted by a newer command".into());
                    out.latency.total_us = micros(start.elapsed());
                    return out;
                }
                (BudgetOutcome::Missed { .. }, _) if self.policy == MissPolicy::Stop => {
                    out.reasons
                        .push("model missed its token budget; policy stop".into());
                    out.plan = self
                        .limits
                        .validate(Plan {
                            steps: vec![Step::Stop {}],
                        })
                        .ok();
                    out.source = Source::Fallback;
                    out.latency.total_us = micros(start.elapsed());
                    return out;
                }
                (BudgetOutcome::Missed { .. }, _) if self.policy == MissPolicy::Fallback => {
                    out.reasons.push("model missed its token budget".into());
                }
                (_, Some(error)) => out.reasons.push(format!("model failed: {error}")),
                _ => match self.limits.parse(&attempt.text) {
                    // A small model can write a valid plan that says something else
                    // than the command (measured with SmolLM2-135M: "turn left" became
                    // a right turn). Where the deterministic parser understands the
                    // command, the model's plan must agree with it.
                    Ok(plan) => match parse_command(command, &self.limits) {
                        Ok(parsed) if parsed.steps() != plan.steps() => {
                            out.reasons.push(format!(
                                "model plan {} disagreed with the deterministic parse",
                                serde_json::to_string(plan.plan()).unwrap_or_default()
                            ));
                        }
                        _ => {
                            out.plan = Some(plan);
                            out.source = Source::Model;
                            out.latency.total_us = micros(start.elapsed());
                            return out;
                        }
                    },
                    Err(e) => out.reasons.push(format!("model output rejected: {e}")),
                },
            }
        } else {
            out.reasons.push("no model loaded".into());
        }
        match parse_command(command, &self.limits) {
            Ok(plan) => {
                out.plan = Some(plan);
                out.source = Source::Fallback;
            }
            Err(e) => out.reasons.push(format!("fallback parser: {e}")),
        }
        out.latency.total_us = micros(start.elapsed());
        out
    }
}

/// A duration in whole microseconds (saturating).
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Canned(ModelAttempt);
    impl PlanModel for Canned {
        fn generate(
            &mut self,
            _: &str,
            _: &Arc<AtomicBool>,
            on_text: &mut dyn FnMut(&str),
        ) -> ModelAttempt {
            on_text(&self.0.text);
            self.0.clone()
        }
        fn describe(&self) -> String {
            "canned".into()
        }
    }

    fn attempt(text: &str, budget: BudgetOutcome) -> ModelAttempt {
        ModelAttempt {
            text: text.into(),
            budget,
            latency: LatencyBreakdown::default(),
            error: None,
        }
    }

    fn run(model: Option<ModelAttempt>, policy: MissPolicy, command: &str) -> Interpretation {
        let model = model.map(|a| Box::new(Canned(a)) as Box<dyn PlanModel>);
        let mut i = Interpreter::new(model, Limits::default(), policy);
        i.interpret(command, &Arc::new(AtomicBool::new(false)), &mut |_| {})
    }

    const MISS: BudgetOutcome = BudgetOutcome::Missed {
        limit: crate::budget::Limit::FirstToken,
        limit_us: 1,
        observed_us: 5,
        over_by_us: 4,
    };

    #[test]
    fn reflex_bypasses_the_model() {
        let out = run(
            Some(attempt(
                r#"{"plan":[{"action":"move","distance_m":1}]}"#,
                BudgetOutcome::Met,
            )),
            MissPolicy::Fallback,
            "STOP now",
        );
        assert_eq!(out.source, Source::Reflex);
        assert_eq!(
            out.plan.map(|p| p.steps().to_vec()),
            Some(vec![Step::Stop {}])
        );
        assert!(out.model_text.is_none());
    }

    #[test]
    fn valid_model_output_is_used() {
        let out = run(
            Some(attempt(
                r#"{"plan":[{"action":"turn","angle_deg":45}]}"#,
                BudgetOutcome::Met,
            )),
            MissPolicy::Fallback,
            "turn left 45 degrees",
        );
        assert_eq!(out.source, Source::Model);
        assert_eq!(
            out.plan.map(|p| p.steps().to_vec()),
            Some(vec![Step::Turn { angle_deg: 45.0 }])
        );
    }

    #[test]
    fn a_model_plan_that_contradicts_the_parse_is_not_used() {
        let out = run(
            Some(attempt(
                r#"{"plan":[{"action":"turn","angle_deg":-90}]}"#,
                BudgetOutcome::Met,
            )),
            MissPolicy::Fallback,
            "turn left",
        );
        assert_eq!(out.source, Source::Fallback);
        assert_eq!(
            out.plan.map(|p| p.steps().to_vec()),
            Some(vec![Step::Turn { angle_deg: 90.0 }])
        );
        assert!(out.reasons[0].contains("disagreed"), "{:?}", out.reasons);
        // A command the parser does not understand keeps the model's plan.
        let out = run(
            Some(attempt(
                r#"{"plan":[{"action":"say","text":"hi"}]}"#,
                BudgetOutcome::Met,
            )),
            MissPolicy::Fallback,
            "greet the visitors",
        );
        assert_eq!(out.source, Source::Model);
    }

    #[test]
    fn out_of_range_model_output_falls_back() {
        let out = run(
            Some(attempt(
                r#"{"plan":[{"action":"move","distance_m":50}]}"#,
                BudgetOutcome::Met,
            )),
            MissPolicy::Fallback,
            "move forward 2 meters",
        );
        assert_eq!(out.source, Source::Fallback);
        assert_eq!(
            out.plan.map(|p| p.steps().to_vec()),
            Some(vec![Step::Move { distance_m: 2.0 }])
        );
        assert!(out.reasons[0].contains("rejected"), "{:?}", out.reasons);
    }

    #[test]
    fn budget_miss_applies_the_policy() {
        let text = r#"{"plan":[{"action":"move","distance_m":1}]}"#;
        let fb = run(
            Some(attempt(text, MISS)),
            MissPolicy::Fallback,
            "move back 1 m",
        );
        assert_eq!(fb.source, Source::Fallback);
        assert_eq!(
            fb.plan.map(|p| p.steps().to_vec()),
            Some(vec![Step::Move { distance_m: -1.0 }])
        );
        let stop = run(Some(attempt(text, MISS)), MissPolicy::Stop, "move back 1 m");
        assert_eq!(
            stop.plan.map(|p| p.steps().to_vec()),
            Some(vec![Step::Stop {}])
        );
        let back = r#"{"plan":[{"action":"move","distance_m":-1}]}"#;
        let ignore = run(
            Some(attempt(back, MISS)),
            MissPolicy::Ignore,
            "move back 1 m",
        );
        assert_eq!(ignore.source, Source::Model);
    }

    #[test]
    fn preempted_generation_yields_no_plan() {
        let out = run(
            Some(attempt("{\"plan\":[", BudgetOutcome::Preempted)),
            MissPolicy::Fallback,
            "move forward",
        );
        assert!(out.plan.is_none());
        assert_eq!(out.source, Source::None);
    }

    #[test]
    fn unparseable_command_without_model_means_no_motion() {
        let out = run(None, MissPolicy::Fallback, "sing me a song about rust");
        assert!(out.plan.is_none());
        assert_eq!(out.source, Source::None);
        assert_eq!(out.reasons.len(), 2, "{:?}", out.reasons);
        let json = out.to_json();
        assert!(json["plan"].is_null());
    }

    #[test]
    fn empty_commands_never_reach_the_model() {
        let out = run(
            Some(attempt(
                r#"{"plan":[{"action":"move","distance_m":1}]}"#,
                BudgetOutcome::Met,
            )),
            MissPolicy::Fallback,
            " \t\n",
        );
        assert!(out.plan.is_none());
        assert!(out.model_text.is_none());
        assert_eq!(out.reasons, vec!["empty command".to_owned()]);
    }

    #[test]
    fn json_form_starts_with_the_plan() {
        let out = run(
            None,
            MissPolicy::Fallback,
            "move forward one meter then turn left",
        );
        let json = out.to_json();
        assert_eq!(
            json["plan"],
            json!([{"action":"move","distance_m":1.0},{"action":"turn","angle_deg":90.0}])
        );
        assert_eq!(json["source"], "fallback");
    }
}
