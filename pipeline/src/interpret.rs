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
//!
//! **Motion needs understanding** ([`MotionTrust`]): a plan that moves the robot (move,
//! turn) runs only when a path trusted for motion understood the command: the parser
//! (its parse then holds the motion), or a model that declares a held-out accuracy at or
//! above the configured threshold. Otherwise the interpretation is "not understood" and
//! the model's motion is dropped (its `say` steps may still run): an untuned model's
//! guess for "thank you" is "drive 1 m", and that guess must not reach the motors.

use std::ops::ControlFlow;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::reason::Reason;

use crate::agreement::Agreement;
use bora_agent::{is_reflex_stop, parse_command, same_steps, Limits, Plan, Step, ValidPlan};
use bora_rt::budget::{BudgetMiss, MissPolicy, TokenBudget};
use bora_rt::clock::{Clock, SystemClock};
use bora_rt::pulse::TokenPulse;

/// Which path produced a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
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
    /// Of those, tokens the parser's draft proposed and the model chose too (each saved a
    /// decode step; see [`PlanModel::generate_drafted`]).
    #[serde(default)]
    pub draft_accepted: u32,
    /// Of those, tokens the grammar forced and the model chose too (drafted and verified
    /// the same way).
    #[serde(default)]
    pub forced_accepted: u32,
    /// Start to end of the whole interpretation (all paths tried).
    pub total_us: u64,
}

/// What happened to the model's token budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum BudgetOutcome {
    /// The model was not run (reflex, or no model loaded).
    NotRun,
    /// Every limit was met.
    Met,
    /// A limit was missed; generation was cancelled (or, with policy `ignore`, went on).
    Missed {
        /// Which limit: first_token, token_gap or total.
        limit: bora_rt::budget::Limit,
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
    /// [`generate`](Self::generate) with `draft`, the plan JSON the output is expected to
    /// be (the deterministic parse): a model may check it in one pass and skip the decode
    /// steps it agrees with, writing exactly what it would have written without it.
    fn generate_drafted(
        &mut self,
        command: &str,
        draft: &str,
        cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> ModelAttempt {
        let _ = draft;
        self.generate(command, cancel, on_text)
    }
    /// One line naming the model and device, for diagnostics.
    fn describe(&self) -> String;
    /// The token budget the model generates under (the planner enforces its first-token
    /// and total limits from outside too). Unlimited unless the model has one.
    fn budget(&self) -> TokenBudget {
        TokenBudget::UNLIMITED
    }
    /// The model's intent accuracy on a held-out split (fraction 0..=1) as declared by the
    /// model file or adapter, if it declares one; see [`MotionTrust`].
    fn heldout_accuracy(&self) -> Option<f64> {
        None
    }
    /// Measures generation on `clock` from now on (the agent's one time base); a model
    /// that reads no time ignores it.
    fn use_clock(&mut self, _clock: Arc<dyn Clock>) {}
    /// Marks `pulse` when a generation starts, at each generated token and when it ends
    /// (on the clock of [`PlanModel::use_clock`]), so the planner can enforce the
    /// token-gap limit from outside the language stage; a model without tokens ignores it.
    fn use_token_pulse(&mut self, _pulse: TokenPulse) {}
    /// Registers the model's recorders (TTFT, token gaps, misses) with the agent's metrics.
    fn attach_metrics(&mut self, _metrics: &mut bora_rt::metrics::Metrics) -> crate::Result<()> {
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
    /// Whether a path trusted for motion understood the command (reflex, the parser, a
    /// model agreeing with the parser or trusted per [`MotionTrust`]). False: any motion
    /// the model proposed was dropped.
    pub understood: bool,
    /// Timings.
    pub latency: LatencyBreakdown,
    /// The model's budget outcome.
    pub budget: BudgetOutcome,
    /// What the model generated, if it ran.
    pub model_text: Option<String>,
    /// Why earlier paths were not used, or why there is no plan (in order).
    pub reasons: Vec<Reason>,
    /// Whether the model's own decision and the parser's were the same.
    pub agreement: Agreement,
}

impl Interpretation {
    /// Whether a newer command preempted this one.
    pub fn preempted(&self) -> bool {
        self.reasons.iter().any(Reason::is_preemption)
    }
}

/// Who decides motion: a model trusted here overrules the deterministic parser; an
/// untrusted one moves the robot only where it agrees with the parser.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotionTrust {
    /// Held-out intent accuracy (fraction, 0 to 1) a model must declare before its own
    /// plan may move the robot. A model that declares none is never trusted for motion.
    pub min_model_accuracy: f64,
}

impl Default for MotionTrust {
    /// 0.95: the model decides motion alone only when it is right at least 19 times in
    /// 20 on commands nobody tuned it to.
    fn default() -> Self {
        Self {
            min_model_accuracy: 0.95,
        }
    }
}

impl MotionTrust {
    /// Whether a model declaring `accuracy` may move the robot on its own plan.
    pub fn trusts(&self, accuracy: Option<f64>) -> bool {
        accuracy.is_some_and(|a| a >= self.min_model_accuracy)
    }

    /// Why a model declaring `accuracy` is not trusted, as the end of a sentence.
    fn why_untrusted(&self, accuracy: Option<f64>) -> String {
        match accuracy {
            None => "declares no held-out accuracy, so it is not trusted for motion".into(),
            Some(a) => format!(
                "declares a held-out accuracy of {a:.3}, below \
                 safety.model_motion_min_accuracy = {:.3}",
                self.min_model_accuracy
            ),
        }
    }
}

/// The language stage's logic: reflex, model, fallback. Owns the optional model.
pub struct Interpreter {
    model: Option<Box<dyn PlanModel>>,
    limits: Limits,
    policy: MissPolicy,
    trust: MotionTrust,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("model", &self.model.as_ref().map(|m| m.describe()))
            .field("limits", &self.limits)
            .field("policy", &self.policy)
            .field("trust", &self.trust)
            .finish()
    }
}

impl Interpreter {
    /// An interpreter with `model` (None: fallback parser only, a degraded mode) and the
    /// default [`MotionTrust`].
    pub fn new(model: Option<Box<dyn PlanModel>>, limits: Limits, policy: MissPolicy) -> Self {
        Self {
            model,
            limits,
            policy,
            trust: MotionTrust::default(),
            clock: Arc::new(SystemClock::new()),
        }
    }

    /// Times interpretations, and the model's generation, on `clock` (the agent's).
    pub fn use_clock(&mut self, clock: Arc<dyn Clock>) {
        if let Some(m) = self.model.as_mut() {
            m.use_clock(Arc::clone(&clock));
        }
        self.clock = clock;
    }

    /// Has the model mark `pulse` per generated token (the planner's token-gap watch).
    pub fn use_token_pulse(&mut self, pulse: TokenPulse) {
        if let Some(m) = self.model.as_mut() {
            m.use_token_pulse(pulse);
        }
    }

    /// The same interpreter with `trust` deciding when a model's own plan may move the robot.
    pub fn with_motion_trust(mut self, trust: MotionTrust) -> Self {
        self.trust = trust;
        self
    }

    /// Whether a model is loaded (false: degraded, fallback parser only).
    pub fn has_model(&self) -> bool {
        self.model.is_some()
    }

    /// Whether the loaded model may move the robot on its own plan (see [`MotionTrust`]).
    pub fn model_trusted_for_motion(&self) -> bool {
        self.model
            .as_ref()
            .is_some_and(|m| self.trust.trusts(m.heldout_accuracy()))
    }

    /// The model's one-line description, or why there is none.
    pub fn describe(&self) -> String {
        match &self.model {
            None => "none (fallback parser only)".to_owned(),
            Some(m) if self.trust.trusts(m.heldout_accuracy()) => m.describe(),
            Some(m) => format!(
                "{}; not trusted for motion: only commands the parser understands move the robot",
                m.describe()
            ),
        }
    }

    /// Lets the model record into the agent's metrics.
    pub fn attach_metrics(&mut self, metrics: &mut bora_rt::metrics::Metrics) -> crate::Result<()> {
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

    /// Runs the model alone on `command`: no reflex, no parser, no motion rules. For
    /// benchmarks that score the model's own plan; None without a model.
    pub fn model_only(&mut self, command: &str, cancel: &Arc<AtomicBool>) -> Option<ModelAttempt> {
        let draft = self.draft(command);
        let model = self.model.as_mut()?;
        Some(model.generate_drafted(command, &draft, cancel, &mut |_| {}))
    }

    /// Interprets `command`. `cancel` is set by a newer command; then the result is a
    /// preempted interpretation with no plan, whatever the paths produced.
    pub fn interpret(
        &mut self,
        command: &str,
        cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> Interpretation {
        let start = self.clock.now();
        let mut out = Interpretation {
            command: command.to_owned(),
            plan: None,
            source: Source::None,
            understood: false,
            latency: LatencyBreakdown::default(),
            budget: BudgetOutcome::NotRun,
            model_text: None,
            reasons: Vec::new(),
            agreement: Agreement::NotCompared,
        };
        if command.trim().is_empty() {
            out.reasons.push(Reason::EmptyCommand);
        } else if is_reflex_stop(command) {
            out.plan = self.stop_plan();
            out.source = Source::Reflex;
            out.understood = true;
        } else if self.try_model(command, cancel, on_text, &mut out) == ControlFlow::Continue(()) {
            self.fall_back(command, &mut out);
        }
        if out.source != Source::Reflex && !out.preempted() && !command.trim().is_empty() {
            out.agreement = Agreement::of(command, out.model_text.as_deref(), &self.limits);
        }
        out.latency.total_us = micros(self.clock.now().saturating_sub(start));
        out
    }

    /// The model's path. `Break` when `out` is final (a plan, a preemption, policy stop);
    /// `Continue` when the deterministic parser decides.
    fn try_model(
        &mut self,
        command: &str,
        cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
        out: &mut Interpretation,
    ) -> ControlFlow<()> {
        let draft = self.draft(command);
        let Some(model) = self.model.as_mut() else {
            out.reasons.push(Reason::NoModel);
            return ControlFlow::Continue(());
        };
        let attempt = model.generate_drafted(command, &draft, cancel, on_text);
        let declared_accuracy = model.heldout_accuracy();
        out.latency = attempt.latency;
        out.budget = attempt.budget;
        out.model_text = Some(attempt.text.clone());
        match (attempt.budget, attempt.error) {
            (BudgetOutcome::Preempted, _) => {
                out.reasons.push(Reason::Preempted);
                ControlFlow::Break(())
            }
            (BudgetOutcome::Missed { .. }, _) if self.policy == MissPolicy::Stop => {
                out.reasons.push(Reason::BudgetMissedPolicyStop);
                out.plan = self.stop_plan();
                out.source = Source::Fallback;
                out.understood = true;
                ControlFlow::Break(())
            }
            (BudgetOutcome::Missed { .. }, _) if self.policy == MissPolicy::Fallback => {
                out.reasons.push(Reason::BudgetMissed);
                ControlFlow::Continue(())
            }
            (_, Some(error)) => {
                out.reasons.push(Reason::ModelFailed { error });
                ControlFlow::Continue(())
            }
            _ => match self.limits.parse_decision(&attempt.text) {
                Ok(Some(plan)) => self.judge_model_plan(command, plan, declared_accuracy, out),
                Ok(None) => self.judge_model_decline(command, declared_accuracy, out),
                Err(e) => {
                    out.reasons.push(Reason::ModelOutputRejected {
                        error: bora_agent::reply_error(&attempt.text, e).to_string(),
                    });
                    ControlFlow::Continue(())
                }
            },
        }
    }

    /// Decides what a valid model plan may do. A small model can write a valid plan that
    /// says something else than the command (measured with SmolLM2-135M: "turn left"
    /// became a right turn; "thank you" became a 1 m drive). A model trusted for motion
    /// ([`MotionTrust`]: its declared held-out accuracy, far above the parser's) decides:
    /// its valid plan is the plan, and the parser stays the fallback for budget misses, a
    /// missing model and invalid output. An untrusted model's plan must agree with the
    /// parser where the parser understands the command; elsewhere it keeps only its steps
    /// without motion.
    fn judge_model_plan(
        &self,
        command: &str,
        plan: ValidPlan,
        declared_accuracy: Option<f64>,
        out: &mut Interpretation,
    ) -> ControlFlow<()> {
        match parse_command(command, &self.limits) {
            _ if self.trust.trusts(declared_accuracy) => out.understood = true,
            Ok(parsed) if !same_steps(parsed.steps(), plan.steps()) => {
                out.reasons.push(Reason::DisagreedWithParser {
                    plan: plan_json(&plan),
                });
                return ControlFlow::Continue(());
            }
            Ok(_) => out.understood = true,
            Err(_) if self.trust.trusts(declared_accuracy) => out.understood = true,
            Err(_) => {}
        }
        if out.understood || !plan.has_motion() {
            if !out.understood {
                out.reasons.push(Reason::NotUnderstood {
                    untrusted: self.trust.why_untrusted(declared_accuracy),
                });
            }
            out.source = Source::Model;
            out.plan = Some(plan);
            return ControlFlow::Break(());
        }
        out.reasons.push(Reason::MotionDropped {
            plan: plan_json(&plan),
            untrusted: self.trust.why_untrusted(declared_accuracy),
        });
        let mut rest = plan.into_plan();
        rest.steps.retain(|s| !s.is_motion());
        if !rest.steps.is_empty() {
            out.plan = self.limits.validate(rest).ok();
            out.source = Source::Model;
        }
        ControlFlow::Break(())
    }

    /// Decides what a model's decline (`{"plan":[]}`: not a command) means. Where the
    /// parser understood a command the decline disagrees with it and the parser decides
    /// (as for any disagreement) unless the model is trusted; elsewhere the result is no
    /// motion, from the model.
    fn judge_model_decline(
        &self,
        command: &str,
        declared_accuracy: Option<f64>,
        out: &mut Interpretation,
    ) -> ControlFlow<()> {
        let trusted = self.trust.trusts(declared_accuracy);
        if !trusted && parse_command(command, &self.limits).is_ok() {
            out.reasons.push(Reason::DisagreedWithParser {
                plan: r#"{"plan":[]}"#.to_owned(),
            });
            return ControlFlow::Continue(());
        }
        out.source = Source::Model;
        out.understood = trusted;
        out.reasons.push(Reason::ModelDeclined);
        ControlFlow::Break(())
    }

    /// The deterministic parser's path: the last one.
    fn fall_back(&self, command: &str, out: &mut Interpretation) {
        match parse_command(command, &self.limits) {
            Ok(plan) => {
                out.plan = Some(plan);
                out.source = Source::Fallback;
                out.understood = true;
            }
            Err(e) => out.reasons.push(Reason::ParserFailed {
                error: e.to_string(),
            }),
        }
    }

    /// What the model is expected to write for `command`: the parser's plan, or the
    /// decline where the parser understands no command (a draft only speeds the model up;
    /// it never changes what the model writes).
    fn draft(&self, command: &str) -> String {
        parse_command(command, &self.limits)
            .ok()
            .and_then(|p| p.plan().to_json().ok())
            .unwrap_or_else(|| DECLINE_JSON.to_owned())
    }

    fn stop_plan(&self) -> Option<ValidPlan> {
        let stop = Plan::new([Step::Stop {}]).ok()?;
        self.limits.validate(stop).ok()
    }
}

/// The model's way to say "not a command" ([`Limits::parse_decision`]).
const DECLINE_JSON: &str = r#"{"plan":[]}"#;

/// A plan's compact JSON, for reasons.
fn plan_json(plan: &ValidPlan) -> String {
    serde_json::to_string(plan.plan()).unwrap_or_default()
}

/// A duration in whole microseconds (saturating).
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
