//! The reflex stop: a command that contains "stop", "halt" or "freeze" as a whole word
//! (any case) bypasses the language model and halts the robot within one planner tick.
//!
//! The check is a single pass over the characters with no allocation (about 0.2 µs for
//! a 60-character command, benches/agent.rs), so it runs on the command path before
//! anything else. A word is a maximal run of alphanumeric
//! characters: "STOP!!!", "please halt" and "e-stop" match; "stopwatch", "unfreeze" and
//! "nonstop" do not. It errs on the side of stopping: "don't stop" stops too.

/// The words that trigger a reflex stop, lowercase.
pub const REFLEX_WORDS: [&str; 3] = ["stop", "halt", "freeze"];

/// True when `command` contains a reflex word as a whole word, in any case.
pub fn is_reflex_stop(command: &str) -> bool {
    let mut start: Option<usize> = None;
    for (i, c) in command.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            if is_reflex_word(&command[s..i]) {
                return true;
            }
        }
    }
    match start {
        Some(s) => is_reflex_word(&command[s..]),
        None => false,
    }
}

fn is_reflex_word(word: &str) -> bool {
    REFLEX_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_in_any_case_trigger() {
        for text in [
            "stop",
            "STOP!!!",
            "Stop.",
            "please halt",
            "HALT now",
            "freeze",
            "robot, FrEeZe!",
            "e-stop",
            "move forward then stop",
            "  stop  ",
            "stop\n",
            "ok\u{a0}stop",
        ] {
            assert!(is_reflex_stop(text), "{text:?} should stop");
        }
    }

    #[test]
    fn other_words_do_not_trigger() {
        for text in [
            "",
            "stopwatch",
            "unfreeze the arm",
            "nonstop",
            "halting",
            "stops",
            "move forward 2 meters",
            "turn left",
            "frozen",
            "stöp",
            "stop2",
        ] {
            assert!(!is_reflex_stop(text), "{text:?} should not stop");
        }
    }
}
