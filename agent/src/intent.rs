//! The intent schema: one definition of the actions a plan may contain, their fields,
//! units and ranges. From it come the JSON parser (serde), the validation against the
//! configured [`Limits`], the JSON Schema handed to the constrained decoder (with the
//! limits embedded, so the model cannot produce an out-of-range number), and the docs.
//!
//! JSON form: `{"plan":[{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":90.0}]}`.
//! A model declines a sentence that is not a command (a question, thanks, an injection)
//! with the empty plan `{"plan":[]}`, or replies with a plan of `say` steps only: neither
//! moves the robot. See [`Limits::parse_decision`].
//! Signs follow ROS REP 103: a negative distance drives backwards, a positive angle turns
//! left (counter-clockwise).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::bounded::{de_say, de_steps, SayText};
pub use super::bounded::{MAX_PLAN_STEPS, MAX_SAY_CHARS};
use super::error::{AgentError, Result};

/// The finest step of a number the decoder may write (1 mm, 0.001 deg, 1 ms): at most
/// three decimals, so a model cannot spend its token budget on digits (measured:
/// SmolLM2-135M wrote `99.9999...` until it ran out of tokens, an invalid plan).
/// Validation accepts finer numbers from other paths (the parser's 0.9144 m for 3 ft).
pub const NUMBER_STEP: f64 = 0.001;

/// A plan's steps, stored inline: at most [`MAX_PLAN_STEPS`].
pub type Steps = heapless::Vec<Step, MAX_PLAN_STEPS>;

/// One step of a plan. Serialised internally tagged by `"action"`; unknown fields are
/// rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
#[allow(
    clippy::large_enum_variant,
    reason = "inline say text is the point: a plan (8 steps, about 6.5 KB) is built, queued and run without the allocator"
)]
pub enum Step {
    /// Drive straight along the current heading.
    Move {
        /// Distance in m; negative = backwards.
        distance_m: f64,
    },
    /// Turn in place.
    Turn {
        /// Angle in degrees; positive = left (counter-clockwise), negative = right.
        angle_deg: f64,
    },
    /// Stand still for a while.
    Wait {
        /// Duration in s.
        seconds: f64,
    },
    /// Stop moving now. (An empty struct variant, so that extra fields are rejected
    /// like everywhere else.)
    Stop {},
    /// Say a sentence (sent to the text output).
    Say {
        /// What to say, at most `Limits::max_say_chars` characters (stored inline; build
        /// it with [`crate::say_text`] or [`Step::say`]).
        #[serde(deserialize_with = "de_say")]
        text: SayText,
    },
}

/// A plan: 1 to [`MAX_PLAN_STEPS`] steps executed in order, stored inline (no heap), so
/// cloning and queueing one never allocates. Not yet validated; see [`Limits::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The steps, in execution order. JSON key `"plan"`.
    #[serde(rename = "plan", deserialize_with = "de_steps")]
    pub steps: Steps,
}

/// The name of a step's action, and what the schema says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `move {distance_m}`.
    Move,
    /// `turn {angle_deg}`.
    Turn,
    /// `wait {seconds}`.
    Wait,
    /// `stop`.
    Stop,
    /// `say {text}`.
    Say,
}

/// A field of a step, and what the schema says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `distance_m` of `move`.
    DistanceM,
    /// `angle_deg` of `turn`.
    AngleDeg,
    /// `seconds` of `wait`.
    Seconds,
    /// `text` of `say`.
    Text,
}

/// The value of one field of one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// A number in the field's unit.
    Number(f64),
    /// A text.
    Text(&'a str),
}

impl Action {
    /// Every action, in the order the docs and the schema list them.
    pub const ALL: [Action; 5] = [
        Action::Move,
        Action::Turn,
        Action::Wait,
        Action::Stop,
        Action::Say,
    ];

    /// The JSON value of `"action"`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Move => "move",
            Action::Turn => "turn",
            Action::Wait => "wait",
            Action::Stop => "stop",
            Action::Say => "say",
        }
    }

    /// The fields the action requires (and the only ones it accepts).
    pub fn fields(self) -> &'static [Field] {
        match self {
            Action::Move => &[Field::DistanceM],
            Action::Turn => &[Field::AngleDeg],
            Action::Wait => &[Field::Seconds],
            Action::Stop => &[],
            Action::Say => &[Field::Text],
        }
    }

    /// One line on what the action does.
    pub fn doc(self) -> &'static str {
        match self {
            Action::Move => "drive straight; negative = backwards",
            Action::Turn => "turn in place; positive = left (counter-clockwise)",
            Action::Wait => "stand still",
            Action::Stop => "stop moving",
            Action::Say => "say a sentence",
        }
    }
}

impl Field {
    /// The JSON key.
    pub fn name(self) -> &'static str {
        match self {
            Field::DistanceM => "distance_m",
            Field::AngleDeg => "angle_deg",
            Field::Seconds => "seconds",
            Field::Text => "text",
        }
    }

    /// The unit of the value (for text: its length unit).
    pub fn unit(self) -> &'static str {
        match self {
            Field::DistanceM => "m",
            Field::AngleDeg => "deg",
            Field::Seconds => "s",
            Field::Text => "characters",
        }
    }

    /// The allowed range under `limits`: numbers as `min..=max` in [`Field::unit`], text
    /// as its length in characters.
    pub fn range(self, limits: &Limits) -> (f64, f64) {
        match self {
            Field::DistanceM => (-limits.max_distance_m, limits.max_distance_m),
            Field::AngleDeg => (-limits.max_angle_deg, limits.max_angle_deg),
            Field::Seconds => (0.0, limits.max_wait_s),
            Field::Text => (1.0, limits.max_say_chars as f64),
        }
    }

    /// True for text fields, false for numbers.
    pub fn is_text(self) -> bool {
        matches!(self, Field::Text)
    }
}

impl Step {
    /// A `say` step; an error when `text` has more than [`MAX_SAY_CHARS`] characters.
    pub fn say(text: &str) -> Result<Step> {
        Ok(Step::Say {
            text: super::bounded::say_text(text)?,
        })
    }

    /// The step's action.
    pub fn action(&self) -> Action {
        match self {
            Step::Move { .. } => Action::Move,
            Step::Turn { .. } => Action::Turn,
            Step::Wait { .. } => Action::Wait,
            Step::Stop {} => Action::Stop,
            Step::Say { .. } => Action::Say,
        }
    }

    /// Whether the step moves the robot (move, turn): the steps a plan may only carry
    /// when a path trusted for motion understood the command.
    pub fn is_motion(&self) -> bool {
        matches!(self, Step::Move { .. } | Step::Turn { .. })
    }

    /// The value of `field`, or None when the step has no such field.
    pub fn value(&self, field: Field) -> Option<FieldValue<'_>> {
        match (self, field) {
            (Step::Move { distance_m }, Field::DistanceM) => Some(FieldValue::Number(*distance_m)),
            (Step::Turn { angle_deg }, Field::AngleDeg) => Some(FieldValue::Number(*angle_deg)),
            (Step::Wait { seconds }, Field::Seconds) => Some(FieldValue::Number(*seconds)),
            (Step::Say { text }, Field::Text) => Some(FieldValue::Text(text)),
            _ => None,
        }
    }
}

/// Whether two step lists say the same thing: same actions and texts, numbers equal to
/// within 1e-6 of their unit (1 µm, 1 µdeg, 1 µs). Unit conversions leave float noise:
/// 3 ft is 0.9144 m from one path and 0.9144000000000001 m from another.
pub fn same_steps(a: &[Step], b: &[Step]) -> bool {
    const EPS: f64 = 1e-6;
    a.len() == b.len()
        && a.iter().zip(b).all(|pair| match pair {
            (Step::Move { distance_m: x }, Step::Move { distance_m: y })
            | (Step::Turn { angle_deg: x }, Step::Turn { angle_deg: y })
            | (Step::Wait { seconds: x }, Step::Wait { seconds: y }) => (x - y).abs() <= EPS,
            (x, y) => x == y,
        })
}

impl Plan {
    /// A plan of `steps`, in order; an error ([`AgentError::StepCount`], with the whole
    /// count) when there are more than [`MAX_PLAN_STEPS`].
    pub fn new(steps: impl IntoIterator<Item = Step>) -> Result<Plan> {
        let mut plan = Plan {
            steps: Steps::new(),
        };
        let mut count = 0;
        for step in steps {
            count += 1;
            let _ = plan.steps.push(step);
        }
        if count > MAX_PLAN_STEPS {
            return Err(AgentError::StepCount {
                count,
                max: MAX_PLAN_STEPS,
            });
        }
        Ok(plan)
    }

    /// Parses the JSON form (syntax and shape only; see [`Limits::validate`] for ranges).
    pub fn from_json(json: &str) -> Result<Plan> {
        serde_json::from_str(json).map_err(|e| AgentError::IntentJson {
            reason: e.to_string(),
        })
    }

    /// The compact JSON form, e.g. `{"plan":[{"action":"stop"}]}`.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| AgentError::IntentJson {
            reason: e.to_string(),
        })
    }
}

/// A plan that passed [`Limits::validate`]; the only kind the planner accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidPlan(Plan);

impl ValidPlan {
    /// The steps, in execution order.
    pub fn steps(&self) -> &[Step] {
        &self.0.steps
    }

    /// The validated plan.
    pub fn plan(&self) -> &Plan {
        &self.0
    }

    /// Whether any step moves the robot (see [`Step::is_motion`]).
    pub fn has_motion(&self) -> bool {
        self.0.steps.iter().any(Step::is_motion)
    }

    /// The validated plan, by value.
    pub fn into_plan(self) -> Plan {
        self.0
    }
}

/// The configured ranges of the schema. Defaults: |distance| <= 5 m, |angle| <= 360 deg,
/// wait <= 30 s, say <= 200 characters, 8 steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest |distance_m| of a move, in m.
    pub max_distance_m: f64,
    /// Largest |angle_deg| of a turn, in degrees.
    pub max_angle_deg: f64,
    /// Longest wait, in s.
    pub max_wait_s: f64,
    /// Longest say text, in Unicode characters (1 to [`MAX_SAY_CHARS`]).
    pub max_say_chars: usize,
    /// Most steps in a plan (1 to [`MAX_PLAN_STEPS`]).
    pub max_steps: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_distance_m: 5.0,
            max_angle_deg: 360.0,
            max_wait_s: 30.0,
            max_say_chars: MAX_SAY_CHARS,
            max_steps: MAX_PLAN_STEPS,
        }
    }
}

fn positive_finite(field: &'static str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(AgentError::InvalidConfig {
            config: "Limits",
            field,
            value: value.to_string(),
            reason: "must be a finite number greater than 0",
        })
    }
}

impl Limits {
    /// Checks the limits themselves (finite, positive, max_steps in 1..=8); call once
    /// when the configuration is loaded.
    pub fn check(self) -> Result<Limits> {
        positive_finite("max_distance_m", self.max_distance_m)?;
        positive_finite("max_angle_deg", self.max_angle_deg)?;
        positive_finite("max_wait_s", self.max_wait_s)?;
        if !(1..=MAX_SAY_CHARS).contains(&self.max_say_chars) {
            return Err(AgentError::InvalidConfig {
                config: "Limits",
                field: "max_say_chars",
                value: self.max_say_chars.to_string(),
                reason: "must be 1 to 200",
            });
        }
        if !(1..=MAX_PLAN_STEPS).contains(&self.max_steps) {
            return Err(AgentError::InvalidConfig {
                config: "Limits",
                field: "max_steps",
                value: self.max_steps.to_string(),
                reason: "must be 1 to 8",
            });
        }
        Ok(self)
    }

    /// Checks every step of `plan` against these limits: step count, finite numbers,
    /// ranges, text length. The first violation is returned, naming the step index,
    /// field, value and limit.
    pub fn validate(&self, plan: Plan) -> Result<ValidPlan> {
        let count = plan.steps.len();
        if count == 0 || count > self.max_steps {
            return Err(AgentError::StepCount {
                count,
                max: self.max_steps,
            });
        }
        for (index, step) in plan.steps.iter().enumerate() {
            let action = step.action();
            for &field in action.fields() {
                let (min, max) = field.range(self);
                match step.value(field) {
                    Some(FieldValue::Number(value)) => {
                        if !value.is_finite() {
                            return Err(AgentError::NotFinite {
                                step: index,
                                action: action.name(),
                                field: field.name(),
                                value,
                            });
                        }
                        if value < min || value > max {
                            return Err(AgentError::OutOfRange {
                                step: index,
                                action: action.name(),
                                field: field.name(),
                                value,
                                min,
                                max,
                                unit: field.unit(),
                            });
                        }
                    }
                    Some(FieldValue::Text(text)) => {
                        let chars = text.chars().count();
                        if chars == 0 || chars > self.max_say_chars {
                            return Err(AgentError::TextLength {
                                step: index,
                                action: action.name(),
                                field: field.name(),
                                chars,
                                max: self.max_say_chars,
                            });
                        }
                    }
                    // `Action::fields` and `Step::value` describe the same variants; a
                    // mismatch is a bug caught by the schema tests, never user input.
                    None => {}
                }
            }
        }
        Ok(ValidPlan(plan))
    }

    /// Parses the JSON form and validates it (an empty plan is an error).
    pub fn parse(&self, json: &str) -> Result<ValidPlan> {
        self.validate(Plan::from_json(json)?)
    }

    /// Parses a model's reply: `Ok(None)` when it declines (`{"plan":[]}`: not a command,
    /// no motion), else the validated plan, as [`Limits::parse`]. The parser the language
    /// stage uses on model output.
    pub fn parse_decision(&self, json: &str) -> Result<Option<ValidPlan>> {
        let plan = Plan::from_json(json)?;
        if plan.steps.is_empty() {
            return Ok(None);
        }
        self.validate(plan).map(Some)
    }

    /// The JSON Schema of a plan under these limits, for the constrained decoder
    /// (llguidance): `anyOf` over the actions, `const` action names, `minimum`/`maximum`
    /// and `multipleOf` [`NUMBER_STEP`] for numbers,
    /// and `maxLength` from the limits, every field required, no other properties.
    /// `x-guidance` asks for compact JSON (no optional whitespace), which also means
    /// fewer tokens to generate. The plan may be empty: the model's way to decline (see
    /// [`Limits::parse_decision`]).
    pub fn json_schema(&self) -> Value {
        let variants: Vec<Value> = Action::ALL
            .iter()
            .map(|&action| self.action_schema(action))
            .collect();
        json!({
            "x-guidance": {"whitespace_flexible": false},
            "type": "object",
            "properties": {
                "plan": {
                    "type": "array",
                    "minItems": 0,
                    "maxItems": self.max_steps,
                    "items": {"anyOf": variants}
                }
            },
            "required": ["plan"],
            "additionalProperties": false
        })
    }

    fn action_schema(&self, action: Action) -> Value {
        let mut properties = Map::new();
        properties.insert("action".into(), json!({"const": action.name()}));
        let mut required = vec![Value::from("action")];
        for &field in action.fields() {
            let (min, max) = field.range(self);
            let schema = if field.is_text() {
                json!({"type": "string", "minLength": 1, "maxLength": self.max_say_chars})
            } else {
                json!({"type": "number", "minimum": min, "maximum": max, "multipleOf": NUMBER_STEP})
            };
            properties.insert(field.name().into(), schema);
            required.push(Value::from(field.name()));
        }
        json!({
            "type": "object",
            "description": action.doc(),
            "properties": properties,
            "required": required,
            "additionalProperties": false
        })
    }

    /// A short Markdown table of the actions, their fields, units and allowed ranges under
    /// these limits, for the docs and the prompt.
    pub fn markdown_table(&self) -> String {
        let mut out =
            String::from("| action | field | unit | range | meaning |\n|---|---|---|---|---|\n");
        for action in Action::ALL {
            if action.fields().is_empty() {
                out.push_str(&format!(
                    "| `{}` | - | - | - | {} |\n",
                    action.name(),
                    action.doc()
                ));
            }
            for &field in action.fields() {
                let (min, max) = field.range(self);
                let range = if field.is_text() {
                    format!("1 to {max} characters")
                } else {
                    format!("{min} to {max}")
                };
                out.push_str(&format!(
                    "| `{}` | `{}` | {} | {} | {} |\n",
                    action.name(),
                    field.name(),
                    field.unit(),
                    range,
                    action.doc()
                ));
            }
        }
        out.push_str(&format!(
            "\nA plan is 1 to {} steps: `{{\"plan\":[{{\"action\":\"move\",\"distance_m\":1.0}},{{\"action\":\"turn\",\"angle_deg\":90.0}}]}}`. \
             The model declines a sentence that is not a command with `{{\"plan\":[]}}` (no motion).\n",
            self.max_steps
        ));
        out
    }
}

#[cfg(test)]
mod tests;
