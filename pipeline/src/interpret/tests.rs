//! The interpreter's paths with model doubles: reflex, model, fallback, budget policies
//! and the motion-trust policy.

use super::*;
use serde_json::json;

struct Canned(ModelAttempt, Option<f64>);
impl PlanModel for Canned {
    fn heldout_accuracy(&self) -> Option<f64> {
        self.1
    }
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
    run_declaring(model, None, policy, command)
}

fn run_declaring(
    model: Option<ModelAttempt>,
    accuracy: Option<f64>,
    policy: MissPolicy,
    command: &str,
) -> Interpretation {
    let model = model.map(|a| Box::new(Canned(a, accuracy)) as Box<dyn PlanModel>);
    let mut i = Interpreter::new(model, Limits::default(), policy);
    i.interpret(command, &Arc::new(AtomicBool::new(false)), &mut |_| {})
}

fn steps(out: &Interpretation) -> Option<Vec<Step>> {
    out.plan.as_ref().map(|p| p.steps().to_vec())
}

const DRIVE: &str = r#"{"plan":[{"action":"move","distance_m":1.0}]}"#;

#[test]
fn an_untrusted_model_cannot_move_the_robot_on_a_sentence_nobody_understood() {
    for command in ["thank you, that was great", "what's the weather like today"] {
        let out = run(
            Some(attempt(DRIVE, BudgetOutcome::Met)),
            MissPolicy::Fallback,
            command,
        );
        assert_eq!(out.plan, None, "{command}: {:?}", out.reasons);
        assert_eq!(out.source, Source::None);
        assert!(!out.understood);
        assert!(
            out.reasons.iter().any(|r| r.is_not_understood()
                && r.to_string().contains("declares no held-out accuracy")),
            "{:?}",
            out.reasons
        );
        assert_eq!(out.to_json()["understood"], json!(false));
    }
}

#[test]
fn dropping_the_motion_keeps_what_the_model_wanted_to_say() {
    let text = r#"{"plan":[{"action":"say","text":"you are welcome"},{"action":"turn","angle_deg":90},{"action":"wait","seconds":1}]}"#;
    let out = run(
        Some(attempt(text, BudgetOutcome::Met)),
        MissPolicy::Fallback,
        "thanks",
    );
    assert_eq!(
        steps(&out),
        Some(vec![
            Step::say("you are welcome").unwrap(),
            Step::Wait { seconds: 1.0 }
        ])
    );
    assert_eq!(out.source, Source::Model);
    assert!(!out.understood);
}

#[test]
fn a_model_declaring_enough_held_out_accuracy_may_move_the_robot() {
    let trusted = run_declaring(
        Some(attempt(DRIVE, BudgetOutcome::Met)),
        Some(0.97),
        MissPolicy::Fallback,
        "scoot ahead a bit",
    );
    assert_eq!(steps(&trusted), Some(vec![Step::Move { distance_m: 1.0 }]));
    assert!(trusted.understood);
    let below = run_declaring(
        Some(attempt(DRIVE, BudgetOutcome::Met)),
        Some(0.9),
        MissPolicy::Fallback,
        "scoot ahead a bit",
    );
    assert_eq!(below.plan, None);
    assert!(
        below
            .reasons
            .iter()
            .any(|r| r.to_string().contains("0.900, below")),
        "{:?}",
        below.reasons
    );
    // The threshold is the configuration's: 0.9 passes when 0.9 is asked for.
    let mut i = Interpreter::new(
        Some(Box::new(Canned(
            attempt(DRIVE, BudgetOutcome::Met),
            Some(0.9),
        ))),
        Limits::default(),
        MissPolicy::Fallback,
    )
    .with_motion_trust(MotionTrust {
        min_model_accuracy: 0.9,
    });
    let out = i.interpret(
        "scoot ahead a bit",
        &Arc::new(AtomicBool::new(false)),
        &mut |_| {},
    );
    assert!(out.understood && out.plan.is_some(), "{:?}", out.reasons);
}

#[test]
fn the_parser_stays_trusted_for_motion() {
    // The model agrees with the parse: its plan runs, understood.
    let out = run(
        Some(attempt(DRIVE, BudgetOutcome::Met)),
        MissPolicy::Fallback,
        "move forward one meter",
    );
    assert_eq!((out.source, out.understood), (Source::Model, true));
    // No model: the parse runs, understood.
    let out = run(None, MissPolicy::Fallback, "turn right");
    assert_eq!((out.source, out.understood), (Source::Fallback, true));
    assert_eq!(steps(&out), Some(vec![Step::Turn { angle_deg: -90.0 }]));
}

const MISS: BudgetOutcome = BudgetOutcome::Missed {
    limit: bora_rt::budget::Limit::FirstToken,
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
    assert!(
        matches!(out.reasons[0], Reason::DisagreedWithParser { .. }),
        "{:?}",
        out.reasons
    );
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
    assert!(
        matches!(out.reasons[0], Reason::ModelOutputRejected { .. }),
        "{:?}",
        out.reasons
    );
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
    assert_eq!(out.reasons, vec![Reason::EmptyCommand]);
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

const DECLINE: &str = r#"{"plan":[]}"#;

#[test]
fn a_model_decline_is_no_motion_from_the_model() {
    for accuracy in [None, Some(0.97)] {
        let out = run_declaring(
            Some(attempt(DECLINE, BudgetOutcome::Met)),
            accuracy,
            MissPolicy::Fallback,
            "what a lovely day",
        );
        assert_eq!(out.plan, None);
        assert_eq!(out.source, Source::Model);
        assert!(
            out.reasons.contains(&Reason::ModelDeclined),
            "{:?}",
            out.reasons
        );
        // Trusted or not, nothing moves; only a trusted model's decline counts as
        // understood (an untrusted one still raises the not-understood event).
        assert_eq!(out.understood, accuracy.is_some());
    }
}

#[test]
fn a_decline_of_a_command_the_parser_understood_is_a_disagreement() {
    let out = run(
        Some(attempt(DECLINE, BudgetOutcome::Met)),
        MissPolicy::Fallback,
        "turn left",
    );
    assert_eq!(out.source, Source::Fallback);
    assert_eq!(steps(&out), Some(vec![Step::Turn { angle_deg: 90.0 }]));
    assert!(matches!(
        out.reasons.first(),
        Some(Reason::DisagreedWithParser { plan }) if plan == DECLINE
    ));
}

#[test]
fn every_interpretation_says_whether_model_and_parser_agreed() {
    let met = |text: &str| Some(attempt(text, BudgetOutcome::Met));
    let cases = [
        (met(DRIVE), "move forward one meter", Agreement::Agreed),
        (met(DRIVE), "turn left", Agreement::Disagreed),
        (met(DRIVE), "thank you", Agreement::ModelOnly),
        (met("{\"plan\":[{"), "turn left", Agreement::ParserOnly),
        (None, "turn left", Agreement::ParserOnly),
        (None, "thank you", Agreement::Neither),
        (met(DRIVE), "stop", Agreement::NotCompared),
        (met(DRIVE), "   ", Agreement::NotCompared),
    ];
    for (model, command, want) in cases {
        let out = run(model, MissPolicy::Fallback, command);
        assert_eq!(out.agreement, want, "{command:?}: {:?}", out.reasons);
        let report = crate::PlanReport::interpreted(&out, 1);
        assert_eq!(report.agreement, want);
    }
}

#[test]
fn a_trusted_model_overrules_the_parser_and_an_untrusted_one_does_not() {
    let drive = || Some(attempt(DRIVE, BudgetOutcome::Met));
    let trusted = run_declaring(drive(), Some(0.97), MissPolicy::Fallback, "turn left");
    assert_eq!(steps(&trusted), Some(vec![Step::Move { distance_m: 1.0 }]));
    assert_eq!((trusted.source, trusted.understood), (Source::Model, true));
    assert_eq!(trusted.agreement, Agreement::Disagreed);
    let untrusted = run_declaring(drive(), Some(0.9), MissPolicy::Fallback, "turn left");
    assert_eq!(
        steps(&untrusted),
        Some(vec![Step::Turn { angle_deg: 90.0 }])
    );
    assert_eq!(untrusted.source, Source::Fallback);

    // A trusted model's decline of a command the parser reads stands: no motion.
    let decline = Some(attempt(DECLINE, BudgetOutcome::Met));
    let out = run_declaring(decline, Some(0.97), MissPolicy::Fallback, "turn left");
    assert_eq!((out.plan.is_none(), out.source), (true, Source::Model));
    // Invalid output from a trusted model still falls back to the parser.
    let broken = Some(attempt("{\"plan\":[{", BudgetOutcome::Met));
    let out = run_declaring(broken, Some(0.97), MissPolicy::Fallback, "turn left");
    assert_eq!(out.source, Source::Fallback);
}
