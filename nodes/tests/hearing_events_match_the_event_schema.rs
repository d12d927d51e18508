//! Every kind of hearing event on `agent/events` is valid against
//! nodes/schema/event.schema.json and reads back into the same typed report; a wrong
//! field is refused.

use std::path::Path;

use bora_pipeline::{HearingEvent, HearingReport};
use serde_json::Value;

fn schema(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("schema file in the repository");
    serde_json::from_str(&text).expect("schema is JSON")
}

fn validator() -> jsonschema::Validator {
    let resource = jsonschema::Resource::from_contents(schema("plan.schema.json")).expect("res");
    jsonschema::options()
        .with_resource("https://bora.invalid/schema/plan.schema.json", resource)
        .build(&schema("event.schema.json"))
        .expect("event schema")
}

fn every_kind() -> Vec<HearingEvent> {
    vec![
        HearingEvent::Heard {
            text: "Drive forward one meter.".into(),
            audio_s: 2.1,
            recognition_ms: 1450.0,
            speech_end_to_text_ms: 1980.0,
        },
        HearingEvent::NothingHeard {
            audio_s: 1.0,
            recognition_ms: 900.0,
        },
        HearingEvent::UtteranceTooLong {
            limit_s: 10.0,
            reason: "speech went on past 10.0 s".into(),
        },
        HearingEvent::HearingBudgetMissed {
            text: "turn left".into(),
            limit_ms: 1000.0,
            observed_ms: 2500.0,
        },
        HearingEvent::AudioRejected {
            reason: "audio message with no samples".into(),
        },
    ]
}

#[test]
fn every_hearing_event_is_valid_and_reads_back() {
    let v = validator();
    for event in every_kind() {
        let report = HearingReport { event, t_s: 12.5 };
        let json: Value = serde_json::to_value(&report).expect("serialises");
        let errors: Vec<String> = v.iter_errors(&json).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{json}: {errors:?}");
        let back: HearingReport = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, report);
    }
}

#[test]
fn a_hearing_event_with_a_missing_or_extra_field_is_invalid() {
    let v = validator();
    let mut json = serde_json::json!({"event": "heard", "t_s": 1.0, "text": "go",
        "audio_s": 1.0, "recognition_ms": 1.0, "speech_end_to_text_ms": 1.0});
    assert!(v.is_valid(&json));
    json["extra"] = 1.into();
    assert!(!v.is_valid(&json));
    let missing = serde_json::json!({"event": "utterance_too_long", "t_s": 1.0});
    assert!(!v.is_valid(&missing));
}
