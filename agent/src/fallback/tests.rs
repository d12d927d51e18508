use super::*;

fn said(command: &str) -> Vec<Step> {
    parse_command(command, &Limits::default())
        .unwrap()
        .steps()
        .to_vec()
}

#[test]
fn say_text_starts_after_its_lead_in() {
    for command in [
        "say: gizmo is ready",
        "say out loud gizmo is ready",
        "Say aloud: 'gizmo is ready'",
        "speak the words \"gizmo is ready\"",
        "shout gizmo is ready",
    ] {
        assert_eq!(
            said(command),
            [Step::say("gizmo is ready").unwrap()],
            "{command}"
        );
    }
    // A lead-in word that starts the text itself stays.
    assert_eq!(said("say aloudly"), [Step::say("aloudly").unwrap()]);
    assert_eq!(
        said("say: hi, then turn left"),
        [Step::say("hi").unwrap(), Step::Turn { angle_deg: 90.0 }]
    );
}

#[test]
fn lexer_keeps_byte_spans_of_non_ascii_text() {
    let plan = parse_command("say \"Grüße!\" then turn left", &Limits::default()).unwrap();
    assert_eq!(
        plan.steps(),
        [Step::say("Grüße!").unwrap(), Step::Turn { angle_deg: 90.0 }]
    );
}
