//! Scoring a plan against a case's acceptable plans, and the tallies of a benchmark run:
//! per path (the model alone, the parser alone, the final plan), per category.

use std::collections::BTreeMap;

use bora_agent::Step;
use serde::Serialize;

/// Relative tolerance for numbers (1 %); values within 1e-6 of each other always match.
pub const TOLERANCE: f64 = 0.01;

/// Whether `actual` (None: no plan) is one of `expected`. An empty expected plan accepts
/// any plan that only speaks (or none): a non-command must not move, stop or wait.
pub fn matches_any(actual: Option<&[Step]>, expected: &[Vec<Step>]) -> bool {
    let actual = actual.unwrap_or(&[]);
    expected.iter().any(|plan| {
        if plan.is_empty() {
            actual.iter().all(|s| matches!(s, Step::Say { .. }))
        } else {
            plan.len() == actual.len() && plan.iter().zip(actual).all(|(e, a)| step_matches(a, e))
        }
    })
}

/// One step against another: same action, numbers within [`TOLERANCE`], say texts equal
/// ignoring case, surrounding space and trailing punctuation.
pub fn step_matches(actual: &Step, expected: &Step) -> bool {
    match (actual, expected) {
        (Step::Move { distance_m: a }, Step::Move { distance_m: e })
        | (Step::Turn { angle_deg: a }, Step::Turn { angle_deg: e })
        | (Step::Wait { seconds: a }, Step::Wait { seconds: e }) => close(*a, *e),
        (Step::Stop {}, Step::Stop {}) => true,
        (Step::Say { text: a }, Step::Say { text: e }) => say_key(a) == say_key(e),
        _ => false,
    }
}

fn close(a: f64, e: f64) -> bool {
    (a - e).abs() <= (TOLERANCE * e.abs()).max(1e-6)
}

fn say_key(text: &str) -> String {
    text.trim()
        .trim_end_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace())
        .to_lowercase()
}

/// Correct answers out of a number of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Score {
    /// Cases answered correctly.
    pub correct: usize,
    /// Cases.
    pub total: usize,
}

impl Score {
    /// Counts one case.
    pub fn add(&mut self, correct: bool) {
        self.total += 1;
        self.correct += usize::from(correct);
    }

    /// Correct fraction, 0 to 1 (0 with no cases).
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

/// The three ways of answering one case.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PathScores {
    /// The model's own plan, before any comparison with the parser.
    pub model: Score,
    /// The deterministic parser alone.
    pub parser: Score,
    /// The plan the agent would run (model, fallback or reflex, after the motion rules).
    pub final_plan: Score,
}

/// How one case went on each path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseOutcome {
    /// The model's own plan was right.
    pub model: bool,
    /// The parser alone was right.
    pub parser: bool,
    /// The final plan was right.
    pub final_plan: bool,
}

/// Tallies of a benchmark run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    /// Over all cases.
    pub overall: PathScores,
    /// Per category, sorted by name.
    pub categories: BTreeMap<String, PathScores>,
    /// Model outputs that did not parse or validate (must be 0 under the grammar).
    pub model_invalid: usize,
    /// Model outputs a missed token budget cut short (scored wrong; not invalid: the
    /// grammar did not get to finish them). A loaded machine, not the model.
    pub model_missed: usize,
    /// Cases where the model declined (`{"plan":[]}`).
    pub model_declined: usize,
    /// Cases expecting no motion (non-commands).
    pub non_commands: usize,
    /// Of those, cases whose final plan moves the robot (a move or turn; must be 0).
    pub non_commands_moved: usize,
}

impl Tally {
    /// Counts one case of `category`.
    pub fn add(&mut self, category: &str, outcome: CaseOutcome) {
        let cat = self.categories.entry(category.to_owned()).or_default();
        for scores in [&mut self.overall, cat] {
            scores.model.add(outcome.model);
            scores.parser.add(outcome.parser);
            scores.final_plan.add(outcome.final_plan);
        }
    }
}

/// The `q`-quantile (0 to 1) of `values` by nearest rank; 0 for none.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;
    use bora_agent::say_text;

    fn say(t: &str) -> Step {
        Step::Say {
            text: say_text(t).unwrap(),
        }
    }

    #[test]
    fn numbers_match_within_one_percent_and_texts_loosely() {
        let e = [vec![
            Step::Move { distance_m: 0.9144 },
            say("Dinner is ready."),
        ]];
        let ok = [Step::Move { distance_m: 0.92 }, say("dinner is ready")];
        assert!(matches_any(Some(&ok), &e));
        let far = [Step::Move { distance_m: 0.93 }, say("dinner is ready")];
        assert!(!matches_any(Some(&far), &e));
        let other = [Step::Move { distance_m: 0.9144 }, say("dinner is served")];
        assert!(!matches_any(Some(&other), &e));
        assert!(!matches_any(Some(&ok[..1]), &e), "a missing step is wrong");
        assert!(!matches_any(None, &e));
        let sign = [Step::Turn { angle_deg: -90.0 }];
        assert!(!matches_any(
            Some(&sign),
            &[vec![Step::Turn { angle_deg: 90.0 }]]
        ));
    }

    #[test]
    fn alternatives_and_no_motion() {
        let e = [
            vec![Step::Turn { angle_deg: 180.0 }],
            vec![Step::Turn { angle_deg: -180.0 }],
        ];
        assert!(matches_any(Some(&[Step::Turn { angle_deg: -180.0 }]), &e));
        let none = [vec![]];
        assert!(matches_any(None, &none));
        assert!(matches_any(Some(&[say("you are welcome")]), &none));
        for moving in [
            Step::Move { distance_m: 0.1 },
            Step::Wait { seconds: 1.0 },
            Step::Stop {},
        ] {
            assert!(
                !matches_any(Some(std::slice::from_ref(&moving)), &none),
                "{moving:?}"
            );
        }
    }

    #[test]
    fn tallies_and_quantiles() {
        let mut t = Tally::default();
        let o = |m, p, f| CaseOutcome {
            model: m,
            parser: p,
            final_plan: f,
        };
        t.add("units", o(true, false, true));
        t.add("units", o(false, false, true));
        t.add("say", o(true, true, true));
        assert_eq!(
            t.overall.model,
            Score {
                correct: 2,
                total: 3
            }
        );
        assert_eq!(t.categories["units"].parser.correct, 0);
        assert_eq!(t.categories["units"].final_plan.fraction(), 1.0);
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!((quantile(&v, 0.5), quantile(&v, 0.99)), (50.0, 99.0));
        assert_eq!(quantile(&[], 0.5), 0.0);
    }
}
