//! Why a path was not used, or why a command got no plan: one typed value per cause, so
//! the pipeline decides on variants (was this preempted?) and the reports carry the
//! sentence a person reads.

use std::fmt;

use serde::{Serialize, Serializer};

/// One entry of a report's `reasons`, in the order the paths were tried.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The command was empty or whitespace.
    EmptyCommand,
    /// No model is loaded: the parser decides.
    NoModel,
    /// A newer command cancelled this one's generation or replaced its plan.
    Preempted,
    /// The model missed its token budget and the policy is stop.
    BudgetMissedPolicyStop,
    /// The model missed its token budget and the policy is fallback.
    BudgetMissed,
    /// The model itself failed (not a budget miss).
    ModelFailed {
        /// What failed.
        error: String,
    },
    /// The model's text did not validate as a plan.
    ModelOutputRejected {
        /// Why validation refused it.
        error: String,
    },
    /// The model's plan differed from the parser's reading of the same command.
    DisagreedWithParser {
        /// The model's plan, compact JSON.
        plan: String,
    },
    /// Nobody trusted for motion understood the command; the model's plan had no motion
    /// and runs.
    NotUnderstood {
        /// Why the model is not trusted, as the end of a sentence.
        untrusted: String,
    },
    /// Nobody trusted for motion understood the command; the model's motion was dropped.
    MotionDropped {
        /// The model's plan, compact JSON.
        plan: String,
        /// Why the model is not trusted, as the end of a sentence.
        untrusted: String,
    },
    /// The model declined: not a command (`{"plan":[]}`), no motion.
    ModelDeclined,
    /// The deterministic parser did not understand the command either.
    ParserFailed {
        /// The parser's explanation.
        error: String,
    },
    /// The planner had already applied the budget's miss policy for this command.
    TooLate,
    /// A newer command replaced this one before it was interpreted.
    Superseded,
    /// The command was refused before interpretation (e.g. not UTF-8).
    Refused {
        /// Why, naming the fault.
        reason: String,
    },
    /// The planner enforced the token budget from outside the language stage.
    DeadlineEnforced {
        /// The limit's name (first_token, token_gap, total).
        limit: &'static str,
        /// The limit in ms.
        limit_ms: f64,
        /// Time since the command arrived (token_gap: since the last token), ms.
        waited_ms: f64,
        /// What the planner did.
        action: &'static str,
    },
}

impl Reason {
    /// Whether this reason says a newer command preempted the command.
    pub fn is_preemption(&self) -> bool {
        matches!(self, Reason::Preempted)
    }

    /// Whether this reason says nobody trusted for motion understood the command.
    pub fn is_not_understood(&self) -> bool {
        matches!(
            self,
            Reason::NotUnderstood { .. } | Reason::MotionDropped { .. }
        )
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::EmptyCommand => f.write_str("empty command"),
            Reason::NoModel => f.write_str("no model loaded"),
            Reason::Preempted => f.write_str("preempted by a newer command"),
            Reason::BudgetMissedPolicyStop => {
                f.write_str("model missed its token budget; policy stop")
            }
            Reason::BudgetMissed => f.write_str("model missed its token budget"),
            Reason::ModelFailed { error } => write!(f, "model failed: {error}"),
            Reason::ModelOutputRejected { error } => write!(f, "model output rejected: {error}"),
            Reason::DisagreedWithParser { plan } => {
                write!(
                    f,
                    "model plan {plan} disagreed with the deterministic parse"
                )
            }
            Reason::NotUnderstood { untrusted } => write!(
                f,
                "not understood: the deterministic parser did not understand the command, \
                 and the model {untrusted}"
            ),
            Reason::MotionDropped { plan, untrusted } => write!(
                f,
                "not understood: model plan {plan} moves the robot, but the deterministic \
                 parser did not understand the command and the model {untrusted}; the motion \
                 was dropped"
            ),
            Reason::ModelDeclined => {
                f.write_str("the model declined: not a command for the robot; no motion")
            }
            Reason::ParserFailed { error } => write!(f, "fallback parser: {error}"),
            Reason::TooLate => {
                f.write_str("too late: the planner had applied the budget's miss policy")
            }
            Reason::Superseded => {
                f.write_str("superseded by a newer command before interpretation")
            }
            Reason::Refused { reason } => f.write_str(reason),
            Reason::DeadlineEnforced {
                limit,
                limit_ms,
                waited_ms,
                action,
            } => {
                let since = if *limit == "token_gap" {
                    "since the last token"
                } else {
                    "since the command arrived"
                };
                write!(
                    f,
                    "model missed its token budget ({limit} limit {limit_ms:.0} ms, \
                     {waited_ms:.0} ms {since}); {action}"
                )
            }
        }
    }
}

impl Serialize for Reason {
    /// As the sentence [`Display`](fmt::Display) writes.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_serialise_as_their_sentence() {
        let r = Reason::DeadlineEnforced {
            limit: "first_token",
            limit_ms: 150.0,
            waited_ms: 612.4,
            action: "the planner stopped the robot (policy stop)",
        };
        let json = serde_json::to_value([&r, &Reason::Preempted]).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                "model missed its token budget (first_token limit 150 ms, 612 ms since the \
                 command arrived); the planner stopped the robot (policy stop)",
                "preempted by a newer command"
            ])
        );
        assert!(Reason::Preempted.is_preemption() && !Reason::TooLate.is_preemption());
    }
}
