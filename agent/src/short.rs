//! The short plan form a tuned model writes: quantities in the unit the person spoke and
//! a repeat count, expanded here into the plan's own form. A 135M-parameter model copies
//! "3 feet" well but multiplies by 0.3048 badly, and unrolling "four times" costs it ~25
//! tokens a step; in the short form both are the code's job, not the model's.
//!
//! `{"plan":[{"move_ft":3},{"turn_deg":-90}],"times":4}` (a square of 3 ft sides, right
//! turns) expands to eight steps in metres and degrees. Steps: `move_m`, `move_cm`,
//! `move_mm`, `move_ft`, `move_in`, `move_yd` (negative = backwards), `turn_deg`
//! (positive = left), `wait_s`, `say`, `stop` (value `true`); a distance spoken in two
//! units is one step with both keys, `{"move_ft":9,"move_in":7}` or
//! `{"move_m":3,"move_cm":55}` ([`COMPOUND_UNITS`]). `times` (2 to
//! `Limits::max_steps`) repeats the whole step list; without it the list runs once. The
//! grammar only lets a list be as long as its repeats still fit in `max_steps`.
//! `{"plan":[]}` declines, as in the full form. The expanded plan goes through the same
//! validation as any other ([`Limits::validate`]).
//!
//! A say text is written after one space, `{"say":" demo complete"}`, which the
//! expansion drops ([`SAY_LEAD`]): its first word then is the same token as in the
//! command (" demo"), so the model copies it; written without the space it is a
//! different token sequence ("dem" "o") that the base model continued as "demonstrate".

use std::str::FromStr;

use serde_json::{json, Map, Value};

use crate::error::{AgentError, Result};
use crate::intent::{Limits, Plan, Step, NUMBER_STEP};

/// What a short-form say text starts with, and the expansion drops (one space).
pub const SAY_LEAD: char = ' ';

/// Which JSON form a model writes its plans in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlanForm {
    /// The plan's own form, `{"plan":[{"action":"move","distance_m":1.0}]}`.
    #[default]
    Full,
    /// The short form of this module, `{"plan":[{"move_m":1}]}`.
    Short,
}

impl PlanForm {
    /// The name used in files and on the command line (`full`, `short`).
    pub fn name(self) -> &'static str {
        match self {
            PlanForm::Full => "full",
            PlanForm::Short => "short",
        }
    }
}

impl FromStr for PlanForm {
    type Err = AgentError;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "full" => Ok(PlanForm::Full),
            "short" => Ok(PlanForm::Short),
            other => Err(AgentError::IntentJson {
                reason: format!("unknown plan form {other:?}: use \"full\" or \"short\""),
            }),
        }
    }
}

/// The two-unit distances a person speaks ("9 feet 7 inches", "3 metres 55"), written as
/// one step with both keys, `{"move_ft":9,"move_in":7}`: the whole unit, then the part
/// below it (at most this bound), summed here and not by the model.
pub const COMPOUND_UNITS: [(&str, &str, f64); 2] =
    [("move_ft", "move_in", 11.0), ("move_m", "move_cm", 99.0)];

/// The distance keys of the short form and their length in metres.
pub const MOVE_UNITS: [(&str, f64); 6] = [
    ("move_m", 1.0),
    ("move_cm", 0.01),
    ("move_mm", 0.001),
    ("move_ft", 0.3048),
    ("move_in", 0.0254),
    ("move_yd", 0.9144),
];

fn number(min: f64, max: f64) -> Value {
    json!({"type": "number", "minimum": min, "maximum": max, "multipleOf": NUMBER_STEP})
}

fn one_key(key: &str, value: Value) -> Value {
    let mut properties = Map::new();
    properties.insert(key.into(), value);
    json!({"type": "object", "properties": properties, "required": [key], "additionalProperties": false})
}

impl Limits {
    /// The JSON Schema of the short form under these limits, for the constrained decoder:
    /// each distance unit's range is the limit in that unit, down to a whole
    /// number (5 m: 16 ft, 196 in, 5 yd).
    pub fn short_schema(&self) -> Value {
        let d = self.max_distance_m;
        let mut steps: Vec<Value> = MOVE_UNITS
            .iter()
            .map(|&(key, metres)| {
                // The limit in this unit, down to a whole number (16 ft, not 16.404):
                // llguidance 1.9 rejects a number that is a prefix of a fractional
                // bound's digits (16.4 under a maximum of 16.404).
                let exact = d / metres;
                let max = if exact >= 1.0 {
                    (exact + 1e-9).floor()
                } else {
                    (exact / NUMBER_STEP + 1e-6).floor() * NUMBER_STEP
                };
                one_key(key, number(-max, max))
            })
            .collect();
        for (major, minor, below) in COMPOUND_UNITS {
            let bound = |key: &str| {
                steps
                    .iter()
                    .find_map(|s| s["properties"][key]["maximum"].as_f64())
                    .unwrap_or(0.0)
            };
            let max = bound(major).floor();
            // One branch per sign, so that both parts always share it.
            for sign in [1.0, -1.0] {
                let range = |m: f64| {
                    if sign > 0.0 {
                        number(0.0, m)
                    } else {
                        number(-m, 0.0)
                    }
                };
                let mut properties = Map::new();
                properties.insert(major.into(), range(max));
                properties.insert(minor.into(), range(below));
                steps.push(json!({"type": "object", "properties": properties,
                                  "required": [major, minor], "additionalProperties": false}));
            }
        }
        let a = self.max_angle_deg;
        steps.push(one_key("turn_deg", number(-a, a)));
        steps.push(one_key("wait_s", number(0.0, self.max_wait_s)));
        steps.push(one_key(
            "say",
            json!({"type": "string", "minLength": 1, "maxLength": self.max_say_chars + 1}),
        ));
        steps.push(one_key("stop", json!({"const": true})));
        let mut forms = vec![self.short_branch(0, self.max_steps, &[])];
        // Repeated lists: one branch per longest list, so the expansion stays within
        // max_steps (with 8: 4 steps twice, 2 steps 3 or 4 times, 1 step 5 to 8 times).
        let mut k = 2;
        while k <= self.max_steps {
            let longest = self.max_steps / k;
            let counts: Vec<usize> = (k..=self.max_steps)
                .filter(|&t| self.max_steps / t == longest)
                .collect();
            k += counts.len();
            forms.push(self.short_branch(1, longest, &counts));
        }
        json!({
            "x-guidance": {"whitespace_flexible": false},
            "$defs": {"step": {"anyOf": steps}},
            "anyOf": forms
        })
    }

    /// One top-level shape of the short form: a list of `min..=max` steps, repeated one
    /// of `times` times (no `times` key when empty).
    fn short_branch(&self, min: usize, max: usize, times: &[usize]) -> Value {
        let mut properties = Map::new();
        properties.insert(
            "plan".into(),
            json!({"type": "array", "minItems": min, "maxItems": max, "items": {"$ref": "#/$defs/step"}}),
        );
        let mut required = vec![Value::from("plan")];
        if !times.is_empty() {
            properties.insert("times".into(), json!({"enum": times}));
            required.push("times".into());
        }
        json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
    }
}

fn bad(reason: String) -> AgentError {
    AgentError::IntentJson { reason }
}

/// Expands a short-form reply into the plan it means (not yet validated; an empty plan
/// is a decline). Errors name what is wrong: unknown key, a non-number, `times` out of
/// 2..=8, or more than 8 steps once repeated.
pub fn expand_short(json: &str) -> Result<Plan> {
    let value: Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    let object = value
        .as_object()
        .ok_or_else(|| bad("a short-form plan is a JSON object".into()))?;
    if let Some(key) = object.keys().find(|k| *k != "plan" && *k != "times") {
        return Err(bad(format!(
            "unknown key {key:?} (a short-form plan has \"plan\" and \"times\")"
        )));
    }
    let items = object
        .get("plan")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("\"plan\" must be an array of steps".into()))?;
    let times = match object.get("times") {
        None => 1,
        Some(t) => match t.as_u64() {
            Some(k @ 2..=8) => k as usize,
            _ => return Err(bad(format!("\"times\" must be an integer 2 to 8, not {t}"))),
        },
    };
    let steps = items.iter().map(short_step).collect::<Result<Vec<_>>>()?;
    let count = steps.len() * times;
    if count > crate::MAX_PLAN_STEPS {
        return Err(AgentError::StepCount {
            count,
            max: crate::MAX_PLAN_STEPS,
        });
    }
    Plan::new(steps.iter().cycle().take(count).cloned())
}

/// The error to report for a model reply `text` that failed to read as a full-form plan
/// (`full`): when it is written in the short form (a step without "action", or a
/// "times"), what is wrong with it as a short form, since "missing field `action`" says
/// nothing about a short-form reply; else `full`.
pub fn reply_error(text: &str, full: AgentError) -> AgentError {
    let short = serde_json::from_str::<Value>(text).is_ok_and(|v| {
        let steps = v.get("plan").and_then(Value::as_array);
        v.get("times").is_some()
            || steps.is_some_and(|s| s.iter().any(|step| step.get("action").is_none()))
    });
    match short.then(|| expand_short(text)) {
        Some(Err(e)) => bad(format!("short form: {e}")),
        _ => full,
    }
}

/// One short-form step (a one-key object, or a two-unit distance) as a plan step.
fn short_step(item: &Value) -> Result<Step> {
    let (key, value) = match item.as_object().map(|o| o.iter().collect::<Vec<_>>()) {
        Some(pairs) if pairs.len() == 1 => pairs[0],
        Some(pairs) if pairs.len() == 2 => return compound_step(item, &pairs),
        _ => {
            return Err(bad(format!(
                "a short-form step is a one-key object, not {item}"
            )))
        }
    };
    let num = || {
        value
            .as_f64()
            .filter(|v| v.is_finite())
            .ok_or_else(|| bad(format!("{key:?} needs a number, not {value}")))
    };
    if let Some(&(_, metres)) = MOVE_UNITS.iter().find(|(k, _)| k == key) {
        return Ok(Step::Move {
            distance_m: round6(num()? * metres),
        });
    }
    match key.as_str() {
        "turn_deg" => Ok(Step::Turn { angle_deg: num()? }),
        "wait_s" => Ok(Step::Wait { seconds: num()? }),
        "say" => match value
            .as_str()
            .map(|t| t.strip_prefix(SAY_LEAD).unwrap_or(t))
        {
            Some("") => Err(bad("\"say\" needs words to say, not an empty text".into())),
            Some(text) => Step::say(text),
            None => Err(bad(format!("\"say\" needs a string, not {value}"))),
        },
        "stop" if value == &Value::Bool(true) => Ok(Step::Stop {}),
        _ => Err(bad(format!("unknown short-form step {item}"))),
    }
}

/// A two-unit distance (`{"move_ft":9,"move_in":7}`): a pair of [`COMPOUND_UNITS`], both
/// numbers of one sign (or zero), the part below the whole unit within its bound.
fn compound_step(item: &Value, pairs: &[(&String, &Value)]) -> Result<Step> {
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.as_f64())
    };
    let metres = |key: &str| MOVE_UNITS.iter().find(|(k, _)| *k == key).map(|u| u.1);
    for (major, minor, below) in COMPOUND_UNITS {
        let (Some(a), Some(b)) = (get(major), get(minor)) else {
            continue;
        };
        if !(a.is_finite() && b.is_finite()) || a * b < 0.0 || b.abs() > below {
            return Err(bad(format!(
                "{item}: both parts of a distance need one sign, and {minor:?} at most {below}"
            )));
        }
        let m = a * metres(major).unwrap_or(0.0) + b * metres(minor).unwrap_or(0.0);
        return Ok(Step::Move {
            distance_m: round6(m),
        });
    }
    Err(bad(format!(
        "{item}: a two-key step is a distance in two units, move_ft with move_in or \
         move_m with move_cm"
    )))
}

/// `x` to 6 decimals: 3 ft is 0.9144 m, not 0.9144000000000001.
fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The short form of `plan`, distances in metres: the form a parser's plan is drafted
/// in, and the training target of a line that names no spoken units. A plan that is one
/// step list repeated (smallest period) is written once with `times`.
pub fn short_from_plan(plan: &Plan) -> String {
    let steps = &plan.steps[..];
    let n = steps.len();
    let period = (1..n)
        .find(|&p| n.is_multiple_of(p) && (p..n).all(|i| steps[i] == steps[i % p]))
        .unwrap_or(n);
    let body: Vec<String> = steps[..period].iter().map(short_step_text).collect();
    if period < n {
        format!("{{\"plan\":[{}],\"times\":{}}}", body.join(","), n / period)
    } else {
        format!("{{\"plan\":[{}]}}", body.join(","))
    }
}

/// [`short_from_plan`] with distances in the one unit `command` names, where it names one
/// and every distance is a whole number of thousandths in it: the draft of a parser's plan
/// as the tuned model writes it ("move forward 20 centimeters": `{"move_cm":20}`, not
/// `{"move_m":0.2}`). A guess only speeds drafting up; it never changes the output.
pub fn short_from_plan_spoken(plan: &Plan, command: &str) -> String {
    let metres = short_from_plan(plan);
    let Some((key, factor)) = spoken_unit(command) else {
        return metres;
    };
    let fits = plan.steps.iter().all(|s| match s {
        Step::Move { distance_m } => {
            let v = distance_m / factor;
            (v * 1000.0 - (v * 1000.0).round()).abs() < 1e-6
        }
        _ => true,
    });
    if !fits {
        return metres;
    }
    let spoken: Vec<Step> = plan
        .steps
        .iter()
        .map(|s| match s {
            Step::Move { distance_m } => Step::Move {
                distance_m: distance_m / factor,
            },
            other => other.clone(),
        })
        .collect();
    match Plan::new(spoken) {
        Ok(p) => short_from_plan(&p).replace("\"move_m\"", &format!("\"{key}\"")),
        Err(_) => metres,
    }
}

/// The one distance unit `command` names (its short-form key and metres per unit); None
/// when it names none, several, or only metres. "in" counts only after a number.
fn spoken_unit(command: &str) -> Option<(&'static str, f64)> {
    let lower = command.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '.')
        .filter(|w| !w.is_empty())
        .collect();
    let mut found: Option<&'static str> = None;
    for (i, w) in words.iter().enumerate() {
        let unit = match *w {
            "cm" | "centimeter" | "centimeters" | "centimetre" | "centimetres" => "move_cm",
            "mm" | "millimeter" | "millimeters" | "millimetre" | "millimetres" => "move_mm",
            "ft" | "foot" | "feet" => "move_ft",
            "inch" | "inches" => "move_in",
            "in" if i > 0 && words[i - 1].parse::<f64>().is_ok() => "move_in",
            "yd" | "yds" | "yard" | "yards" => "move_yd",
            "m" | "meter" | "meters" | "metre" | "metres" => "move_m",
            _ => continue,
        };
        match found {
            Some(f) if f != unit => return None,
            _ => found = Some(unit),
        }
    }
    let key = found.filter(|k| *k != "move_m")?;
    MOVE_UNITS.iter().find(|(k, _)| *k == key).copied()
}

fn short_step_text(step: &Step) -> String {
    match step {
        Step::Move { distance_m } => format!("{{\"move_m\":{}}}", num_text(*distance_m)),
        Step::Turn { angle_deg } => format!("{{\"turn_deg\":{}}}", num_text(*angle_deg)),
        Step::Wait { seconds } => format!("{{\"wait_s\":{}}}", num_text(*seconds)),
        Step::Stop {} => "{\"stop\":true}".into(),
        Step::Say { text } => format!("{{\"say\":{}}}", Value::from(format!("{SAY_LEAD}{text}"))),
    }
}

/// `short` (a short-form plan as data files write it, say texts without their lead) as
/// the model writes it: each say text after [`SAY_LEAD`]. The training target of a line.
pub fn short_written(short: &str) -> Result<String> {
    let mut value: Value = serde_json::from_str(short).map_err(|e| bad(e.to_string()))?;
    let steps = value.get_mut("plan").and_then(Value::as_array_mut);
    for step in steps.into_iter().flatten() {
        if let Some(Value::String(text)) = step.get_mut("say") {
            text.insert(0, SAY_LEAD);
        }
    }
    Ok(value.to_string())
}

/// A number as the short form writes it: integral values without a decimal point (`30`,
/// `-90`), others in their shortest form (`0.5`), at most 4 decimals.
pub fn num_text(x: f64) -> String {
    let x = (x * 1e4).round() / 1e4;
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
#[path = "short_tests.rs"]
mod tests;
