//! The intent schema's own checks: serde form against the schema table, the documented
//! JSON form, declines, and the limits' own validation.

use super::*;

fn example_value(field: Field) -> Value {
    match field {
        Field::DistanceM => json!(-1.5),
        Field::AngleDeg => json!(90.0),
        Field::Seconds => json!(2.0),
        Field::Text => json!("hello"),
    }
}

/// The serde derive and the schema table describe the same JSON: a step built from
/// the table parses, and serialises back to exactly the same object.
#[test]
fn serde_form_matches_schema_table_for_every_action() {
    for action in Action::ALL {
        let mut obj = Map::new();
        obj.insert("action".into(), action.name().into());
        for &field in action.fields() {
            obj.insert(field.name().into(), example_value(field));
        }
        let value = Value::Object(obj);
        let step: Step = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(step.action(), action);
        for &field in action.fields() {
            assert!(step.value(field).is_some(), "{action:?} lacks {field:?}");
        }
        assert_eq!(serde_json::to_value(&step).unwrap(), value);
    }
}

#[test]
fn json_form_is_exactly_the_documented_one() {
    let plan = Plan::new(vec![
        Step::Move { distance_m: 2.0 },
        Step::Turn { angle_deg: 90.0 },
    ])
    .unwrap();
    assert_eq!(
        plan.to_json().unwrap(),
        r#"{"plan":[{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":90.0}]}"#
    );
}

#[test]
fn an_empty_plan_is_a_decline_for_the_model_and_an_error_elsewhere() {
    let limits = Limits::default();
    assert_eq!(limits.parse_decision(r#"{"plan":[]}"#).unwrap(), None);
    assert!(matches!(
        limits.parse(r#"{"plan":[]}"#),
        Err(AgentError::StepCount { count: 0, .. })
    ));
    let reply = limits
        .parse_decision(r#"{"plan":[{"action":"say","text":"I only drive"}]}"#)
        .unwrap()
        .unwrap();
    assert!(!reply.has_motion());
    assert!(matches!(
        limits.parse_decision(r#"{"plan":[{"action":"move","distance_m":9.0}]}"#),
        Err(AgentError::OutOfRange { .. })
    ));
}

#[test]
fn limits_check_names_the_bad_field() {
    let bad = Limits {
        max_wait_s: f64::NAN,
        ..Limits::default()
    };
    match bad.check() {
        Err(AgentError::InvalidConfig { field, .. }) => assert_eq!(field, "max_wait_s"),
        other => panic!("expected InvalidConfig, got {other:?}"),
    }
    let bad = Limits {
        max_steps: 9,
        ..Limits::default()
    };
    assert!(matches!(
        bad.check(),
        Err(AgentError::InvalidConfig {
            field: "max_steps",
            ..
        })
    ));
    assert!(Limits::default().check().is_ok());
}
