use super::*;
use crate::intent::Limits;
use serde_json::{json, Value};

fn full(json: &str) -> String {
    expand_short(json).unwrap().to_json().unwrap()
}

#[test]
fn spoken_units_become_metres_and_times_repeats_the_list() {
    assert_eq!(
        full(r#"{"plan":[{"move_ft":3},{"turn_deg":-90}],"times":2}"#),
        r#"{"plan":[{"action":"move","distance_m":0.9144},{"action":"turn","angle_deg":-90.0},{"action":"move","distance_m":0.9144},{"action":"turn","angle_deg":-90.0}]}"#
    );
    assert_eq!(
        full(r#"{"plan":[{"move_cm":-30},{"wait_s":2},{"say":"hi"},{"stop":true}]}"#),
        r#"{"plan":[{"action":"move","distance_m":-0.3},{"action":"wait","seconds":2.0},{"action":"say","text":"hi"},{"action":"stop"}]}"#
    );
    assert_eq!(full(r#"{"plan":[]}"#), r#"{"plan":[]}"#);
}

#[test]
fn a_say_text_is_written_after_one_space_that_the_expansion_drops() {
    let plan = Plan::from_json(r#"{"plan":[{"action":"say","text":"demo complete"}]}"#).unwrap();
    let short = short_from_plan(&plan);
    assert_eq!(short, r#"{"plan":[{"say":" demo complete"}]}"#);
    assert_eq!(expand_short(&short).unwrap(), plan);
    // Only the lead is dropped: a text without it (an older adapter) still reads as is.
    assert_eq!(
        full(r#"{"plan":[{"say":"  two"}]}"#),
        r#"{"plan":[{"action":"say","text":" two"}]}"#
    );
    assert_eq!(
        expand_short(r#"{"plan":[{"say":"hi"}]}"#).unwrap(),
        expand_short(r#"{"plan":[{"say":" hi"}]}"#).unwrap()
    );
    let err = expand_short(r#"{"plan":[{"say":" "}]}"#).unwrap_err();
    assert!(err.to_string().contains("needs words"), "{err}");
    assert_eq!(
        short_written(r#"{"plan":[{"say":"hi"},{"wait_s":1}],"times":2}"#).unwrap(),
        r#"{"plan":[{"say":" hi"},{"wait_s":1}],"times":2}"#
    );
}

#[test]
fn a_short_reply_that_does_not_expand_is_named_as_short() {
    let limits = Limits::default();
    let reply = r#"{"plan":[{"move_km":1}]}"#;
    let full = limits.parse_decision(reply).unwrap_err();
    assert!(full.to_string().contains("action"), "{full}");
    let err = reply_error(reply, full).to_string();
    assert!(
        err.contains("short form") && err.contains("move_km"),
        "{err}"
    );
    // A full-form reply keeps its own error.
    let reply = r#"{"plan":[{"action":"fly"}]}"#;
    let full = limits.parse_decision(reply).unwrap_err();
    assert_eq!(reply_error(reply, full.clone()), full);
}

#[test]
fn a_two_unit_distance_is_summed_in_code() {
    assert_eq!(
        full(r#"{"plan":[{"move_ft":9,"move_in":7}]}"#),
        r#"{"plan":[{"action":"move","distance_m":2.921}]}"#
    );
    assert_eq!(
        full(r#"{"plan":[{"move_m":-3,"move_cm":-55}]}"#),
        r#"{"plan":[{"action":"move","distance_m":-3.55}]}"#
    );
    assert_eq!(
        full(r#"{"plan":[{"move_ft":0,"move_in":7}]}"#),
        r#"{"plan":[{"action":"move","distance_m":0.1778}]}"#
    );
    let schema = Limits::default().short_schema();
    let pair = schema["$defs"]["step"]["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["required"] == json!(["move_ft", "move_in"]))
        .expect("a feet-and-inches step in the grammar");
    assert_eq!(pair["properties"]["move_ft"]["maximum"], 16.0);
    assert_eq!(pair["properties"]["move_in"]["maximum"], 11.0);
}

#[test]
fn bad_short_forms_are_named_errors() {
    for (json, needle) in [
        (r#"{"plan":[{"move_km":1}]}"#, "unknown short-form step"),
        (
            r#"{"plan":[{"move_m":1,"turn_deg":2}]}"#,
            "distance in two units",
        ),
        (
            r#"{"plan":[{"move_m":1,"turn_deg":2,"wait_s":1}]}"#,
            "one-key object",
        ),
        (r#"{"plan":[{"move_ft":9,"move_in":-7}]}"#, "one sign"),
        (r#"{"plan":[{"move_ft":9,"move_in":14}]}"#, "at most 11"),
        (r#"{"plan":[{"move_m":"1"}]}"#, "needs a number"),
        (r#"{"plan":[{"move_m":1}],"times":9}"#, "integer 2 to 8"),
        (r#"{"plan":[{"stop":false}]}"#, "unknown short-form step"),
        (r#"{"plan":[],"repeat":2}"#, "unknown key"),
        ("[1]", "JSON object"),
    ] {
        let err = expand_short(json).unwrap_err().to_string();
        assert!(err.contains(needle), "{json}: {err}");
    }
    let err = expand_short(r#"{"plan":[{"move_m":1},{"turn_deg":90},{"wait_s":1}],"times":3}"#);
    assert!(
        matches!(err, Err(AgentError::StepCount { count: 9, .. })),
        "{err:?}"
    );
}

#[test]
fn a_plan_written_short_expands_to_itself() {
    let limits = Limits::default();
    for json in [
        r#"{"plan":[{"action":"move","distance_m":1.5},{"action":"turn","angle_deg":90.0},{"action":"move","distance_m":1.5},{"action":"turn","angle_deg":90.0}]}"#,
        r#"{"plan":[{"action":"say","text":"a \"quoted\" word"},{"action":"wait","seconds":0.25}]}"#,
        r#"{"plan":[{"action":"move","distance_m":0.9144}]}"#,
    ] {
        let plan = Plan::from_json(json).unwrap();
        let short = short_from_plan(&plan);
        assert_eq!(expand_short(&short).unwrap(), plan, "{short}");
        limits.validate(expand_short(&short).unwrap()).unwrap();
    }
    let square = Plan::from_json(
        r#"{"plan":[{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":-90.0},{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":-90.0}]}"#,
    )
    .unwrap();
    assert_eq!(
        short_from_plan(&square),
        r#"{"plan":[{"move_m":2},{"turn_deg":-90}],"times":2}"#
    );
}

#[test]
fn the_short_schema_bounds_each_unit_by_the_distance_limit() {
    let schema = Limits::default().short_schema();
    let steps = schema["$defs"]["step"]["anyOf"].as_array().unwrap();
    let ft = steps
        .iter()
        .find(|s| s["properties"].get("move_ft").is_some())
        .unwrap();
    let max = ft["properties"]["move_ft"]["maximum"].as_f64().unwrap();
    assert_eq!(max, 16.0);
    let forms: Vec<(u64, Value)> = schema["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let max = f["properties"]["plan"]["maxItems"].as_u64().unwrap();
            (
                max,
                f["properties"]
                    .get("times")
                    .map_or(Value::Null, |t| t["enum"].clone()),
            )
        })
        .collect();
    assert_eq!(
        forms,
        [
            (8, Value::Null),
            (4, json!([2])),
            (2, json!([3, 4])),
            (1, json!([5, 6, 7, 8]))
        ]
    );
    assert_eq!("short".parse::<PlanForm>().unwrap(), PlanForm::Short);
    assert!("long".parse::<PlanForm>().is_err());
}

#[test]
fn a_draft_names_distances_in_the_unit_the_command_spoke() {
    let plan = |json: &str| Plan::from_json(json).unwrap();
    let cm = plan(r#"{"plan":[{"action":"move","distance_m":0.2}]}"#);
    assert_eq!(
        short_from_plan_spoken(&cm, "move forward 20 centimeters"),
        r#"{"plan":[{"move_cm":20}]}"#
    );
    let ft = plan(
        r#"{"plan":[{"action":"move","distance_m":-0.9144},{"action":"turn","angle_deg":90.0}]}"#,
    );
    assert_eq!(
        short_from_plan_spoken(&ft, "back up 3 feet and turn left"),
        r#"{"plan":[{"move_ft":-3},{"turn_deg":90}]}"#
    );
    // Two units, metres only, "in" as a preposition: metres.
    let one = plan(r#"{"plan":[{"action":"move","distance_m":1.0}]}"#);
    for command in ["go 1 meter and 0 cm", "move 1 m", "drive 1 meter in a line"] {
        assert_eq!(
            short_from_plan_spoken(&one, command),
            r#"{"plan":[{"move_m":1}]}"#
        );
    }
    assert_eq!(
        short_from_plan_spoken(&one, "go forward 40 in"),
        r#"{"plan":[{"move_m":1}]}"#,
        "1 m is not a whole number of thousandths of an inch"
    );
}
