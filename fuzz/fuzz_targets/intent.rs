//! Text through the fallback command parser and the intent-plan JSON parser: either a
//! typed error, or a plan that is within the limits it was validated against.
#![no_main]

use bora_runtime::agent::intent::FieldValue;
use bora_runtime::agent::{parse_command, Limits, ValidPlan};
use libfuzzer_sys::fuzz_target;

/// Every step of `plan` obeys `limits` (what the planner relies on).
fn assert_within(plan: &ValidPlan, limits: &Limits, input: &str) {
    let steps = plan.steps();
    assert!(
        !steps.is_empty() && steps.len() <= limits.max_steps,
        "{} steps from {input:?}",
        steps.len()
    );
    for step in steps {
        for &field in step.action().fields() {
            let (min, max) = field.range(limits);
            match step.value(field) {
                Some(FieldValue::Number(v)) => assert!(
                    v.is_finite() && v >= min && v <= max,
                    "{field:?} = {v} outside [{min}, {max}] from {input:?}"
                ),
                Some(FieldValue::Text(t)) => {
                    let n = t.chars().count();
                    assert!(
                        n >= 1 && n <= limits.max_say_chars,
                        "say of {n} chars from {input:?}"
                    );
                }
                None => panic!("{field:?} missing from a validated {step:?}"),
            }
        }
    }
    // A validated plan serialises and parses back to itself.
    let json = plan.plan().to_json().expect("a valid plan serialises");
    let again = limits.parse(&json).expect("a valid plan's JSON validates");
    assert_eq!(
        again.plan(),
        plan.plan(),
        "JSON round trip changed the plan"
    );
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The shipped defaults, and tight limits so range checks are hit more often.
    let tight = Limits {
        max_distance_m: 1.0,
        max_angle_deg: 45.0,
        max_wait_s: 2.0,
        max_say_chars: 5,
        max_steps: 2,
    };
    for limits in [Limits::default(), tight] {
        if let Ok(plan) = parse_command(text, &limits) {
            assert_within(&plan, &limits, text);
        }
        if let Ok(plan) = limits.parse(text) {
            assert_within(&plan, &limits, text);
        }
    }
});
