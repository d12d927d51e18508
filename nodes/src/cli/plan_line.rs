//! One readable line for a plan report read back from `agent/plan`: what `bora say`
//! prints for a typed command and for a spoken one (`bora say --wav`).

use bora_pipeline::{PlanReport, Source};

/// One readable line for a plan report from agent/plan.
#[cfg_attr(not(feature = "ros"), allow(dead_code))]
pub fn summary(r: &PlanReport) -> String {
    let latency = r.latency_us.unwrap_or_default();
    let ms = |us: Option<u64>| us.map_or("-".to_owned(), |x| format!("{:.0} ms", x as f64 / 1e3));
    let plan = match &r.plan {
        None => "no motion".to_owned(),
        Some(steps) => serde_json::to_string(steps).unwrap_or_default(),
    };
    let reasons = if r.reasons.is_empty() {
        String::new()
    } else {
        format!("  ({})", r.reasons.join("; "))
    };
    format!(
        "{:<8} {plan}  [total {}, first token {}, prefill {}, decode {}, {} tokens]{reasons}",
        source_name(r.source),
        ms(r.latency_us.map(|l| l.total_us)),
        ms(latency.ttft_us),
        ms(r.latency_us.map(|l| l.prefill_us)),
        ms(r.latency_us.map(|l| l.decode_us)),
        latency.tokens,
    )
}

/// The JSON name of a plan's source.
fn source_name(s: Source) -> &'static str {
    match s {
        Source::Model => "model",
        Source::Fallback => "fallback",
        Source::Reflex => "reflex",
        Source::None => "none",
    }
}

/// The plan report for `command` among `messages` (raw `agent/plan` JSON), with its raw
/// text; messages that are not plan reports (another publisher) are skipped.
#[cfg(feature = "ros")]
pub fn report_for(
    messages: impl IntoIterator<Item = String>,
    command: &str,
) -> Option<(PlanReport, String)> {
    messages.into_iter().find_map(|raw| {
        let report = serde_json::from_str::<PlanReport>(&raw).ok()?;
        (report.command == command).then_some((report, raw))
    })
}

/// Prints a plan report: its raw JSON with `json`, else its [`summary`] line.
#[cfg(feature = "ros")]
pub fn print_report(report: &PlanReport, raw: &str, json: bool) {
    if json {
        println!("{raw}");
    } else {
        println!("{}", summary(report));
    }
}
