//! The deterministic fallback parser turns common English phrasings (digits or number
//! words, units, sequences) into the expected plan, and refuses what it cannot read with
//! a reason instead of guessing or clamping.

use bora_agent::{parse_command, AgentError, Limits, NotUnderstood, Step};

fn mv(distance_m: f64) -> Step {
    Step::Move { distance_m }
}
fn turn(angle_deg: f64) -> Step {
    Step::Turn { angle_deg }
}
fn wait(seconds: f64) -> Step {
    Step::Wait { seconds }
}
fn stop() -> Step {
    Step::Stop {}
}
fn say(text: &str) -> Step {
    Step::say(text).unwrap()
}

fn close(a: &Step, b: &Step) -> bool {
    let near = |x: f64, y: f64| (x - y).abs() < 1e-9;
    match (a, b) {
        (Step::Move { distance_m: x }, Step::Move { distance_m: y }) => near(*x, *y),
        (Step::Turn { angle_deg: x }, Step::Turn { angle_deg: y }) => near(*x, *y),
        (Step::Wait { seconds: x }, Step::Wait { seconds: y }) => near(*x, *y),
        _ => a == b,
    }
}

#[test]
fn table_of_phrasings() {
    let table: Vec<(&str, Vec<Step>)> = vec![
        // Moves: directions, digits, units.
        ("move forward 1 meter", vec![mv(1.0)]),
        ("Move forward 2 meters.", vec![mv(2.0)]),
        ("go ahead 1.5m", vec![mv(1.5)]),
        ("drive forwards 30 cm", vec![mv(0.3)]),
        ("move back 0.5 metres", vec![mv(-0.5)]),
        ("go backwards 2 m", vec![mv(-2.0)]),
        ("reverse 50 centimeters", vec![mv(-0.5)]),
        ("back up 20cm", vec![mv(-0.2)]),
        ("go forward 2 yards", vec![mv(1.8288)]),
        ("back up a yard", vec![mv(-0.9144)]),
        ("drive 3 yd then turn left", vec![mv(2.7432), turn(90.0)]),
        ("move -0.5 m", vec![mv(-0.5)]),
        ("walk straight 3 meters", vec![mv(3.0)]),
        ("move forward 2", vec![mv(2.0)]),
        ("please move forward 250 millimeters", vec![mv(0.25)]),
        // Word numbers.
        ("move forward one meter", vec![mv(1.0)]),
        ("go forward two point five meters", vec![mv(2.5)]),
        ("drive forward one and a half meters", vec![mv(1.5)]),
        ("move ahead a meter and a half", vec![mv(1.5)]),
        ("go back half a meter", vec![mv(-0.5)]),
        ("move forward a meter", vec![mv(1.0)]),
        ("move forward seventy five centimeters", vec![mv(0.75)]),
        ("go forward point five meters", vec![mv(0.5)]),
        ("move backward twenty centimetres", vec![mv(-0.2)]),
        // Turns.
        ("turn left", vec![turn(90.0)]),
        ("turn right", vec![turn(-90.0)]),
        ("Turn around!", vec![turn(180.0)]),
        ("turn left 45 degrees", vec![turn(45.0)]),
        ("turn 30 degrees to the right", vec![turn(-30.0)]),
        ("rotate 90 degrees clockwise", vec![turn(-90.0)]),
        ("rotate counterclockwise 45 deg", vec![turn(45.0)]),
        ("spin anti-clockwise ninety degrees", vec![turn(90.0)]),
        ("rotate counter clockwise 10°", vec![turn(10.0)]),
        ("turn one hundred and eighty degrees", vec![turn(180.0)]),
        ("turn right forty-five degrees", vec![turn(-45.0)]),
        ("turn 90", vec![turn(90.0)]),
        ("make a quarter turn to the left", vec![turn(90.0)]),
        ("do a half turn", vec![turn(180.0)]),
        ("face right", vec![turn(-90.0)]),
        ("left", vec![turn(90.0)]),
        // Wait, stop, say.
        ("wait 2 seconds", vec![wait(2.0)]),
        ("pause for three seconds", vec![wait(3.0)]),
        ("wait a second", vec![wait(1.0)]),
        ("wait half a minute", vec![wait(30.0)]),
        ("wait 500 ms", vec![wait(0.5)]),
        ("stop", vec![stop()]),
        ("stand still", vec![stop()]),
        ("say hello there", vec![say("hello there")]),
        ("Say \"Hello, World\"", vec![say("Hello, World")]),
        (
            "say “hi, you” then turn left",
            vec![say("hi, you"), turn(90.0)],
        ),
        // Sequences.
        (
            "move forward one meter then turn left",
            vec![mv(1.0), turn(90.0)],
        ),
        (
            "move forward 1 m and turn right",
            vec![mv(1.0), turn(-90.0)],
        ),
        (
            "turn left and then go forward 2 meters",
            vec![turn(90.0), mv(2.0)],
        ),
        (
            "go forward 1 meter, turn around, then drive forward 1 meter",
            vec![mv(1.0), turn(180.0), mv(1.0)],
        ),
        (
            "move forward two meters, wait three seconds and then move back two meters",
            vec![mv(2.0), wait(3.0), mv(-2.0)],
        ),
        (
            "turn right 90 degrees; move 1.5 m; turn left 90 degrees",
            vec![turn(-90.0), mv(1.5), turn(90.0)],
        ),
        (
            "go forward 1 m then say I am here and wave",
            vec![mv(1.0), say("I am here and wave")],
        ),
        ("say hi then turn left", vec![say("hi"), turn(90.0)]),
        ("go left 2 meters", vec![turn(90.0), mv(2.0)]),
        (
            "move forward 1 meter. after that turn right",
            vec![mv(1.0), turn(-90.0)],
        ),
        ("move forward 1 meter then stop", vec![mv(1.0), stop()]),
    ];
    assert!(table.len() >= 40);
    let limits = Limits::default();
    let mut failures = Vec::new();
    for (command, expected) in table {
        match parse_command(command, &limits) {
            Ok(plan) => {
                let got = plan.steps();
                if !(got.len() == expected.len()
                    && got.iter().zip(&expected).all(|(a, b)| close(a, b)))
                {
                    failures.push(format!("{command:?}: got {got:?}, expected {expected:?}"));
                }
            }
            Err(e) => failures.push(format!("{command:?}: {e}")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

fn reason(command: &str) -> NotUnderstood {
    match parse_command(command, &Limits::default()) {
        Err(AgentError::NotUnderstood { reason, .. }) => reason,
        other => panic!("{command:?} should not parse, got {other:?}"),
    }
}

#[test]
fn unreadable_commands_are_refused_with_a_reason() {
    assert_eq!(reason("dance for me"), NotUnderstood::NoAction);
    assert_eq!(reason("hello"), NotUnderstood::NoAction);
    assert_eq!(reason("move forward"), NotUnderstood::MissingDistance);
    assert_eq!(reason("wait"), NotUnderstood::MissingDuration);
    assert_eq!(reason("turn"), NotUnderstood::MissingAngle);
    assert_eq!(reason("turn 2 meters"), NotUnderstood::WrongUnit);
    assert_eq!(
        reason("move forward for 3 seconds"),
        NotUnderstood::WrongUnit
    );
    assert_eq!(reason("wait 2 meters"), NotUnderstood::WrongUnit);
    assert_eq!(
        reason("move forward 2 meters 3 meters"),
        NotUnderstood::Ambiguous
    );
    assert_eq!(reason("turn left right"), NotUnderstood::Ambiguous);
    assert_eq!(reason("go forward backwards 1 m"), NotUnderstood::Ambiguous);
    assert_eq!(reason("say"), NotUnderstood::MissingText);
    assert_eq!(
        reason("do not move forward 1 meter"),
        NotUnderstood::Unsupported
    );
    assert_eq!(reason("turn left twice"), NotUnderstood::Unsupported);
    assert_eq!(
        reason("move forward until the wall"),
        NotUnderstood::Unsupported
    );
}

#[test]
fn one_bad_clause_rejects_the_whole_command() {
    let err = parse_command("move forward 1 meter then dance", &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        AgentError::NotUnderstood {
            command: "move forward 1 meter then dance".into(),
            clause: "dance".into(),
            reason: NotUnderstood::NoAction,
        }
    );
}

#[test]
fn empty_commands_are_refused() {
    for command in ["", "   ", "?!"] {
        assert!(
            matches!(
                parse_command(command, &Limits::default()),
                Err(AgentError::EmptyCommand { .. } | AgentError::NotUnderstood { .. })
            ),
            "{command:?}"
        );
    }
    assert!(matches!(
        parse_command("please", &Limits::default()),
        Err(AgentError::NotUnderstood {
            reason: NotUnderstood::NoAction,
            ..
        })
    ));
}

#[test]
fn out_of_range_results_are_errors_never_clamped() {
    let limits = Limits::default();
    assert!(matches!(
        parse_command("move forward 6 meters", &limits),
        Err(AgentError::OutOfRange { field: "distance_m", value, .. }) if value == 6.0
    ));
    assert!(matches!(
        parse_command("turn left 400 degrees", &limits),
        Err(AgentError::OutOfRange {
            field: "angle_deg",
            ..
        })
    ));
    assert!(matches!(
        parse_command("wait one minute", &limits),
        Err(AgentError::OutOfRange { field: "seconds", value, .. }) if value == 60.0
    ));
    let nine = ["turn left"; 9].join(" then ");
    assert!(matches!(
        parse_command(&nine, &limits),
        Err(AgentError::StepCount { count: 9, .. })
    ));
}

#[test]
fn arbitrary_text_never_panics() {
    // Pieces that stress the lexer: signs, dots, quotes, multi-byte letters, units glued
    // to numbers, number words, separators.
    const PIECES: [&str; 24] = [
        "move",
        "turn",
        "say",
        "\"",
        "“",
        "”",
        "-",
        ".",
        "..",
        "-.5",
        "1.",
        "°",
        "ü",
        "日本",
        "and a half",
        "point",
        "hundred",
        "a",
        ",",
        "then",
        "2m",
        "  ",
        "'",
        "stop",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let limits = Limits::default();
    for _ in 0..20_000 {
        let mut text = String::new();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = state % 12;
        for k in 0..len {
            let pick = (state >> (k * 5)) as usize % PIECES.len();
            text.push_str(PIECES[pick]);
            if (state >> k) & 1 == 1 {
                text.push(' ');
            }
        }
        // Ok or a typed error; the point is that it returns.
        let _ = parse_command(&text, &limits);
    }
}

/// Statements and questions that mention motion are not commands: the robot drove 1 m on
/// "I'll be right back" before. (Sentences from the dev split, models/data/intents.)
#[test]
fn statements_and_questions_about_motion_are_not_commands() {
    for sentence in [
        "the man in the red coat turned 90 degrees by accident",
        "the living room is to your left",
        "my friend spun around yesterday",
        "The taxi turned around last night.",
        "how many feet is 3 meters",
        "I'll be right back.",
    ] {
        assert_eq!(reason(sentence), NotUnderstood::NotImperative, "{sentence}");
    }
    // Filler and politeness before what to do still reads as a command.
    for command in [
        "um, turn left",
        "swivel 75 degrees to your left",
        "so could you please move forward 2 meters",
        "okay robot, now turn right",
        "let's go back 1 meter",
        "2 meters forward please",
    ] {
        assert!(
            parse_command(command, &Limits::default()).is_ok(),
            "{command} should parse"
        );
    }
}
