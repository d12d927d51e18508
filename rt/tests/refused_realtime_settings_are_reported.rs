//! A real-time setting the OS (or the request itself) refuses does not fail the stage
//! and is not silent: the outcome is returned with an errno and a reason, and a warning
//! names the stage and the errno.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bora_rt::rt::{self, RtOutcome};
use bora_rt::stage::StageBuilder;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// The two tests run one at a time: tracing caches each callsite's interest, and a
/// callsite first hit on another test's thread (no subscriber) can miss the warnings
/// this test's scoped subscriber waits for (seen once in CI).
static SERIAL: Mutex<()> = Mutex::new(());

/// Fields of each WARN event, as `name=value` strings.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<Vec<String>>>>);

struct FieldList(Vec<String>);

impl Visit for FieldList {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.push(format!("{}={:?}", field.name(), value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push(format!("{}={}", field.name(), value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.push(format!("{}={}", field.name(), value));
    }
}

impl<S: Subscriber> Layer<S> for Warnings {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() == Level::WARN {
            let mut fields = FieldList(Vec::new());
            event.record(&mut fields);
            self.0.lock().unwrap().push(fields.0);
        }
    }
}

#[test]
fn refused_priority_and_pinning_are_returned_and_warned() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let warnings = Warnings::default();
    let subscriber = tracing_subscriber::registry().with(warnings.clone());
    // A priority outside SCHED_FIFO's range and a core that does not exist are refused
    // on every machine, with or without CAP_SYS_NICE.
    let report = tracing::subscriber::with_default(subscriber, || {
        rt::apply("lang", Some(100_000), Some(1_000))
    });
    let RtOutcome::Refused { errno, reason } = &report.priority else {
        panic!("priority 1000 accepted: {report:?}")
    };
    assert_eq!(*errno, libc::EINVAL);
    assert!(reason.contains("1000"), "reason names the value: {reason}");
    assert!(
        matches!(report.pinning, RtOutcome::Refused { .. }),
        "{report:?}"
    );

    let warnings = warnings.0.lock().unwrap();
    assert_eq!(warnings.len(), 2, "one warning per refusal: {warnings:?}");
    for w in warnings.iter() {
        assert!(
            w.iter().any(|f| f == "stage=lang"),
            "warning names the stage: {w:?}"
        );
        assert!(
            w.iter().any(|f| f.starts_with("errno=")),
            "warning names the errno: {w:?}"
        );
    }
}

#[test]
fn a_stage_with_refused_settings_still_runs_and_reports_them() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let stage = StageBuilder::new("refused")
        .fifo_priority(1_000)
        .spawn(|ctx| ctx.rt().clone())
        .unwrap();
    assert!(
        matches!(stage.rt().priority, RtOutcome::Refused { errno, .. } if errno == libc::EINVAL)
    );
    let inside = stage.rt().clone();
    let seen_inside = stage.join_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(
        seen_inside, inside,
        "the body sees the same outcome the spawner got"
    );
}
