//! Whether the model's own plan and the deterministic parser said the same of a command:
//! reported per command (on `agent/plan`) and counted (diagnostics, `bora profile`), so
//! an integrator sees how often the model and the phrase table agree on the robot's real
//! commands, and whether the model is ready to be the authority (issue #15).

use bora_agent::{parse_command, same_steps, Limits};
use serde::{Deserialize, Serialize};

/// The comparison of the model's decision with the parser's, for one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agreement {
    /// Both decided and said the same: the same steps.
    Agreed,
    /// Both decided and differ: other steps, or the model declined a command the parser
    /// understood.
    Disagreed,
    /// Only the model decided (a plan or a decline); the parser did not understand.
    ModelOnly,
    /// Only the parser decided: the model did not run, missed its budget or wrote
    /// output that did not validate.
    ParserOnly,
    /// Neither decided.
    Neither,
    /// Not compared: an empty command, a reflex stop (the model is bypassed) or a
    /// preempted generation.
    NotCompared,
}

impl Agreement {
    /// The outcomes of a comparison that ran (all but [`Agreement::NotCompared`]).
    pub const COMPARED: [Self; 5] = [
        Self::Agreed,
        Self::Disagreed,
        Self::ModelOnly,
        Self::ParserOnly,
        Self::Neither,
    ];

    /// Compares the model's output `model_text` (None: the model did not run) with the
    /// parser's reading of `command`, under `limits`.
    pub fn of(command: &str, model_text: Option<&str>, limits: &Limits) -> Self {
        let model = model_text.and_then(|t| limits.parse_decision(t).ok());
        let parsed = parse_command(command, limits).ok();
        match (model, parsed) {
            (Some(Some(plan)), Some(p)) if same_steps(plan.steps(), p.steps()) => Self::Agreed,
            (Some(_), Some(_)) => Self::Disagreed,
            (Some(_), None) => Self::ModelOnly,
            (None, Some(_)) => Self::ParserOnly,
            (None, None) => Self::Neither,
        }
    }

    /// The counter this outcome increments, as diagnostics names it; None for
    /// [`Agreement::NotCompared`].
    pub fn counter_name(self) -> Option<&'static str> {
        match self {
            Self::Agreed => Some("model_parser_agreed"),
            Self::Disagreed => Some("model_parser_disagreed"),
            Self::ModelOnly => Some("model_only_decided"),
            Self::ParserOnly => Some("parser_only_decided"),
            Self::Neither => Some("neither_decided"),
            Self::NotCompared => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits::default()
    }

    #[test]
    fn the_same_steps_agree() {
        let text = r#"{"plan":[{"action":"move","distance_m":1.0}]}"#;
        assert_eq!(
            Agreement::of("move forward one meter", Some(text), &limits()),
            Agreement::Agreed
        );
    }

    #[test]
    fn float_noise_of_a_unit_conversion_still_agrees() {
        // The parser computes 3 * 0.3048 = 0.9144000000000001; the short form's expansion
        // writes 0.9144.
        let text = r#"{"plan":[{"action":"move","distance_m":-0.9144}]}"#;
        assert_eq!(
            Agreement::of("back up 3 feet", Some(text), &limits()),
            Agreement::Agreed
        );
        let off = r#"{"plan":[{"action":"move","distance_m":-0.9145}]}"#;
        assert_eq!(
            Agreement::of("back up 3 feet", Some(off), &limits()),
            Agreement::Disagreed
        );
    }

    #[test]
    fn other_steps_or_a_decline_of_a_command_disagree() {
        let text = r#"{"plan":[{"action":"move","distance_m":-1.0}]}"#;
        let l = limits();
        assert_eq!(
            Agreement::of("move forward one meter", Some(text), &l),
            Agreement::Disagreed
        );
        assert_eq!(
            Agreement::of("move forward one meter", Some(r#"{"plan":[]}"#), &l),
            Agreement::Disagreed
        );
    }

    #[test]
    fn one_side_alone_is_named() {
        let l = limits();
        let decline = Some(r#"{"plan":[]}"#);
        assert_eq!(
            Agreement::of("thank you", decline, &l),
            Agreement::ModelOnly
        );
        assert_eq!(
            Agreement::of("move forward one meter", Some("{\"plan\":[{"), &l),
            Agreement::ParserOnly
        );
        assert_eq!(
            Agreement::of("move forward one meter", None, &l),
            Agreement::ParserOnly
        );
        assert_eq!(Agreement::of("thank you", None, &l), Agreement::Neither);
    }
}
