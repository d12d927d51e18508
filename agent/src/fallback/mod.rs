//! The deterministic fallback parser: common English phrasings -> a validated [`Plan`].
//! Used when the model misses its budget or produces an invalid plan.
//!
//! What it understands:
//! - moves: move/go/drive/walk/head/roll/step/advance/scoot/creep/inch + forward/forwards/ahead/straight
//!   or back/backward/backwards/reverse/"back up"; a bare number is meters;
//! - turns: turn/rotate/spin/face/pivot/swivel/yaw + left/right/around/clockwise/counterclockwise/
//!   anticlockwise ("counter clockwise", "anti-clockwise"); no angle = 90 deg, "around"
//!   = 180 deg; clockwise and right are negative (REP 103); a bare number is degrees;
//!   "a quarter turn" / "half a turn" / "a full turn" count in revolutions;
//! - "go left 2 meters" = turn left, then move 2 m;
//! - stop/halt/freeze/"stand still"; wait/pause/sleep/hold/stay (a bare number is s);
//! - say/speak/announce/tell/shout TEXT (the rest of the clause, original case, after
//!   "out loud", "aloud", "the words" or a colon; it ends at punctuation, "then", and at
//!   "after that" before a command);
//! - numbers as digits ("2", "1.5", ".5", "-0.5") or words ("one".."twenty", "thirty"..
//!   "ninety", "forty five", "a hundred and eighty", "a"/"an" before a unit, "half",
//!   "a quarter", "one and a half", "a meter and a half", "two point five");
//! - units m/meter(s)/metre(s)/cm/centimeter(s)/mm/ft/feet/inch(es)/yd/yard(s), degree(s)/deg/°/
//!   rad/radian(s)/turn(s)/revolution(s), s/sec(s)/second(s)/ms/min/minute(s);
//! - sequences joined by "then", "and", "and then", "next", "after that", commas.
//!
//! A clause must start (after filler and politeness words) with what to do: an action
//! word, a direction or a number. A statement or question that mentions motion ("the
//! taxi turned around", "I'll be right back", "how many feet is 3 meters") is not a
//! command, and the whole sentence is refused: a robot must not drive on small talk.
//!
//! A clause it cannot read is an error naming the clause and why; the whole command is
//! then rejected (no partial plans). The result is validated against [`Limits`]:
//! out-of-range values are an error, never clamped.

mod lex;

use self::lex::{lex, merge_number_words, unit, Kind, Tok, Unit};
use super::error::{AgentError, NotUnderstood, Result};
use super::intent::{Limits, Plan, Step, ValidPlan};

/// Parses `command` into a plan validated against `limits`.
pub fn parse_command(command: &str, limits: &Limits) -> Result<ValidPlan> {
    let lower = command.to_ascii_lowercase();
    let toks = merge_number_words(&lower, lex(&lower));
    if toks.is_empty() {
        return Err(AgentError::EmptyCommand {
            command: command.to_string(),
        });
    }
    let ctx = Ctx {
        lower: &lower,
        original: command,
        toks: &toks,
    };
    let mut steps = Vec::new();
    for clause in ctx.clauses() {
        match ctx.parse_clause(clause) {
            Ok(Some(parsed)) => steps.extend(parsed),
            Ok(None) => {}
            Err(reason) => {
                return Err(AgentError::NotUnderstood {
                    command: command.to_string(),
                    clause: ctx.clause_text(clause).to_string(),
                    reason,
                })
            }
        }
    }
    if steps.is_empty() {
        return Err(AgentError::NotUnderstood {
            command: command.to_string(),
            clause: command.trim().to_string(),
            reason: NotUnderstood::NoAction,
        });
    }
    let count = steps.len();
    let plan = Plan::new(steps).map_err(|_| AgentError::StepCount {
        count,
        max: limits.max_steps,
    })?;
    limits.validate(plan)
}

/// A clause: tokens `first..last` and the byte where its text ends (for say).
#[derive(Debug, Clone, Copy)]
struct Clause {
    first: usize,
    last: usize,
    text_end: usize,
}

struct Ctx<'a> {
    lower: &'a str,
    original: &'a str,
    toks: &'a [Tok],
}

fn is_say_verb(w: &str) -> bool {
    matches!(w, "say" | "speak" | "announce" | "tell" | "shout")
}

/// Words between a say verb and what to say ("say out loud: hi", "speak the words hi"),
/// longest first; matched case-insensitively at the start of the text.
const SAY_LEAD_INS: [&str; 4] = ["out loud", "the words", "aloud", ":"];

/// `text` without its say lead-ins and enclosing quotes.
fn say_text(mut text: &str) -> &str {
    loop {
        text = text.trim();
        let lead = SAY_LEAD_INS.iter().find(|l| {
            text.get(..l.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(l))
                && text[l.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric() || **l == ":")
        });
        match lead {
            Some(l) => text = &text[l.len()..],
            None => break,
        }
    }
    text.trim_matches(|c| matches!(c, '"' | '\'' | '“' | '”' | '‘' | '’'))
        .trim()
}

fn is_stop_word(w: &str) -> bool {
    matches!(w, "stop" | "halt" | "freeze")
}

fn is_wait_verb(w: &str) -> bool {
    matches!(w, "wait" | "pause" | "sleep" | "hold" | "stay" | "rest")
}

fn is_turn_verb(w: &str) -> bool {
    matches!(
        w,
        "turn" | "rotate" | "spin" | "face" | "pivot" | "twirl" | "swivel" | "swing" | "yaw"
            // What a speech recogniser makes of "turn" at the start of a command.
            | "turned" | "torn" | "term"
    )
}

fn is_move_verb(w: &str) -> bool {
    matches!(
        w,
        "move"
            | "go"
            | "drive"
            | "walk"
            | "head"
            | "roll"
            | "step"
            | "advance"
            | "travel"
            | "proceed"
            | "come"
            | "ease"
            | "cruise"
            | "creep"
            | "inch"
            | "scoot"
            | "shuffle"
            | "carry"
            | "mover"
    )
}

fn is_filler(w: &str) -> bool {
    matches!(
        w,
        "please"
            | "robot"
            | "now"
            | "ok"
            | "okay"
            | "hey"
            | "the"
            | "a"
            | "an"
            | "to"
            | "by"
            | "for"
            | "of"
            | "can"
            | "could"
            | "would"
            | "you"
            | "me"
            | "i"
            | "want"
            | "need"
            | "just"
            | "first"
            | "slowly"
            | "quickly"
            | "carefully"
            | "then"
            | "up"
            | "on"
            | "still"
            | "your"
            | "yourself"
            | "about"
            | "exactly"
            | "it"
            | "that"
            | "this"
            | "do"
            | "make"
            | "full"
            | "and"
            | "next"
            | "in"
            | "place"
            | "direction"
    )
}

/// Words that change a clause's meaning in ways the parser does not model.
fn is_unsupported(w: &str) -> bool {
    matches!(
        w,
        "not"
            | "don't"
            | "dont"
            | "never"
            | "no"
            | "twice"
            | "thrice"
            | "times"
            | "again"
            | "until"
            | "unless"
            | "if"
            | "when"
            | "while"
            | "except"
    )
}

/// Spoken filler and politeness that may come before what to do, besides [`is_filler`].
fn is_preamble(w: &str) -> bool {
    matches!(
        w,
        "um" | "uh"
            | "er"
            | "erm"
            | "hmm"
            | "so"
            | "well"
            | "kindly"
            | "let's"
            | "lets"
            | "let"
            | "us"
            | "buddy"
            | "alright"
            | "way"
    )
}

/// Whether a clause may start with `w` (after preamble): an action word or a direction.
fn may_start_a_command(w: &str) -> bool {
    is_say_verb(w)
        || is_stop_word(w)
        || is_wait_verb(w)
        || is_turn_verb(w)
        || is_move_verb(w)
        || matches!(
            w,
            "stand"
                | "forward"
                | "forwards"
                | "ahead"
                | "straight"
                | "back"
                | "backward"
                | "backwards"
                | "reverse"
                | "backup"
                | "left"
                | "right"
                | "clockwise"
                | "anticlockwise"
                | "counterclockwise"
                | "counter"
                | "anti"
                | "around"
        )
}

fn is_clause_break(w: &str) -> bool {
    matches!(
        w,
        "then" | "and" | "next" | "afterwards" | "finally" | "also"
    )
}

/// Which way a clause points.
#[derive(Debug, Default)]
struct Directions {
    forward: bool,
    back: bool,
    left: bool,
    right: bool,
    around: bool,
}

impl Directions {
    fn any_turn(&self) -> bool {
        self.left || self.right || self.around
    }
}

impl<'a> Ctx<'a> {
    fn word(&self, i: usize) -> &'a str {
        match self.toks.get(i) {
            Some(t) if t.kind == Kind::Word => &self.lower[t.start..t.end],
            _ => "",
        }
    }

    fn clause_text(&self, c: Clause) -> &'a str {
        let start = self.toks[c.first].start;
        let end = self.toks[c.last - 1].end;
        self.original[start..end].trim()
    }

    /// Whether tokens `i` and `i + 1` are "after that".
    fn after_that(&self, i: usize) -> bool {
        self.word(i) == "after" && self.word(i + 1) == "that"
    }

    /// Splits the tokens at separators. Once a clause starts with a say verb, only
    /// punctuation, "(and) then" and "(and) after that" before a command end it, so "say
    /// hello and welcome" keeps its "and".
    fn clauses(&self) -> Vec<Clause> {
        let mut out = Vec::new();
        let mut first = 0;
        let mut say_mode = false;
        let mut i = 0;
        while i < self.toks.len() {
            let tok = self.toks[i];
            let w = self.word(i);
            let (breaks, width, text_end) = match tok.kind {
                Kind::Sep('.' | '!' | '?') => (true, 1, tok.end),
                // "say: hello": the colon introduces the text.
                Kind::Sep(':') if say_mode => (false, 1, tok.end),
                Kind::Sep(_) => (true, 1, tok.start),
                Kind::Word if w == "then" => (true, 1, tok.start),
                // In a say text "and then" ends it as "then" does, without the "and".
                Kind::Word if say_mode && w == "and" && self.word(i + 1) == "then" => {
                    (true, 2, tok.start)
                }
                // ... and "(and) after that" ends it where a command follows.
                Kind::Word if say_mode && w == "and" && self.after_that(i + 1) => {
                    (may_start_a_command(self.word(i + 3)), 3, tok.start)
                }
                Kind::Word if self.after_that(i) => (
                    !say_mode || may_start_a_command(self.word(i + 2)),
                    2,
                    tok.start,
                ),
                Kind::Word if is_clause_break(w) => (!say_mode, 1, tok.start),
                _ => (false, 1, tok.end),
            };
            if breaks {
                if i > first {
                    out.push(Clause {
                        first,
                        last: i,
                        text_end,
                    });
                }
                i += width;
                first = i;
                say_mode = false;
                continue;
            }
            if tok.kind == Kind::Word
                && is_say_verb(w)
                && (first..i).all(|k| self.toks[k].kind == Kind::Word && is_filler(self.word(k)))
            {
                say_mode = true;
            }
            i += 1;
        }
        if first < self.toks.len() {
            out.push(Clause {
                first,
                last: self.toks.len(),
                text_end: self.original.len(),
            });
        }
        out
    }

    /// Whether the clause's first word past filler and preamble may start a command (a
    /// number may; a clause of filler only may, and yields nothing).
    fn starts_imperative(&self, c: Clause) -> bool {
        let first = (c.first..c.last).find(|&k| {
            let w = self.word(k);
            self.toks[k].kind != Kind::Word || !(is_filler(w) || is_preamble(w))
        });
        match first {
            None => true,
            Some(k) => self.toks[k].kind != Kind::Word || may_start_a_command(self.word(k)),
        }
    }

    /// One clause -> its steps (None for a clause of filler words only); a clause with
    /// an action that does not start with what to do is refused.
    fn parse_clause(&self, c: Clause) -> std::result::Result<Option<Vec<Step>>, NotUnderstood> {
        match self.parse_words(c)? {
            Some(_) if !self.starts_imperative(c) => Err(NotUnderstood::NotImperative),
            steps => Ok(steps),
        }
    }

    /// The clause's words -> its steps, whatever their order.
    fn parse_words(&self, c: Clause) -> std::result::Result<Option<Vec<Step>>, NotUnderstood> {
        let mut dirs = Directions::default();
        let (mut stop, mut wait, mut turn_verb, mut move_verb, mut other) =
            (false, false, false, false, false);
        let mut quantities: Vec<(f64, Option<Unit>)> = Vec::new();
        let mut k = c.first;
        while k < c.last {
            let tok = self.toks[k];
            let w = self.word(k);
            k += 1;
            match tok.kind {
                Kind::Num(v) => {
                    let u = if k < c.last { unit(self.word(k)) } else { None };
                    if u.is_some() {
                        k += 1;
                    }
                    quantities.push((v, u));
                    continue;
                }
                Kind::Sep(_) => continue,
                Kind::Quoted => {
                    other = true;
                    continue;
                }
                Kind::Word => {}
            }
            if is_say_verb(w) && !(stop || wait || turn_verb || move_verb) {
                return self.say(tok.end, c.text_end).map(Some);
            }
            match w {
                "forward" | "forwards" | "ahead" | "straight" | "onward" | "onwards" => {
                    dirs.forward = true
                }
                "back" | "backward" | "backwards" | "reverse" | "backup" => {
                    dirs.back = true;
                    move_verb = true;
                }
                "left" | "anticlockwise" | "counterclockwise" => dirs.left = true,
                "right" | "clockwise" => dirs.right = true,
                "counter" | "anti" if self.word(k) == "clockwise" => {
                    dirs.left = true;
                    k += 1;
                }
                "around" | "round" => dirs.around = true,
                "stand" if self.word(k) == "still" => stop = true,
                _ if is_stop_word(w) => stop = true,
                _ if is_wait_verb(w) => wait = true,
                _ if is_turn_verb(w) => turn_verb = true,
                _ if is_move_verb(w) => move_verb = true,
                _ if is_unsupported(w) => return Err(NotUnderstood::Unsupported),
                _ if is_filler(w) || is_preamble(w) || unit(w).is_some() => {}
                _ => other = true,
            }
        }
        if stop {
            return Ok(Some(vec![Step::Stop {}]));
        }
        if wait {
            return Self::wait(&quantities).map(|s| Some(vec![s]));
        }
        let has_angle = quantities
            .iter()
            .any(|(_, u)| matches!(u, Some(Unit::Angle(_))));
        let has_length = quantities
            .iter()
            .any(|(_, u)| matches!(u, Some(Unit::Length(_))));
        let turnish = turn_verb
            || has_angle
            || (dirs.any_turn() && !move_verb && !dirs.forward && !has_length);
        if turnish {
            return Self::turn(&quantities, &dirs).map(|s| Some(vec![s]));
        }
        if move_verb || dirs.forward || has_length || dirs.any_turn() {
            return Self::movement(&quantities, &dirs).map(Some);
        }
        if other || !quantities.is_empty() {
            return Err(NotUnderstood::NoAction);
        }
        Ok(None)
    }

    fn say(
        &self,
        verb_end: usize,
        text_end: usize,
    ) -> std::result::Result<Vec<Step>, NotUnderstood> {
        let text = say_text(self.original.get(verb_end..text_end).unwrap_or(""));
        if text.is_empty() {
            return Err(NotUnderstood::MissingText);
        }
        let step = Step::say(text).map_err(|_| NotUnderstood::TextTooLong)?;
        Ok(vec![step])
    }

    fn wait(quantities: &[(f64, Option<Unit>)]) -> std::result::Result<Step, NotUnderstood> {
        match quantities {
            [] => Err(NotUnderstood::MissingDuration),
            [(v, None)] => Ok(Step::Wait { seconds: *v }),
            [(v, Some(Unit::Time(f)))] => Ok(Step::Wait { seconds: v * f }),
            [_] => Err(NotUnderstood::WrongUnit),
            _ => Err(NotUnderstood::Ambiguous),
        }
    }

    fn turn(
        quantities: &[(f64, Option<Unit>)],
        dirs: &Directions,
    ) -> std::result::Result<Step, NotUnderstood> {
        if dirs.left && dirs.right || dirs.forward || dirs.back {
            return Err(NotUnderstood::Ambiguous);
        }
        let angle = match quantities {
            [] if dirs.around => 180.0,
            [] if dirs.left || dirs.right => 90.0,
            [] => return Err(NotUnderstood::MissingAngle),
            [(v, None)] => *v,
            [(v, Some(Unit::Angle(f)))] => v * f,
            [_] => return Err(NotUnderstood::WrongUnit),
            _ => return Err(NotUnderstood::Ambiguous),
        };
        let angle_deg = if dirs.right {
            -angle.abs()
        } else if dirs.left {
            angle.abs()
        } else {
            angle
        };
        Ok(Step::Turn { angle_deg })
    }

    fn movement(
        quantities: &[(f64, Option<Unit>)],
        dirs: &Directions,
    ) -> std::result::Result<Vec<Step>, NotUnderstood> {
        if dirs.forward && dirs.back || dirs.left && dirs.right || dirs.around {
            return Err(NotUnderstood::Ambiguous);
        }
        let side = if dirs.left {
            Some(90.0)
        } else if dirs.right {
            Some(-90.0)
        } else {
            None
        };
        let distance = match quantities {
            [] => match side {
                // "go left": face that way.
                Some(angle_deg) => return Ok(vec![Step::Turn { angle_deg }]),
                None => return Err(NotUnderstood::MissingDistance),
            },
            [(v, None)] => *v,
            [(v, Some(Unit::Length(f)))] => v * f,
            [_] => return Err(NotUnderstood::WrongUnit),
            _ => return Err(NotUnderstood::Ambiguous),
        };
        let distance_m = if dirs.back {
            -distance.abs()
        } else if dirs.forward {
            distance.abs()
        } else {
            distance
        };
        let mv = Step::Move { distance_m };
        Ok(match side {
            Some(angle_deg) => vec![Step::Turn { angle_deg }, mv],
            None => vec![mv],
        })
    }
}

#[cfg(test)]
mod tests;
