//! The JSON Schema generated from the intent schema compiles in llguidance (the
//! constrained decoder) and lets through exactly the plans that validate: every action,
//! numbers inside the configured limits, and nothing else.

use bora_agent::{Action, Limits, Plan};
mod common;
use llguidance::Matcher;

/// A matcher for the plan schema under `limits`.
fn matcher(limits: &Limits) -> Matcher {
    common::matcher(limits.json_schema())
}

/// True when the decoder could produce exactly `text` as a complete output.
fn accepts(limits: &Limits, text: &str) -> bool {
    common::writes(&matcher(limits), text)
}

#[test]
fn schema_lists_every_action_with_its_limits() {
    let limits = Limits::default();
    let schema = limits.json_schema();
    let variants = schema["properties"]["plan"]["items"]["anyOf"]
        .as_array()
        .unwrap();
    assert_eq!(variants.len(), Action::ALL.len());
    for (variant, action) in variants.iter().zip(Action::ALL) {
        assert_eq!(variant["properties"]["action"]["const"], action.name());
        assert_eq!(variant["additionalProperties"], false);
        assert_eq!(
            variant["required"].as_array().unwrap().len(),
            1 + action.fields().len()
        );
    }
    assert_eq!(schema["properties"]["plan"]["maxItems"], 8);
    assert_eq!(variants[0]["properties"]["distance_m"]["maximum"], 5.0);
    assert_eq!(variants[0]["properties"]["distance_m"]["minimum"], -5.0);
}

#[test]
fn decoder_accepts_valid_plans() {
    let limits = Limits::default();
    for text in [
        r#"{"plan":[{"action":"move","distance_m":1.0},{"action":"turn","angle_deg":90}]}"#,
        r#"{"plan":[{"action":"move","distance_m":-0.5}]}"#,
        r#"{"plan":[{"action":"turn","angle_deg":-360}]}"#,
        r#"{"plan":[{"action":"wait","seconds":30}]}"#,
        r#"{"plan":[{"action":"stop"}]}"#,
        r#"{"plan":[{"action":"say","text":"hello there"}]}"#,
        r#"{"plan":[{"action":"move","distance_m":5}]}"#,
    ] {
        assert!(accepts(&limits, text), "should accept {text}");
        // And what the decoder accepts, the parser validates.
        assert!(limits.parse(text).is_ok(), "should validate {text}");
    }
}

#[test]
fn decoder_rejects_what_validation_rejects() {
    let limits = Limits::default();
    for text in [
        r#"{"plan":[{"action":"move","distance_m":5.5}]}"#,
        r#"{"plan":[{"action":"move","distance_m":-12}]}"#,
        r#"{"plan":[{"action":"turn","angle_deg":720}]}"#,
        r#"{"plan":[{"action":"wait","seconds":-1}]}"#,
        r#"{"plan":[{"action":"wait","seconds":31}]}"#,
        r#"{"plan":[{"action":"jump","height_m":1}]}"#,
        r#"{"plan":[{"action":"move","distance_m":1,"speed":2}]}"#,
        r#"{"plan":[{"action":"say","text":""}]}"#,
    ] {
        assert!(!accepts(&limits, text), "should reject {text}");
        assert!(limits.parse(text).is_err(), "should not validate {text}");
    }
    let nine = format!(r#"{{"plan":[{}]}}"#, [r#"{"action":"stop"}"#; 9].join(","));
    assert!(!accepts(&limits, &nine));
    let long = format!(
        r#"{{"plan":[{{"action":"say","text":"{}"}}]}}"#,
        "a".repeat(201)
    );
    assert!(!accepts(&limits, &long));
}

#[test]
fn numbers_have_at_most_three_decimals_so_digits_cannot_run_away() {
    // SmolLM2-135M once wrote `99.9999...` until its 64 tokens ran out: an invalid plan.
    let limits = Limits::default();
    assert!(accepts(
        &limits,
        r#"{"plan":[{"action":"move","distance_m":0.914}]}"#
    ));
    assert!(accepts(
        &limits,
        r#"{"plan":[{"action":"turn","angle_deg":-22.5}]}"#
    ));
    let mut m = matcher(&limits);
    let text = r#"{"plan":[{"action":"turn","angle_deg":99.9999"#;
    let tokens: Vec<u32> = text.bytes().map(u32::from).collect();
    let consumed = m.try_consume_tokens(&tokens).unwrap();
    assert_eq!(consumed, tokens.len() - 1, "the fourth decimal is refused");
}

#[test]
fn the_empty_plan_is_the_model_s_decline() {
    // The decoder may write `{"plan":[]}` (not a command, no motion); the model-output
    // parser reads it as a decline, and the plan parser (every other path) refuses it.
    let limits = Limits::default();
    let text = r#"{"plan":[]}"#;
    assert!(accepts(&limits, text));
    assert!(matches!(limits.parse_decision(text), Ok(None)));
    assert!(limits.parse(text).is_err());
}

#[test]
fn configured_limits_reach_the_decoder() {
    let tight = Limits {
        max_distance_m: 1.0,
        max_steps: 2,
        ..Limits::default()
    }
    .check()
    .unwrap();
    assert!(accepts(
        &tight,
        r#"{"plan":[{"action":"move","distance_m":0.75}]}"#
    ));
    assert!(!accepts(
        &tight,
        r#"{"plan":[{"action":"move","distance_m":1.5}]}"#
    ));
    assert!(!accepts(
        &tight,
        r#"{"plan":[{"action":"stop"},{"action":"stop"},{"action":"stop"}]}"#
    ));
}

#[test]
fn serialized_plans_are_decoder_outputs() {
    // What the runtime prints (Plan::to_json) is itself a string the decoder can produce.
    let limits = Limits::default();
    let plan = Plan::from_json(
        r#"{"plan":[{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":-45.5},{"action":"say","text":"done"}]}"#,
    )
    .unwrap();
    assert!(accepts(&limits, &plan.to_json().unwrap()));
}
