//! An intent benchmark file: JSON Lines, one case per line,
//! `{"text": "...", "plans": [[steps...], ...alternatives], "category": "..."}`. The
//! first plan is the canonical one; an empty plan `[]` expects no motion (a non-command).
//! Format and conventions: `models/data/intents/README.md`.

use std::path::{Path, PathBuf};

use bora_agent::{Limits, Plan, Step};
use serde::Deserialize;

/// One line of a benchmark file.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentCase {
    /// Line number in the file (1-based), for messages.
    pub line: usize,
    /// What the person said.
    pub text: String,
    /// Every acceptable plan (at least one); `[]` means "no motion".
    pub plans: Vec<Vec<Step>>,
    /// The case's category, or "uncategorised".
    pub category: String,
    /// The first plan in the short form the tuned model writes (compact JSON, units as
    /// spoken; see `bora_agent::short`), where the line gives one (training data).
    pub short: Option<String>,
}

impl IntentCase {
    /// Whether the case expects no motion (its first plan is empty: a non-command).
    pub fn expects_no_motion(&self) -> bool {
        self.plans.first().is_some_and(Vec::is_empty)
    }
}

/// Why a benchmark file could not be read; each names the file and, for a bad line, the
/// line number and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// The file could not be read.
    #[error("cannot read the intent file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A line is not a valid case.
    #[error("{path}:{line}: {reason}")]
    BadLine {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, and what a case looks like.
        reason: String,
    },
    /// The file has no cases.
    #[error("{path}: no cases (expected JSON Lines: {{\"text\": ..., \"plans\": [[...]]}})")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    text: String,
    plans: Vec<Vec<Step>>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    short: Option<serde_json::Value>,
}

/// Reads a benchmark file; every expected plan must be valid under `limits` (or empty).
/// Blank lines are skipped.
pub fn load(path: &Path, limits: &Limits) -> Result<Vec<IntentCase>, DatasetError> {
    let text = std::fs::read_to_string(path).map_err(|source| DatasetError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut cases = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| DatasetError::BadLine {
            path: path.to_owned(),
            line: i + 1,
            reason,
        };
        let line: Line = serde_json::from_str(raw).map_err(|e| {
            bad(format!(
                "{e} (a case is {{\"text\": \"turn left\", \"plans\": [[{{\"action\":\"turn\",\"angle_deg\":90.0}}]], \"category\": \"basic\"}})"
            ))
        })?;
        check_plans(&line.plans, limits).map_err(bad)?;
        cases.push(IntentCase {
            line: i + 1,
            text: line.text,
            plans: line.plans,
            category: line.category.unwrap_or_else(|| "uncategorised".into()),
            short: line.short.map(|v| v.to_string()),
        });
    }
    if cases.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(cases)
}

/// Every expected plan is empty or valid under `limits`, and there is at least one.
fn check_plans(plans: &[Vec<Step>], limits: &Limits) -> Result<(), String> {
    if plans.is_empty() {
        return Err("\"plans\" is empty: give at least one plan ([] for no motion)".into());
    }
    for (k, steps) in plans.iter().enumerate() {
        if steps.is_empty() {
            continue;
        }
        let plan = Plan::new(steps.iter().cloned()).map_err(|e| format!("plan {k}: {e}"))?;
        limits
            .validate(plan)
            .map_err(|e| format!("plan {k} is not valid under the limits: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(lines: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(lines.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_cases_and_names_the_bad_line() {
        let limits = Limits::default();
        let f = file(concat!(
            r#"{"text":"turn left","plans":[[{"action":"turn","angle_deg":90.0}]],"category":"basic"}"#,
            "\n\n",
            r#"{"text":"thanks","plans":[[]]}"#,
            "\n"
        ));
        let cases = load(f.path(), &limits).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(
            (cases[1].line, cases[1].category.as_str()),
            (3, "uncategorised")
        );
        assert!(cases[1].expects_no_motion() && !cases[0].expects_no_motion());

        let f = file(concat!(
            r#"{"text":"a","plans":[[]]}"#,
            "\n",
            r#"{"text":"far","plans":[[{"action":"move","distance_m":9.0}]]}"#,
            "\n"
        ));
        let e = load(f.path(), &limits).unwrap_err().to_string();
        assert!(
            e.contains(":2: plan 0 is not valid") && e.contains("distance_m"),
            "{e}"
        );
        let f = file(r#"{"text":"a","plan":[[]]}"#);
        let e = load(f.path(), &limits).unwrap_err().to_string();
        assert!(e.contains(":1: ") && e.contains("a case is"), "{e}");
        let f = file("\n");
        assert!(matches!(
            load(f.path(), &limits),
            Err(DatasetError::Empty { .. })
        ));
    }
}
