//! The short plan form's JSON Schema compiles in llguidance and lets through what the
//! tuned model is trained to write (every training line's "short" key is rendered the same
//! way), while numbers beyond the limits in the spoken unit, unknown keys and an out-of-range
//! repeat count cannot be written.

use bora_agent::{expand_short, short_from_plan, short_written, Limits, Plan};
mod common;
use common::{matcher, writes};
use llguidance::Matcher;

/// A fresh matcher for the short schema under `limits`.
fn short_matcher(limits: &Limits) -> Matcher {
    matcher(limits.short_schema())
}

/// True when the decoder could produce exactly `text` under `limits`.
fn accepts(limits: &Limits, text: &str) -> bool {
    writes(&short_matcher(limits), text)
}

#[test]
fn decoder_writes_the_short_forms_training_uses() {
    let limits = Limits::default();
    for text in [
        r#"{"plan":[{"move_ft":3}]}"#,
        r#"{"plan":[{"move_cm":-30},{"turn_deg":90}]}"#,
        r#"{"plan":[{"move_m":1.5},{"turn_deg":-120}],"times":3}"#,
        r#"{"plan":[{"say":" hello"},{"wait_s":0.5}],"times":2}"#,
        r#"{"plan":[{"move_m":1},{"turn_deg":90},{"move_m":2},{"turn_deg":90}],"times":2}"#,
        r#"{"plan":[{"move_m":1},{"turn_deg":90}],"times":4}"#,
        r#"{"plan":[{"turn_deg":45}],"times":8}"#,
        r#"{"plan":[{"move_in":195.8},{"move_yd":-4.5},{"move_mm":5000},{"stop":true}]}"#,
        r#"{"plan":[{"move_ft":15.9},{"move_ft":16},{"move_in":19.6},{"move_yd":5}]}"#,
        r#"{"plan":[{"move_ft":9,"move_in":7},{"move_m":-3,"move_cm":-55}]}"#,
        r#"{"plan":[{"move_ft":0,"move_in":-7},{"move_m":4,"move_cm":70}],"times":2}"#,
        r#"{"plan":[]}"#,
        // The longest say text, after the space the short form writes before it.
        &format!(
            r#"{{"plan":[{{"say":" {}"}}]}}"#,
            "a".repeat(limits.max_say_chars)
        ),
    ] {
        assert!(accepts(&limits, text), "{text}");
        let plan = expand_short(text).unwrap();
        if !plan.steps.is_empty() {
            limits.validate(plan).unwrap();
        }
    }
}

#[test]
fn decoder_cannot_write_beyond_the_limits_in_any_unit() {
    let limits = Limits::default();
    for text in [
        r#"{"plan":[{"move_ft":16.1}]}"#,
        r#"{"plan":[{"move_cm":-501}]}"#,
        r#"{"plan":[{"turn_deg":361}]}"#,
        r#"{"plan":[{"wait_s":31}]}"#,
        r#"{"plan":[{"move_m":1}],"times":9}"#,
        r#"{"plan":[{"move_m":1}],"times":1}"#,
        r#"{"plan":[{"move_m":1},{"turn_deg":-90},{"move_m":1},{"turn_deg":-90}],"times":4}"#,
        r#"{"plan":[{"move_m":1},{"turn_deg":90},{"wait_s":1}],"times":3}"#,
        r#"{"plan":[],"times":2}"#,
        r#"{"plan":[{"move_km":1}]}"#,
        r#"{"plan":[{"stop":false}]}"#,
        r#"{"plan":[{"move_m":1,"turn_deg":90}]}"#,
        // Two-unit distances: one sign, the small part under its unit, keys in order.
        r#"{"plan":[{"move_m":4,"move_cm":-4}]}"#,
        r#"{"plan":[{"move_ft":-9,"move_in":7}]}"#,
        r#"{"plan":[{"move_ft":9,"move_in":12}]}"#,
        r#"{"plan":[{"move_m":3,"move_cm":100}]}"#,
        r#"{"plan":[{"move_in":7,"move_ft":9}]}"#,
        r#"{"plan":[{"move_yd":1,"move_ft":2}]}"#,
    ] {
        assert!(!accepts(&limits, text), "{text}");
    }
}

#[test]
fn a_parsers_plan_drafted_in_short_form_is_writable() {
    let limits = Limits::default();
    let plan = Plan::from_json(
        r#"{"plan":[{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":90.0},{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":90.0}]}"#,
    )
    .unwrap();
    let short = short_from_plan(&plan);
    assert_eq!(
        short,
        r#"{"plan":[{"move_m":2},{"turn_deg":90}],"times":2}"#
    );
    assert!(accepts(&limits, &short));
}

/// Every training and dev target (a line's "short" key) is one the decoder can write, and
/// it expands to a plan that validates: the model is never trained toward a reply the
/// grammar would cut.
#[test]
fn every_training_target_is_writable() {
    let limits = Limits::default();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/data/intents");
    let start = short_matcher(&limits);
    let mut checked = 0;
    for file in ["train.jsonl", "dev.jsonl", "dev_copy.jsonl"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for (i, line) in text.lines().enumerate() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            // As `bora tune` trains on it: say texts after the short form's space.
            let short = short_written(&value["short"].to_string()).unwrap();
            assert!(writes(&start, &short), "{file}:{}: {short}", i + 1);
            let plan = expand_short(&short).unwrap();
            if !plan.steps.is_empty() {
                limits.validate(plan).unwrap();
            }
            checked += 1;
        }
    }
    assert!(checked >= 3300, "only {checked} lines read");
}
