//! The intent schema: plans round-trip through JSON unchanged, and validation rejects
//! every out-of-range, non-finite or malformed plan with an error naming the step, field,
//! value and limit.

use bora_agent::intent::{MAX_PLAN_STEPS, MAX_SAY_CHARS};
use bora_agent::{Action, AgentError, Limits, Plan, Step};

fn every_action_plan() -> Plan {
    Plan::new(vec![
        Step::Move { distance_m: -0.5 },
        Step::Turn { angle_deg: 90.0 },
        Step::Wait { seconds: 2.5 },
        Step::Stop {},
        Step::say("héllo \"robot\"\n").unwrap(),
    ])
    .unwrap()
}

#[test]
fn every_action_round_trips_through_json() {
    let plan = every_action_plan();
    let json = plan.to_json().unwrap();
    assert_eq!(Plan::from_json(&json).unwrap(), plan);
    let valid = Limits::default().parse(&json).unwrap();
    assert_eq!(valid.plan(), &plan);
    assert_eq!(valid.steps().len(), 5);
}

#[test]
fn documented_example_parses() {
    let json = r#"{"plan":[{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":90}]}"#;
    let plan = Limits::default().parse(json).unwrap();
    assert_eq!(
        plan.steps(),
        [
            Step::Move { distance_m: 2.0 },
            Step::Turn { angle_deg: 90.0 }
        ]
    );
    assert_eq!(
        plan.plan().to_json().unwrap(),
        r#"{"plan":[{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":90.0}]}"#
    );
}

#[test]
fn malformed_json_is_rejected() {
    for bad in [
        r#"{"plan":[{"action":"move","distance_m":1.0,"speed":2}]}"#, // unknown field
        r#"{"plan":[{"action":"stop","distance_m":1.0}]}"#,           // field of another action
        r#"{"plan":[{"action":"fly","height_m":1.0}]}"#,              // unknown action
        r#"{"plan":[{"action":"move"}]}"#,                            // missing field
        r#"{"plan":[{"action":"move","distance_m":"1"}]}"#,           // wrong type
        r#"{"plan":[{"distance_m":1.0}]}"#,                           // no action
        r#"{"plan":[],"extra":1}"#,                                   // unknown top-level key
        r#"{"steps":[{"action":"stop"}]}"#,                           // wrong top-level key
        r#"[{"action":"stop"}]"#,                                     // not an object
        r#"{"plan":[{"action":"move","distance_m":1.0}"#,             // truncated
    ] {
        match Plan::from_json(bad) {
            Err(AgentError::IntentJson { .. }) => {}
            other => panic!("{bad} should be rejected, got {other:?}"),
        }
    }
}

#[test]
fn out_of_range_values_name_step_field_value_and_limit() {
    let limits = Limits::default();
    let plan = Plan::new(vec![Step::Stop {}, Step::Move { distance_m: -5.5 }]).unwrap();
    assert_eq!(
        limits.validate(plan).unwrap_err(),
        AgentError::OutOfRange {
            step: 1,
            action: "move",
            field: "distance_m",
            value: -5.5,
            min: -5.0,
            max: 5.0,
            unit: "m",
        }
    );
    let cases = [
        (Step::Turn { angle_deg: 360.5 }, "angle_deg", 360.0),
        (Step::Wait { seconds: 30.01 }, "seconds", 30.0),
        (Step::Wait { seconds: -1.0 }, "seconds", 30.0),
    ];
    for (step, field, limit) in cases {
        match limits.validate(Plan::new(vec![step]).unwrap()) {
            Err(AgentError::OutOfRange {
                step: 0,
                field: f,
                max,
                ..
            }) => {
                assert_eq!(f, field);
                assert_eq!(max, limit);
            }
            other => panic!("expected OutOfRange on {field}, got {other:?}"),
        }
    }
    // The limits themselves are allowed.
    let edge = Plan::new(vec![
        Step::Move { distance_m: 5.0 },
        Step::Turn { angle_deg: -360.0 },
        Step::Wait { seconds: 30.0 },
        Step::say(&"x".repeat(200)).unwrap(),
    ])
    .unwrap();
    assert!(limits.validate(edge).is_ok());
}

#[test]
fn configured_limits_apply() {
    let limits = Limits {
        max_distance_m: 1.0,
        max_steps: 2,
        ..Limits::default()
    }
    .check()
    .unwrap();
    let err = limits
        .validate(Plan::new(vec![Step::Move { distance_m: 1.5 }]).unwrap())
        .unwrap_err();
    assert!(matches!(err, AgentError::OutOfRange { max, .. } if max == 1.0));
    let err = limits
        .validate(Plan::new(vec![Step::Stop {}; 3]).unwrap())
        .unwrap_err();
    assert_eq!(err, AgentError::StepCount { count: 3, max: 2 });
}

#[test]
fn non_finite_numbers_are_rejected() {
    for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = Limits::default()
            .validate(Plan::new(vec![Step::Turn { angle_deg: value }]).unwrap())
            .unwrap_err();
        assert!(
            matches!(
                err,
                AgentError::NotFinite {
                    step: 0,
                    field: "angle_deg",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn step_count_and_text_length_are_limited() {
    let limits = Limits::default();
    assert_eq!(
        limits.validate(Plan::new(vec![]).unwrap()).unwrap_err(),
        AgentError::StepCount { count: 0, max: 8 }
    );
    // A plan holds at most MAX_PLAN_STEPS steps: a ninth is refused when the plan is
    // built, from code or from JSON, with the whole count.
    assert_eq!(
        Plan::new(vec![Step::Stop {}; MAX_PLAN_STEPS + 1]).unwrap_err(),
        AgentError::StepCount { count: 9, max: 8 }
    );
    let nine_json = format!(r#"{{"plan":[{}]}}"#, [r#"{"action":"stop"}"#; 9].join(","));
    match Plan::from_json(&nine_json) {
        Err(AgentError::IntentJson { reason }) => assert!(reason.contains("9 steps"), "{reason}"),
        other => panic!("a nine-step plan should be refused, got {other:?}"),
    }
    // A say text holds at most MAX_SAY_CHARS characters (multi-byte ones count once).
    assert_eq!(
        Step::say(&"é".repeat(MAX_SAY_CHARS + 1)).unwrap_err(),
        AgentError::SayTooLong {
            chars: 201,
            max: 200
        }
    );
    let long_json = format!(
        r#"{{"plan":[{{"action":"say","text":"{}"}}]}}"#,
        "é".repeat(201)
    );
    match Plan::from_json(&long_json) {
        Err(AgentError::IntentJson { reason }) => {
            assert!(reason.contains("201 characters"), "{reason}")
        }
        other => panic!("a 201-character say should be refused, got {other:?}"),
    }
    // Configured lower limits are checked by validation, naming the step.
    let short = Limits {
        max_say_chars: 50,
        ..Limits::default()
    }
    .check()
    .unwrap();
    let long = Plan::new(vec![Step::Stop {}, Step::say(&"é".repeat(51)).unwrap()]).unwrap();
    assert_eq!(
        short.validate(long).unwrap_err(),
        AgentError::TextLength {
            step: 1,
            action: "say",
            field: "text",
            chars: 51,
            max: 50
        }
    );
    let empty = Plan::new(vec![Step::say("").unwrap()]).unwrap();
    assert!(matches!(
        limits.validate(empty),
        Err(AgentError::TextLength { chars: 0, .. })
    ));
}

#[test]
fn error_messages_say_what_is_wrong_with_what() {
    let err = Limits::default()
        .validate(Plan::new(vec![Step::Stop {}, Step::Wait { seconds: 45.0 }]).unwrap())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "plan[1] (wait): seconds = 45 s is outside the allowed range 0..=30 s"
    );
}

#[test]
fn markdown_docs_cover_every_action_and_field_with_its_range() {
    let limits = Limits {
        max_distance_m: 3.0,
        ..Limits::default()
    };
    let md = limits.markdown_table();
    for action in Action::ALL {
        assert!(md.contains(&format!("`{}`", action.name())), "{md}");
        for field in action.fields() {
            assert!(md.contains(&format!("`{}`", field.name())), "{md}");
        }
    }
    assert!(
        md.contains("-3 to 3"),
        "configured distance limit missing:\n{md}"
    );
    assert!(md.contains("-360 to 360"), "{md}");
    assert!(md.contains("0 to 30"), "{md}");
    assert!(md.contains("1 to 200 characters"), "{md}");
}
