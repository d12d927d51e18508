//! `bora profile compare A.json B.json`: two reports side by side with deltas, and the
//! regressions of B against A past a threshold. Direction aware: a higher latency p99
//! or a lower tokens/s is a regression, the opposite an improvement.

use std::fmt::Write;
use std::path::Path;

use anyhow::Context;

use super::report::{ProfileReport, SCHEMA};

/// Whether a bigger value is better or worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    /// Latencies: lower is better.
    Lower,
    /// Throughputs: higher is better.
    Higher,
}

/// One compared figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Figure name, e.g. `p99 command_to_plan` (unit in `unit`).
    pub name: String,
    /// Its unit (`ms`, `tok/s`).
    pub unit: &'static str,
    /// Value in A (the baseline).
    pub a: Option<f64>,
    /// Value in B (the candidate).
    pub b: Option<f64>,
    /// Which direction is better.
    pub better: Better,
    /// B is worse than A by more than the threshold (and the floor, for times).
    pub regression: bool,
}

impl Row {
    /// Change from A to B in percent of A (None when either is missing or A is 0).
    pub fn delta_percent(&self) -> Option<f64> {
        match (self.a, self.b) {
            (Some(a), Some(b)) if a != 0.0 => Some((b - a) / a * 100.0),
            _ => None,
        }
    }
}

/// Thresholds for flagging a regression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Relative change that counts, percent (e.g. 10 = 10% worse).
    pub percent: f64,
    /// Times also have to be worse by at least this much, ms (sub-millisecond queue
    /// transits swing by large percentages with scheduling noise).
    pub min_ms: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            percent: 10.0,
            min_ms: 0.5,
        }
    }
}

/// Reads and checks a report file.
pub fn load(path: &Path) -> anyhow::Result<ProfileReport> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read profile report {}", path.display()))?;
    let report: ProfileReport = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a bora profile report (write one with `bora profile --json FILE`)",
            path.display()
        )
    })?;
    anyhow::ensure!(
        report.schema == SCHEMA,
        "{} has schema {:?}; this bora reads {SCHEMA:?} (re-run `bora profile` with this version)",
        path.display(),
        report.schema
    );
    Ok(report)
}

/// Compares B against A.
pub fn compare(a: &ProfileReport, b: &ProfileReport, t: Thresholds) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut push = |name: String, unit: &'static str, va: Option<f64>, vb: Option<f64>, better| {
        let regression = match (va, vb) {
            (Some(x), Some(y)) => {
                let factor = t.percent / 100.0;
                match better {
                    Better::Lower => y > x * (1.0 + factor) && (unit != "ms" || y - x > t.min_ms),
                    Better::Higher => y < x * (1.0 - factor),
                }
            }
            _ => false,
        };
        rows.push(Row {
            name,
            unit,
            a: va,
            b: vb,
            better,
            regression,
        });
    };
    let (ma, mb) = (&a.model, &b.model);
    push(
        "prefill".into(),
        "tok/s",
        Some(ma.prefill_tok_s),
        Some(mb.prefill_tok_s),
        Better::Higher,
    );
    push(
        "decode".into(),
        "tok/s",
        Some(ma.decode_tok_s),
        Some(mb.decode_tok_s),
        Better::Higher,
    );
    push(
        "TTFT cold".into(),
        "ms",
        Some(ma.ttft_cold_ms),
        Some(mb.ttft_cold_ms),
        Better::Lower,
    );
    push(
        "TTFT cached".into(),
        "ms",
        Some(ma.ttft_cached_ms),
        Some(mb.ttft_cached_ms),
        Better::Lower,
    );
    let mut names: Vec<&str> = a.latencies.iter().map(|l| l.name.as_str()).collect();
    for l in &b.latencies {
        if !names.contains(&l.name.as_str()) {
            names.push(&l.name);
        }
    }
    for name in names {
        let va = a.latency(name).filter(|l| l.count > 0).map(|l| l.p99_ms);
        let vb = b.latency(name).filter(|l| l.count > 0).map(|l| l.p99_ms);
        push(format!("p99 {name}"), "ms", va, vb, Better::Lower);
    }
    rows
}

/// The side-by-side table; regressions marked `REGRESSION`.
pub fn render(rows: &[Row], a: &str, b: &str, t: Thresholds) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "A = {a}\nB = {b}");
    let _ = writeln!(
        s,
        "regression: B worse than A by more than {}% (times also by more than {} ms)\n",
        t.percent, t.min_ms
    );
    let _ = writeln!(
        s,
        "{:<34} {:>6} {:>11} {:>11} {:>9}",
        "figure", "unit", "A", "B", "delta"
    );
    let num = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
    for r in rows {
        let delta = r
            .delta_percent()
            .map_or("-".to_owned(), |d| format!("{d:+.1}%"));
        let _ = writeln!(
            s,
            "{:<34} {:>6} {:>11} {:>11} {:>9}{}",
            r.name,
            r.unit,
            num(r.a),
            num(r.b),
            delta,
            if r.regression { "  REGRESSION" } else { "" }
        );
    }
    let n = rows.iter().filter(|r| r.regression).count();
    let _ = writeln!(s, "\n{n} regression(s)");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::report::{BudgetFigures, Latency, ModelFigures, Workload};

    fn row(rows: &[Row], name: &str) -> Row {
        rows.iter().find(|r| r.name == name).unwrap().clone()
    }

    fn latency(name: &str, p99_ms: f64) -> Latency {
        Latency {
            name: name.into(),
            what: String::new(),
            count: 10,
            p50_ms: p99_ms / 2.0,
            p90_ms: p99_ms * 0.9,
            p99_ms,
            p999_ms: p99_ms,
            max_ms: p99_ms,
        }
    }

    fn report() -> ProfileReport {
        ProfileReport {
            schema: SCHEMA.into(),
            bora_version: "0".into(),
            created_unix_s: 0,
            workload: Workload {
                mode: "in_process".into(),
                model_name: "m".into(),
                device: "cpu".into(),
                threads: 0,
                duration_s: 1.0,
                command_period_s: 1.0,
                stress_threads: 0,
                command_set: vec!["turn left".into()],
                commands_sent: 1,
                commands_queued: 1,
                commands_rejected: 0,
                plan_reports: 1,
            },
            machine: crate::profile::machine::probe(1.0),
            model: ModelFigures {
                architecture: "llama".into(),
                file_bytes: 1,
                load_ms: 100.0,
                prefix_ms: 10.0,
                ttft_cold_ms: 50.0,
                ttft_cached_ms: 20.0,
                prefill_tok_s: 500.0,
                decode_tok_s: 50.0,
                decode_bandwidth_fraction: 0.5,
            },
            latencies: vec![
                latency("command_to_plan", 400.0),
                latency("transit.scan", 0.005),
            ],
            budget: BudgetFigures::default(),
            queues: Vec::new(),
            counters: Vec::new(),
            threads: Vec::new(),
            peak_rss_bytes: None,
        }
    }

    #[test]
    fn identical_reports_have_no_regression() {
        let a = report();
        let rows = compare(&a, &a, Thresholds::default());
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| !r.regression));
    }

    #[test]
    fn direction_decides_what_is_a_regression() {
        let a = report();
        let mut b = a.clone();
        b.model.decode_tok_s = a.model.decode_tok_s * 0.5; // slower: worse
        b.model.prefill_tok_s = a.model.prefill_tok_s * 2.0; // faster: better
        b.latencies[0].p99_ms = a.latencies[0].p99_ms * 0.5; // lower: better
        let rows = compare(&a, &b, Thresholds::default());
        assert!(row(&rows, "decode").regression);
        assert!(!row(&rows, "prefill").regression);
        assert!(!row(&rows, &format!("p99 {}", a.latencies[0].name)).regression);
    }

    #[test]
    fn small_time_changes_stay_under_the_floor() {
        let a = report();
        let mut b = a.clone();
        let t = Thresholds {
            percent: 10.0,
            min_ms: 1.0,
        };
        let l = b
            .latencies
            .iter_mut()
            .find(|l| l.name == "transit.scan")
            .unwrap();
        l.p99_ms += 0.9; // far more than 10% of a few µs, but under the 1 ms floor
        assert!(!row(&compare(&a, &b, t), "p99 transit.scan").regression);
        let l = b
            .latencies
            .iter_mut()
            .find(|l| l.name == "transit.scan")
            .unwrap();
        l.p99_ms += 0.2;
        assert!(row(&compare(&a, &b, t), "p99 transit.scan").regression);
    }
}
