//! The cost of recording one latency sample on a hot path ([`Recorder::record`]), of a
//! budget check per token, and of publishing a histogram to the collector.

use std::hint::black_box;
use std::time::Duration;

use bora_rt::budget::{BudgetTracker, TokenBudget};
use bora_rt::metrics::{Metrics, Quantity};
use criterion::{criterion_group, criterion_main, Criterion};

fn metrics(c: &mut Criterion) {
    let mut m = Metrics::new();
    let mut r = m.recorder(Quantity::StageStep, "bench").expect("recorder");
    let mut ns = 1_000u64;
    c.bench_function("metrics/record_one_sample", |b| {
        b.iter(|| {
            // Vary the value so different buckets are touched, like real latencies.
            ns = ns
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                % 50_000_000;
            r.record(Duration::from_nanos(black_box(ns)));
        })
    });
    c.bench_function("metrics/publish_and_collect", |b| {
        b.iter(|| {
            r.record(Duration::from_micros(5));
            black_box(r.publish());
            m.collect();
        })
    });
    let budget = TokenBudget {
        first_token: Some(Duration::from_millis(200)),
        token_gap: Some(Duration::from_millis(50)),
        total: Some(Duration::from_secs(3600)),
    };
    let mut tracker = BudgetTracker::start(budget, Duration::ZERO);
    let mut now = Duration::ZERO;
    c.bench_function("budget/check_one_token", |b| {
        b.iter(|| {
            now += Duration::from_micros(10);
            black_box(tracker.on_token(black_box(now)).is_ok())
        })
    });
}

// criterion_group! generates an undocumented `pub fn benches`.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, metrics);
}
criterion_main!(group::benches);
