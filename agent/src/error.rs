//! The agent pipeline's error type. Each variant names what was wrong with what (the
//! plan step, field, value and limit; the config field; the command clause) so the
//! message tells the user what to change.

/// Why the fallback parser could not turn a clause of a command into a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotUnderstood {
    /// No action word (move, turn, wait, stop, say and their synonyms) in the clause.
    NoAction,
    /// The clause asks for a move but says neither how far nor which way.
    MissingDistance,
    /// The clause asks to wait but not for how long.
    MissingDuration,
    /// The clause asks to turn but says neither how far nor which way.
    MissingAngle,
    /// The clause has two numbers (or two directions) and it is unclear which applies.
    Ambiguous,
    /// A number is followed by a unit that does not fit the action (e.g. "turn 2 meters").
    WrongUnit,
    /// The clause asks to say something but gives no text.
    MissingText,
    /// The text to say is longer than a plan holds ([`crate::MAX_SAY_CHARS`] characters).
    TextTooLong,
    /// The clause has a word that changes its meaning in a way the parser does not
    /// handle (a negation, a repetition, a condition), so it refuses rather than guess.
    Unsupported,
    /// The clause does not start with what to do: a statement or a question that
    /// mentions motion ("the taxi turned around", "what does turn left mean").
    NotImperative,
}

impl NotUnderstood {
    /// A short explanation with an example of what works.
    pub fn explain(self) -> &'static str {
        match self {
            Self::NoAction => "no action found; say e.g. 'move forward 1 meter', 'turn left', 'wait 2 seconds', 'stop' or 'say hello'",
            Self::MissingDistance => "how far? e.g. 'move forward 1 meter'",
            Self::MissingDuration => "how long? e.g. 'wait 2 seconds'",
            Self::MissingAngle => "which way or how far? e.g. 'turn left' or 'turn 45 degrees'",
            Self::Ambiguous => "two numbers or directions for one action; give one per action, e.g. 'turn left 90 degrees then move 1 meter'",
            Self::WrongUnit => "the unit does not fit the action: distances in m/cm, angles in degrees, waits in seconds",
            Self::MissingText => "what should be said? e.g. 'say hello'",
            Self::TextTooLong => "the text to say is over 200 characters; say it in shorter parts",
            Self::NotImperative => "this reads as a statement or a question, not a command; start with what to do, e.g. 'turn left' or 'please move forward 1 meter'",
            Self::Unsupported => "negations, repetitions and conditions ('not', 'twice', 'until', 'if') are not understood; say what to do, step by step",
        }
    }
}

impl std::fmt::Display for NotUnderstood {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.explain())
    }
}

/// Everything that can go wrong in the agent's model-free logic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The intent JSON does not parse against the schema (syntax, unknown action or field,
    /// wrong type).
    #[error("intent JSON does not match the schema: {reason}; expected e.g. {{\"plan\":[{{\"action\":\"move\",\"distance_m\":1.0}}]}}")]
    IntentJson {
        /// serde_json's description, with line and column.
        reason: String,
    },
    /// The plan has no steps or more than the limit.
    #[error("plan has {count} steps; a plan needs 1 to {max} steps")]
    StepCount {
        /// Steps in the plan.
        count: usize,
        /// The configured maximum (`Limits::max_steps`).
        max: usize,
    },
    /// A numeric field is NaN or infinite.
    #[error("plan[{step}] ({action}): {field} = {value} is not a finite number")]
    NotFinite {
        /// 0-based index of the step at fault.
        step: usize,
        /// The step's action name.
        action: &'static str,
        /// The field at fault.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A numeric field is outside its configured range.
    #[error("plan[{step}] ({action}): {field} = {value} {unit} is outside the allowed range {min}..={max} {unit}")]
    OutOfRange {
        /// 0-based index of the step at fault.
        step: usize,
        /// The step's action name.
        action: &'static str,
        /// The field at fault.
        field: &'static str,
        /// The value given.
        value: f64,
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
        /// The field's unit (m, deg, s).
        unit: &'static str,
    },
    /// A text field is empty or longer than the limit.
    #[error("plan[{step}] ({action}): {field} has {chars} characters; it needs 1 to {max}")]
    TextLength {
        /// 0-based index of the step at fault.
        step: usize,
        /// The step's action name.
        action: &'static str,
        /// The field at fault.
        field: &'static str,
        /// Its length in Unicode characters.
        chars: usize,
        /// The configured maximum (`Limits::max_say_chars`).
        max: usize,
    },
    /// A `say` text does not fit the plan's inline storage.
    #[error("say text has {chars} characters; at most {max} fit in a plan")]
    SayTooLong {
        /// Its length in Unicode characters.
        chars: usize,
        /// The ceiling ([`crate::bounded::MAX_SAY_CHARS`]).
        max: usize,
    },
    /// A configuration value is invalid (checked once, when the config is built).
    #[error("{config}.{field} = {value}: {reason}")]
    InvalidConfig {
        /// The configuration struct (e.g. `PlannerConfig`).
        config: &'static str,
        /// The field at fault.
        field: &'static str,
        /// The value given, formatted.
        value: String,
        /// What is required of it.
        reason: &'static str,
    },
    /// The command has no words the fallback parser can use.
    #[error("command {command:?} is empty; say e.g. 'move forward 1 meter'")]
    EmptyCommand {
        /// The command text.
        command: String,
    },
    /// The fallback parser could not understand a clause of the command.
    #[error("cannot understand {clause:?} in command {command:?}: {reason}")]
    NotUnderstood {
        /// The whole command text.
        command: String,
        /// The clause at fault.
        clause: String,
        /// Why.
        reason: NotUnderstood,
    },
}

/// Result with the agent's [`AgentError`].
pub type Result<T> = std::result::Result<T, AgentError>;
