//! One generic parameter table, used by both nodes (`bora agent`, `bora sim`): each
//! parameter is declared once, as a [`Param`] (name, type, unit, default, allowed range,
//! meaning, and how a value reaches the configuration). `--list-params`, the params-file
//! checks, the defaults and the range checks all read that declaration.
//!
//! ROS-free, so it is unit-tested without a ROS installation; the nodes convert r2r's
//! parameter values into [`ParamValue`].

use serde::Serialize;

/// A parameter value as ROS delivers it.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// bool
    Bool(bool),
    /// integer
    Int(i64),
    /// double
    Double(f64),
    /// string
    Str(String),
    /// anything else (arrays, byte arrays)
    Other(String),
}

impl ParamValue {
    /// The value as a number (an integer widened; NaN for a non-number). For setters,
    /// which only see values [`ParamTable::check`] accepted.
    pub fn as_f64(&self) -> f64 {
        match self {
            ParamValue::Double(d) => *d,
            ParamValue::Int(i) => *i as f64,
            _ => f64::NAN,
        }
    }

    /// The value as an integer (0 for a non-integer). For setters, after the check.
    pub fn as_i64(&self) -> i64 {
        match self {
            ParamValue::Int(i) => *i,
            _ => 0,
        }
    }

    /// The value as a count (0 for a negative or non-integer value). For setters.
    pub fn as_usize(&self) -> usize {
        usize::try_from(self.as_i64()).unwrap_or(0)
    }

    /// The value as text ("" for a non-string). For setters, after the check.
    pub fn as_str(&self) -> &str {
        match self {
            ParamValue::Str(s) => s,
            _ => "",
        }
    }

    /// The value as a flag (false for a non-bool). For setters, after the check.
    pub fn as_bool(&self) -> bool {
        matches!(self, ParamValue::Bool(true))
    }

    /// The value as an error message shows it (strings quoted).
    pub fn shown(&self) -> String {
        match self {
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Double(d) => d.to_string(),
            ParamValue::Str(s) => format!("{s:?}"),
            ParamValue::Other(s) => s.clone(),
        }
    }

    /// The value as a params file writes it (strings bare, doubles with a decimal point).
    pub fn written(&self) -> String {
        match self {
            ParamValue::Double(d) => format!("{d:?}"),
            ParamValue::Str(s) | ParamValue::Other(s) => s.clone(),
            other => other.shown(),
        }
    }

    /// The value as JSON (for `--check-params`).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            ParamValue::Bool(b) => serde_json::json!(b),
            ParamValue::Int(i) => serde_json::json!(i),
            ParamValue::Double(d) => serde_json::json!(d),
            ParamValue::Str(s) | ParamValue::Other(s) => serde_json::json!(s),
        }
    }
}

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// true/false
    Bool,
    /// whole number
    Int,
    /// floating point
    Double,
    /// text
    String,
}

/// A parameter that is unknown, of the wrong type or out of range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("parameter `{name}` = {value}: {reason}")]
pub struct ParamError {
    /// The parameter's name.
    pub name: String,
    /// The value given.
    pub value: String,
    /// What is wrong and what it must be.
    pub reason: String,
}

impl ParamError {
    /// An error about `value` of the parameter `name`.
    pub fn new(name: &str, value: &ParamValue, reason: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            value: value.shown(),
            reason: reason.into(),
        }
    }
}

/// The values a parameter accepts beyond its type (numbers are always finite).
#[derive(Debug, Clone, Copy)]
pub enum Range {
    /// Every value of the type.
    Any,
    /// From the first to the second number, both included (in the parameter's unit).
    Between(f64, f64),
    /// Above 0 and at most this (infinity: no upper bound), in the parameter's unit.
    Positive(f64),
    /// `off` switches the setting off (`means` says what that does); else `on` applies.
    OffOr {
        /// The value that switches the setting off.
        off: f64,
        /// What `off` means, e.g. "any core".
        means: &'static str,
        /// The values that switch it on.
        on: &'static Range,
    },
    /// Text that `accepts` takes; `rule` says which (also the type error).
    Text {
        /// The accepted values in words, e.g. `"cpu" or "cuda:N"`.
        rule: &'static str,
        /// Whether a text is accepted.
        accepts: fn(&str) -> bool,
    },
}

impl Range {
    /// Whether the number `x` is in range (text ranges take no number).
    fn holds(&self, x: f64) -> bool {
        match *self {
            Range::Any => true,
            Range::Between(lo, hi) => (lo..=hi).contains(&x),
            Range::Positive(hi) => x > 0.0 && x <= hi,
            Range::OffOr { off, on, .. } => x == off || on.holds(x),
            Range::Text { .. } => false,
        }
    }

    /// The accepted values in words, e.g. "1 to 99" or "greater than 0".
    fn words(&self, unit: &str) -> String {
        let spaced = if unit.is_empty() {
            String::new()
        } else {
            format!(" {unit}")
        };
        match *self {
            Range::Any => "any value".into(),
            Range::Between(lo, hi) => format!("{lo} to {hi}{spaced}"),
            Range::Positive(hi) if hi.is_finite() => {
                format!("greater than 0 and at most {hi}{spaced}")
            }
            Range::Positive(_) => "greater than 0".into(),
            Range::OffOr { off, means, on } => format!("{off} ({means}) or {}", on.words(unit)),
            Range::Text { rule, .. } => rule.into(),
        }
    }

    /// The accepted values in short, for the `--list-params` range column.
    pub fn column(&self) -> String {
        match *self {
            Range::Any => "any".into(),
            Range::Between(lo, hi) => format!("{lo}..={hi}"),
            Range::Positive(hi) if hi.is_finite() => format!("(0, {hi}]"),
            Range::Positive(_) => "> 0".into(),
            Range::OffOr { off, on, .. } => format!("{off} | {}", on.column()),
            Range::Text { rule, .. } => rule.into(),
        }
    }
}

/// One declared parameter of a configuration `C`.
pub struct Param<C: 'static> {
    /// Full name (dots separate the YAML nesting levels).
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Its unit ("" for none), used in range messages.
    pub unit: &'static str,
    /// Its default, taken from the runtime's `Default` where the runtime has one.
    pub default: fn() -> ParamValue,
    /// The values it accepts.
    pub range: Range,
    /// What it is for, with its unit.
    pub doc: &'static str,
    /// Writes a checked value into the configuration.
    pub apply: fn(&mut C, &ParamValue),
    /// The value the configuration already holds, if any (None: not set yet).
    pub given: fn(&C) -> Option<ParamValue>,
}

/// A node's parameter table: every parameter of a configuration `C`, declared once.
pub struct ParamTable<C: 'static> {
    /// The subcommand that lists the parameters (`agent`, `sim`).
    pub command: &'static str,
    /// The parameters, in `--list-params` order.
    pub params: &'static [Param<C>],
}

/// One parameter as `--list-params --json` prints it.
#[derive(Serialize)]
struct Listed<'a> {
    name: &'a str,
    kind: Kind,
    default: String,
    unit: &'a str,
    range: String,
    doc: &'a str,
}

impl<C> ParamTable<C> {
    /// The declaration of `name`, if declared.
    pub fn find(&self, name: &str) -> Option<&'static Param<C>> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Every declared name, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.params.iter().map(|p| p.name).collect()
    }

    /// `v` if it has `p`'s type, with an integer widened for a double parameter.
    pub fn typed(&self, p: &Param<C>, v: &ParamValue) -> Result<ParamValue, ParamError> {
        let bad = |reason: &str| Err(ParamError::new(p.name, v, reason));
        match (p.kind, v) {
            (Kind::Bool, ParamValue::Bool(_)) | (Kind::Int, ParamValue::Int(_)) => Ok(v.clone()),
            (Kind::Double, ParamValue::Double(d)) if d.is_finite() => Ok(v.clone()),
            (Kind::Double, ParamValue::Int(i)) => Ok(ParamValue::Double(*i as f64)),
            (Kind::String, ParamValue::Str(_)) => Ok(v.clone()),
            (Kind::Bool, _) => bad("must be true or false"),
            (Kind::Int, _) => bad("must be an integer"),
            (Kind::Double, _) => bad("must be a finite number"),
            (Kind::String, _) => match p.range {
                Range::Text { rule, .. } => bad(&format!("must be {rule}")),
                _ => bad("must be a string"),
            },
        }
    }

    /// `v` if it has `p`'s type and is in its range (typed as [`Self::typed`] says).
    pub fn check(&self, p: &Param<C>, v: &ParamValue) -> Result<ParamValue, ParamError> {
        let v = self.typed(p, v)?;
        let ok = match (&v, p.range) {
            (ParamValue::Str(s), Range::Text { accepts, .. }) => accepts(s),
            (ParamValue::Int(_) | ParamValue::Double(_), r) => r.holds(v.as_f64()),
            _ => true,
        };
        if ok {
            Ok(v)
        } else {
            let reason = format!("must be {}", p.range.words(p.unit));
            Err(ParamError::new(p.name, &v, reason))
        }
    }

    /// The error for a parameter this table does not declare.
    pub fn unknown(&self, name: &str, v: &ParamValue) -> ParamError {
        let command = self.command;
        let reason =
            format!("is not a parameter of bora {command} (see `bora {command} --list-params`)");
        ParamError::new(name, v, reason)
    }

    /// Checks `(name, value)` pairs and applies each to `config`, in order.
    pub fn apply_all<'a>(
        &self,
        config: &mut C,
        values: impl IntoIterator<Item = (&'a str, &'a ParamValue)>,
    ) -> Result<(), ParamError> {
        for (name, v) in values {
            let p = self.find(name).ok_or_else(|| self.unknown(name, v))?;
            (p.apply)(config, &self.check(p, v)?);
        }
        Ok(())
    }

    /// Applies every declared default to `config`.
    pub fn apply_defaults(&self, config: &mut C) {
        for p in self.params {
            (p.apply)(config, &(p.default)());
        }
    }

    /// Checks every value `config` already holds against its declaration.
    pub fn check_given(&self, config: &C) -> Result<(), ParamError> {
        for p in self.params {
            if let Some(v) = (p.given)(config) {
                self.check(p, &v)?;
            }
        }
        Ok(())
    }

    /// Every declared default as JSON, keyed by name (for `--check-params`).
    pub fn defaults_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let defaults = self.params.iter().map(|p| (p.name, (p.default)()));
        defaults.map(|(n, v)| (n.to_owned(), v.to_json())).collect()
    }

    /// The `--list-params` output: JSON, or a table with columns `widths` (name,
    /// default) wide.
    pub fn listing(&self, json: bool, widths: (usize, usize)) -> serde_json::Result<String> {
        let listed: Vec<Listed> = self.params.iter().map(Listed::of).collect();
        if json {
            return serde_json::to_string_pretty(&listed);
        }
        let (name_w, default_w) = widths;
        let lines: Vec<String> = listed
            .iter()
            .map(|p| {
                let kind = format!("{:?}", p.kind).to_lowercase();
                let (name, default, range, doc) = (p.name, &p.default, &p.range, p.doc);
                format!("{name:<name_w$} {kind:<7} {default:<default_w$} {doc} [{range}]")
            })
            .collect();
        Ok(lines.join("\n"))
    }
}

impl<'a> Listed<'a> {
    /// `p` as listed.
    fn of<C>(p: &'a Param<C>) -> Self {
        Self {
            name: p.name,
            kind: p.kind,
            default: (p.default)().written(),
            unit: p.unit,
            range: p.range.column(),
            doc: p.doc,
        }
    }
}

/// A `given` for a configuration that keeps no record of what was given.
pub fn never_given<C>(_: &C) -> Option<ParamValue> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration of one number, for the table's own tests.
    #[derive(Default)]
    struct Conf(f64);

    static TABLE: ParamTable<Conf> = ParamTable {
        command: "test",
        params: &[
            Param {
                name: "speed",
                kind: Kind::Double,
                unit: "m/s",
                default: || ParamValue::Double(0.5),
                range: Range::OffOr {
                    off: 0.0,
                    means: "stopped",
                    on: &Range::Positive(2.0),
                },
                doc: "a speed, m/s",
                apply: |c, v| c.0 = v.as_f64(),
                given: never_given,
            },
            Param {
                name: "count",
                kind: Kind::Int,
                unit: "",
                default: || ParamValue::Int(3),
                range: Range::Between(1.0, 9.0),
                doc: "a count",
                apply: |c, v| c.0 = v.as_f64(),
                given: never_given,
            },
        ],
    };

    fn apply(name: &str, v: ParamValue) -> Result<f64, ParamError> {
        let mut c = Conf::default();
        TABLE.apply_all(&mut c, [(name, &v)]).map(|()| c.0)
    }

    #[test]
    fn values_are_typed_and_range_checked_with_the_range_in_the_message() {
        assert_eq!(apply("speed", ParamValue::Int(1)), Ok(1.0));
        assert_eq!(apply("speed", ParamValue::Double(0.0)), Ok(0.0));
        let e = apply("speed", ParamValue::Double(2.5)).expect_err("above the range");
        assert_eq!(
            e.reason,
            "must be 0 (stopped) or greater than 0 and at most 2 m/s"
        );
        let e = apply("speed", ParamValue::Double(f64::NAN)).expect_err("not finite");
        assert_eq!(e.reason, "must be a finite number");
        let e = apply("count", ParamValue::Double(2.0)).expect_err("not an integer");
        assert_eq!(
            (e.name.as_str(), e.reason.as_str()),
            ("count", "must be an integer")
        );
        let e = apply("count", ParamValue::Int(10)).expect_err("above the range");
        assert_eq!(e.to_string(), "parameter `count` = 10: must be 1 to 9");
        let e = apply("size", ParamValue::Int(1)).expect_err("undeclared");
        assert!(e.reason.contains("bora test --list-params"), "{e}");
    }

    #[test]
    fn the_listing_shows_every_declaration() -> serde_json::Result<()> {
        let text = TABLE.listing(false, (6, 4))?;
        assert_eq!(
            text,
            "speed  double  0.5  a speed, m/s [0 | (0, 2]]\ncount  int     3    a count [1..=9]"
        );
        let json: serde_json::Value = serde_json::from_str(&TABLE.listing(true, (0, 0))?)?;
        assert_eq!(json[0]["default"], "0.5");
        assert_eq!(json[0]["unit"], "m/s");
        assert_eq!(json[1]["kind"], "int");
        Ok(())
    }
}
