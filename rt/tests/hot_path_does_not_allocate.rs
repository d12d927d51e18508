//! Zero heap allocations on the steady-state hot path: pushing and popping every queue
//! kind (with transit stamps), writing and reading the latest-value slot, recording and
//! publishing metrics, budget checks, heartbeats, periodic-loop ticks and a whole
//! generation run under the driver.
//!
//! A counting global allocator counts allocations made by the current thread while it
//! is armed (a thread-local flag), so other test threads do not disturb the count.

use std::convert::Infallible;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use bora_rt::budget::{BudgetTracker, MissPolicy, TokenBudget};
use bora_rt::clock::{Clock, ManualClock, SystemClock};
use bora_rt::generation::{GenEvent, GenMetrics, GenOutcome, GenerationDriver};
use bora_rt::liveness::Heartbeat;
use bora_rt::metrics::{Metrics, Quantity};
use bora_rt::periodic::PeriodicLoop;
use bora_rt::queue::{spsc, MpmcQueue, Overflow, PushOutcome, TransitClock};
use bora_rt::slot::latest_slot;
use bora_rt::stage::Shutdown;
use bora_testkit::{allocations_in, CountingAlloc};

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const ROUNDS: u64 = if cfg!(miri) { 10 } else { 10_000 };

#[test]
fn counting_allocator_sees_an_allocation() {
    // The harness itself must be able to fail.
    let n = allocations_in(|| drop(std::hint::black_box(vec![1u8; 16])));
    assert_eq!(n, 1);
}

#[test]
fn queues_push_and_pop_without_allocating() {
    let clock: TransitClock = Arc::new(SystemClock::new());
    let (mut tx, mut rx) = spsc::<[u64; 4]>("spsc", 8, Some(Arc::clone(&clock))).unwrap();
    let reject =
        MpmcQueue::<[u64; 4]>::new("cmd", 8, Overflow::RejectNew, Some(Arc::clone(&clock)))
            .unwrap();
    let drop_oldest =
        MpmcQueue::<[u64; 4]>::new("scan", 8, Overflow::DropOldest, Some(clock)).unwrap();
    let mut metrics = Metrics::new();
    let mut transit = metrics.recorder(Quantity::QueueTransit, "all").unwrap();
    let n = allocations_in(|| {
        for i in 0..ROUNDS {
            let item = [i; 4];
            // Fill past capacity to exercise reject / drop-oldest, then drain.
            for _ in 0..10 {
                let _ = tx.push(item);
                let _ = reject.push(item);
                match drop_oldest.push(item) {
                    PushOutcome::Accepted | PushOutcome::Displaced(_) => {}
                    PushOutcome::Rejected(_) => unreachable!("drop-oldest never rejects"),
                }
            }
            while let Some((_, waited)) = rx.pop_with_transit() {
                transit.record(waited.unwrap_or_default());
            }
            while let Some((_, waited)) = reject.pop_with_transit() {
                transit.record(waited.unwrap_or_default());
            }
            while drop_oldest.pop().is_some() {}
        }
    });
    assert_eq!(n, 0, "queue hot path allocated {n} times");
    let c = drop_oldest.stats().counts();
    assert_eq!(c.drops, 2 * ROUNDS);
    assert_eq!(reject.stats().counts().rejects, 2 * ROUNDS);
}

#[test]
fn slot_writes_and_reads_without_allocating() {
    let mut w = latest_slot("world", [0.0f64; 8], 2).unwrap();
    let mut r = w.reader().unwrap();
    let n = allocations_in(|| {
        for i in 0..ROUNDS {
            w.write([i as f64; 8]);
            let v = r.read_versioned();
            assert_eq!(v.value[0], i as f64);
            assert!(r.read_new().is_some());
            assert!(r.read_new().is_none());
        }
    });
    assert_eq!(n, 0, "slot hot path allocated {n} times");
}

#[test]
fn metrics_record_and_publish_without_allocating() {
    let mut metrics = Metrics::new();
    let mut rec = metrics.recorder(Quantity::StageStep, "planner").unwrap();
    let misses = metrics.counter("budget_miss");
    let heartbeat = Heartbeat::new();
    // Warm up: one publish/collect cycle so both spares have circulated once.
    rec.record(Duration::from_micros(1));
    assert!(rec.publish());
    metrics.collect();
    let n = allocations_in(|| {
        for i in 0..ROUNDS {
            rec.record(Duration::from_nanos(i * 7919 % 90_000_000_000));
            rec.record_ns(i);
            misses.incr();
            heartbeat.beat();
            if i % 100 == 0 {
                assert!(rec.publish());
                metrics.collect();
            }
        }
    });
    assert_eq!(n, 0, "metrics hot path allocated {n} times");
    assert_eq!(heartbeat.count(), ROUNDS);
}

#[test]
fn budget_checks_and_a_driven_generation_do_not_allocate() {
    let clock = ManualClock::new();
    let budget = TokenBudget {
        first_token: Some(Duration::from_millis(200)),
        token_gap: Some(Duration::from_millis(50)),
        total: Some(Duration::from_secs(10)),
    };
    let mut metrics = Metrics::new();
    let gen_metrics = GenMetrics {
        ttft: metrics
            .recorder(Quantity::TimeToFirstToken, "language")
            .unwrap(),
        token_gap: metrics.recorder(Quantity::TokenGap, "language").unwrap(),
        misses: metrics.counter("budget_miss"),
    };
    let mut driver = GenerationDriver::new(budget, MissPolicy::Fallback).with_metrics(gen_metrics);
    let events: [GenEvent<u32>; 6] = [
        GenEvent::PrefillChunk { tokens: 64 },
        GenEvent::PrefillChunk { tokens: 12 },
        GenEvent::Token(1),
        GenEvent::Token(2),
        GenEvent::Token(3),
        GenEvent::Token(4),
    ];
    let mut sum = 0u32;
    let n = allocations_in(|| {
        for _ in 0..ROUNDS / 10 {
            let mut tracker = BudgetTracker::start(budget, clock.now());
            clock.advance(Duration::from_millis(1));
            assert!(tracker.on_prefill_chunk(clock.now()).is_ok());
            assert!(tracker.on_token(clock.now()).is_ok());
            let stream = events.iter().map(|e| {
                clock.advance(Duration::from_millis(5));
                Ok::<_, Infallible>(e.clone())
            });
            let outcome = driver.run(stream, &clock, |t| sum += t);
            assert!(matches!(outcome, GenOutcome::Completed(s) if s.tokens == 4));
        }
    });
    assert_eq!(n, 0, "budget/driver hot path allocated {n} times");
    assert_eq!(sum, 10 * (ROUNDS / 10) as u32);
}

#[test]
fn periodic_loop_ticks_without_allocating() {
    let clock = ManualClock::new();
    let mut metrics = Metrics::new();
    let mut lp = PeriodicLoop::new("planner", Duration::ZERO, Duration::from_millis(20))
        .unwrap()
        .with_jitter_recorder(metrics.recorder(Quantity::LoopJitter, "planner").unwrap())
        .with_step_recorder(metrics.recorder(Quantity::StageStep, "planner").unwrap())
        .with_overrun_counter(metrics.counter("planner_overruns"))
        .with_heartbeat(Heartbeat::new());
    let shutdown = Shutdown::new();
    let mut ticks = 0u64;
    let n = allocations_in(|| {
        lp.run(&clock, &shutdown, |tick| {
            ticks += 1;
            // Every 7th step overruns by a period and a half.
            let cost = if tick.index % 7 == 6 { 30 } else { 1 };
            clock.advance(Duration::from_millis(cost));
            if ticks == ROUNDS {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
    });
    assert_eq!(n, 0, "periodic loop allocated {n} times");
    assert!(lp.stats().overruns > 0);
}
