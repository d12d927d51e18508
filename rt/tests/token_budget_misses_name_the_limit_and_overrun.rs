//! A generation driven on a manual clock: a too-slow first token, a slow gap between
//! tokens and a too-long total are each detected, with the right limit named, the right
//! overrun, the cancel flag set and generation stopped.

use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bora_rt::budget::{Limit, MissPolicy, TokenBudget};
use bora_rt::clock::ManualClock;
use bora_rt::generation::{GenEvent, GenMetrics, GenOutcome, GenerationDriver};
use bora_rt::metrics::{Metrics, Quantity};

const MS: Duration = Duration::from_millis(1);

fn budget() -> TokenBudget {
    TokenBudget {
        first_token: Some(200 * MS),
        token_gap: Some(50 * MS),
        total: Some(1_000 * MS),
    }
}

/// A fake generator: each step advances the shared manual clock by its cost, then
/// yields its event. Counts how many events were pulled.
fn generator<'a>(
    clock: &'a ManualClock,
    steps: &'a [(Duration, GenEvent<u32>)],
    pulled: &'a mut usize,
) -> impl Iterator<Item = Result<GenEvent<u32>, Infallible>> + 'a {
    steps.iter().map(move |(cost, event)| {
        clock.advance(*cost);
        *pulled += 1;
        Ok(event.clone())
    })
}

fn prefill(tokens: usize) -> GenEvent<u32> {
    GenEvent::PrefillChunk { tokens }
}

#[test]
fn too_slow_first_token_is_a_first_token_miss() {
    let clock = ManualClock::new();
    let steps = [
        (100 * MS, prefill(64)),
        (80 * MS, prefill(64)),
        (60 * MS, GenEvent::Token(1)),
        (10 * MS, GenEvent::Token(2)),
    ];
    let mut driver = GenerationDriver::new(budget(), MissPolicy::Fallback);
    let mut pulled = 0;
    let mut got = Vec::new();
    let outcome = driver.run(generator(&clock, &steps, &mut pulled), &clock, |t| {
        got.push(t)
    });
    let GenOutcome::Missed { miss, stats } = outcome else {
        panic!("expected a miss, got {outcome:?}")
    };
    assert_eq!(miss.limit, Limit::FirstToken);
    assert_eq!(miss.limit_value, 200 * MS);
    assert_eq!(miss.observed, 240 * MS);
    assert_eq!(miss.over_by, 40 * MS);
    assert_eq!(
        got,
        vec![1],
        "the late token is still delivered, the next is not pulled"
    );
    assert_eq!(pulled, 3);
    assert_eq!(stats.prefill_chunks, 2);
    assert!(
        driver.cancel_flag().load(Ordering::SeqCst),
        "a miss cancels the generator"
    );
}

#[test]
fn prefill_alone_past_the_first_token_limit_stops_before_decoding() {
    let clock = ManualClock::new();
    let steps = [
        (150 * MS, prefill(64)),
        (90 * MS, prefill(64)),
        (5 * MS, GenEvent::Token(1)),
    ];
    let mut driver = GenerationDriver::new(budget(), MissPolicy::Stop);
    let mut pulled = 0;
    let outcome = driver.run(generator(&clock, &steps, &mut pulled), &clock, |_| {});
    let GenOutcome::Missed { miss, stats } = outcome else {
        panic!("expected a miss, got {outcome:?}")
    };
    assert_eq!(
        (miss.limit, miss.over_by, stats.tokens),
        (Limit::FirstToken, 40 * MS, 0)
    );
    assert_eq!(pulled, 2);
}

#[test]
fn slow_gap_between_tokens_is_a_token_gap_miss() {
    let clock = ManualClock::new();
    let steps = [
        (50 * MS, prefill(32)),
        (20 * MS, GenEvent::Token(10)),
        (30 * MS, GenEvent::Token(11)),
        (75 * MS, GenEvent::Token(12)),
        (10 * MS, GenEvent::Token(13)),
    ];
    let mut driver = GenerationDriver::new(budget(), MissPolicy::Fallback);
    let mut pulled = 0;
    let outcome = driver.run(generator(&clock, &steps, &mut pulled), &clock, |_| {});
    let GenOutcome::Missed { miss, stats } = outcome else {
        panic!("expected a miss, got {outcome:?}")
    };
    assert_eq!(miss.limit, Limit::TokenGap);
    assert_eq!(
        (miss.limit_value, miss.observed, miss.over_by),
        (50 * MS, 75 * MS, 25 * MS)
    );
    assert_eq!(miss.tokens, 3);
    assert_eq!(stats.time_to_first_token, Some(70 * MS));
    assert_eq!(pulled, 4);
}

#[test]
fn slow_total_is_a_total_miss() {
    let clock = ManualClock::new();
    // 100 ms to the first token, then 40 ms per token: within every gap, but token 24
    // arrives at 100 + 23 * 40 = 1020 ms, past the 1000 ms total.
    let mut steps = vec![(100 * MS, GenEvent::Token(0))];
    steps.extend((1..40).map(|i| (40 * MS, GenEvent::Token(i))));
    let mut driver = GenerationDriver::new(budget(), MissPolicy::Fallback);
    let mut pulled = 0;
    let outcome = driver.run(generator(&clock, &steps, &mut pulled), &clock, |_| {});
    let GenOutcome::Missed { miss, stats } = outcome else {
        panic!("expected a miss, got {outcome:?}")
    };
    assert_eq!(miss.limit, Limit::Total);
    assert_eq!((miss.observed, miss.over_by), (1_020 * MS, 20 * MS));
    assert_eq!(stats.tokens, 24);
}

#[test]
fn within_budget_completes_and_records_ttft_and_gaps() {
    let clock = ManualClock::new();
    let steps = [
        (30 * MS, prefill(16)),
        (20 * MS, GenEvent::Token(1)),
        (10 * MS, GenEvent::Token(2)),
        (12 * MS, GenEvent::Token(3)),
    ];
    let mut metrics = Metrics::new();
    let gen_metrics = GenMetrics {
        ttft: metrics
            .recorder(Quantity::TimeToFirstToken, "language")
            .unwrap(),
        token_gap: metrics.recorder(Quantity::TokenGap, "language").unwrap(),
        misses: metrics.counter("budget_miss"),
    };
    let mut driver =
        GenerationDriver::new(budget(), MissPolicy::Fallback).with_metrics(gen_metrics);
    let mut pulled = 0;
    let outcome = driver.run(generator(&clock, &steps, &mut pulled), &clock, |_| {});
    let GenOutcome::Completed(stats) = outcome else {
        panic!("expected completion, got {outcome:?}")
    };
    assert_eq!(
        (stats.tokens, stats.time_to_first_token, stats.elapsed),
        (3, Some(50 * MS), 72 * MS)
    );
    let m = driver.metrics_mut().unwrap();
    assert!(m.ttft.publish() && m.token_gap.publish());
    let report = metrics.report();
    let ttft = report
        .latency(Quantity::TimeToFirstToken, "language")
        .unwrap();
    assert_eq!(ttft.count, 1);
    assert!((ttft.max_us - 50_000.0).abs() < 50.0);
    let gaps = report.latency(Quantity::TokenGap, "language").unwrap();
    assert_eq!(gaps.count, 2);
    assert!((gaps.max_us - 12_000.0).abs() < 12.0);
    assert_eq!(report.counter("budget_miss"), Some(0));
}

#[test]
fn ignore_policy_records_the_miss_and_finishes() {
    let clock = ManualClock::new();
    let steps = [
        (300 * MS, GenEvent::Token(1)),
        (10 * MS, GenEvent::Token(2)),
    ];
    let mut driver = GenerationDriver::new(budget(), MissPolicy::Ignore);
    let mut pulled = 0;
    let outcome = driver.run(generator(&clock, &steps, &mut pulled), &clock, |_| {});
    let GenOutcome::Completed(stats) = outcome else {
        panic!("expected completion, got {outcome:?}")
    };
    assert_eq!(stats.tokens, 2);
    let miss = stats.ignored_miss.expect("the miss is reported");
    assert_eq!((miss.limit, miss.over_by), (Limit::FirstToken, 100 * MS));
    assert!(!driver.cancel_flag().load(Ordering::SeqCst));
}

#[test]
fn preemption_through_the_cancel_flag_stops_generation() {
    let clock = ManualClock::new();
    let mut driver = GenerationDriver::new(budget(), MissPolicy::Fallback);
    let cancel = driver.cancel_flag();
    let mut n = 0u32;
    let events = std::iter::from_fn(|| {
        n += 1;
        clock.advance(MS);
        if n == 3 {
            // A new command arrives while token 3 is being decoded.
            cancel.store(true, Ordering::SeqCst);
        }
        Some(Ok::<_, Infallible>(GenEvent::Token(n)))
    });
    let outcome = driver.run(events, &clock, |_| {});
    assert!(
        matches!(outcome, GenOutcome::Cancelled(stats) if stats.tokens == 3),
        "{outcome:?}"
    );
}

/// A generator that reads the cancel flag itself and ends its events (as bora's does
/// mid-prefill) is reported cancelled, not completed: issue #21 found every preemption
/// during prefill reported as a completed generation with empty text.
#[test]
fn a_generator_that_ends_on_the_cancel_flag_is_cancelled_not_completed() {
    let clock = ManualClock::new();
    let mut driver = GenerationDriver::new(budget(), MissPolicy::Fallback);
    let cancel = driver.cancel_flag();
    let mut n = 0u32;
    let events = std::iter::from_fn(|| {
        n += 1;
        clock.advance(MS);
        match n {
            1 => Some(Ok::<_, Infallible>(GenEvent::PrefillChunk { tokens: 16 })),
            // A new command arrives during the second chunk; the generator stops.
            _ => {
                cancel.store(true, Ordering::SeqCst);
                None
            }
        }
    });
    let outcome = driver.run(events, &clock, |_: u32| {});
    assert!(
        matches!(outcome, GenOutcome::Cancelled(stats) if stats.prefill_chunks == 1 && stats.tokens == 0),
        "{outcome:?}"
    );
}

#[test]
fn generator_errors_are_returned() {
    let clock = ManualClock::new();
    let events = vec![Ok(GenEvent::Token(1u32)), Err("forward pass failed")];
    let mut driver = GenerationDriver::new(budget(), MissPolicy::Fallback);
    let outcome = driver.run(events, &clock, |_| {});
    assert!(
        matches!(outcome, GenOutcome::Failed { error: "forward pass failed", stats } if stats.tokens == 1)
    );
}
