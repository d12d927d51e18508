//! Latency metrics: HDR histograms per [`Quantity`], recorded on hot paths without
//! locks or allocation ([`Recorder`], one per recording thread), merged by a collector
//! ([`Metrics`], owned by one cold thread such as diagnostics) into a serialisable
//! [`MetricsReport`] together with queue counters and named counters (budget misses,
//! loop overruns).
//!
//! Report values are in microseconds (`f64`, so sub-microsecond hops still show).

mod recorder;

pub use recorder::{Quantity, Recorder, HIGHEST_NS, LOWEST_NS, SIGFIGS};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::error::Result;
use crate::queue::{QueueCounts, QueueStats};
use recorder::{new_histogram, RecorderLink};

/// A named event counter (e.g. budget misses), shared between the thread that counts
/// and the collector. Cloning shares the count.
#[derive(Debug, Clone)]
pub struct Counter {
    name: Arc<str>,
    value: Arc<AtomicU64>,
}

impl Counter {
    /// A counter at zero, not attached to any collector (see [`Metrics::counter`]).
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            value: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Adds one. Never blocks or allocates.
    pub fn incr(&self) {
        self.value.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.value.fetch_add(n, Ordering::Relaxed);
    }

    /// The current count.
    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }

    /// The counter's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

struct Series {
    quantity: Quantity,
    label: String,
    total: Histogram<u64>,
    links: Vec<RecorderLink>,
}

/// The collector: hands out recorders, merges what they publish, and reports.
/// Owned by one thread; `collect` and `report` are cold-path calls.
#[derive(Default)]
pub struct Metrics {
    series: Vec<Series>,
    queues: Vec<Arc<QueueStats>>,
    counters: Vec<Counter>,
}

impl Metrics {
    /// An empty collector.
    pub fn new() -> Self {
        Self::default()
    }

    /// A recorder for `quantity` labelled `label` (e.g. the stage name). Recorders with
    /// the same quantity and label are merged into one histogram in the report.
    pub fn recorder(&mut self, quantity: Quantity, label: &str) -> Result<Recorder> {
        let (recorder, link) = Recorder::new(quantity, label)?;
        match self
            .series
            .iter_mut()
            .find(|s| s.quantity == quantity && s.label == label)
        {
            Some(series) => series.links.push(link),
            None => self.series.push(Series {
                quantity,
                label: label.to_owned(),
                total: new_histogram(label)?,
                links: vec![link],
            }),
        }
        Ok(recorder)
    }

    /// Includes a queue's counters in the report.
    pub fn watch_queue(&mut self, stats: &Arc<QueueStats>) {
        self.queues.push(Arc::clone(stats));
    }

    /// A named counter included in the report; asking twice for a name returns the same
    /// counter.
    pub fn counter(&mut self, name: &str) -> Counter {
        if let Some(c) = self.counters.iter().find(|c| c.name() == name) {
            return c.clone();
        }
        let c = Counter::new(name);
        self.counters.push(c.clone());
        c
    }

    /// Merges everything recorders have published into the totals and returns their
    /// emptied histograms. Never blocks a recorder.
    pub fn collect(&mut self) {
        for series in &mut self.series {
            for link in &mut series.links {
                while let Ok(mut h) = link.full_rx.pop() {
                    // Same bounds on both sides: adding cannot fail or resize.
                    let _ = series.total.add(&h);
                    h.reset();
                    // At most SPARES histograms circulate, so there is always room.
                    let _ = link.empty_tx.push(h);
                }
            }
        }
    }

    /// Collects, then summarises every series, queue and counter (totals since start).
    pub fn report(&mut self) -> MetricsReport {
        self.collect();
        MetricsReport {
            latencies: self
                .series
                .iter()
                .map(|s| LatencySummary::from_histogram(s.quantity, &s.label, &s.total))
                .collect(),
            queues: self.queues.iter().map(|q| q.counts()).collect(),
            counters: self
                .counters
                .iter()
                .map(|c| CounterValue {
                    name: c.name().to_owned(),
                    value: c.get(),
                })
                .collect(),
        }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("series", &self.series.len())
            .field("queues", &self.queues.len())
            .field("counters", &self.counters)
            .finish()
    }
}

/// A snapshot of all metrics; serialises to JSON for /diagnostics and reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricsReport {
    /// One summary per quantity and label.
    pub latencies: Vec<LatencySummary>,
    /// Queue counters (drops and rejects included).
    pub queues: Vec<QueueCounts>,
    /// Named counters (budget misses, loop overruns...).
    pub counters: Vec<CounterValue>,
}

impl MetricsReport {
    /// The summary for `quantity` and `label`, if recorded.
    pub fn latency(&self, quantity: Quantity, label: &str) -> Option<&LatencySummary> {
        self.latencies
            .iter()
            .find(|l| l.quantity == quantity && l.label == label)
    }

    /// The value of the counter `name`, if registered.
    pub fn counter(&self, name: &str) -> Option<u64> {
        self.counters
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value)
    }
}

/// A named counter's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CounterValue {
    /// The counter's name.
    pub name: String,
    /// Its count.
    pub value: u64,
}

/// Distribution of one quantity; all times in microseconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencySummary {
    /// What was measured.
    pub quantity: Quantity,
    /// Where (stage or queue name).
    pub label: String,
    /// Number of samples.
    pub count: u64,
    /// Median, µs.
    pub p50_us: f64,
    /// 90th percentile, µs.
    pub p90_us: f64,
    /// 99th percentile, µs.
    pub p99_us: f64,
    /// 99.9th percentile, µs.
    pub p999_us: f64,
    /// Largest sample, µs.
    pub max_us: f64,
}

impl LatencySummary {
    /// Summarises a histogram of nanosecond samples (all zeros when it is empty).
    pub fn from_histogram(quantity: Quantity, label: &str, h: &Histogram<u64>) -> Self {
        let us = |ns: u64| ns as f64 / 1_000.0;
        let q = |quantile: f64| {
            if h.is_empty() {
                0.0
            } else {
                us(h.value_at_quantile(quantile))
            }
        };
        Self {
            quantity,
            label: label.to_owned(),
            count: h.len(),
            p50_us: q(0.50),
            p90_us: q(0.90),
            p99_us: q(0.99),
            p999_us: q(0.999),
            max_us: if h.is_empty() { 0.0 } else { us(h.max()) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn published_samples_reach_the_report_in_microseconds() {
        let mut m = Metrics::new();
        let mut r = m.recorder(Quantity::TokenGap, "language").unwrap();
        for ms in 1..=100u64 {
            r.record(Duration::from_millis(ms));
        }
        assert_eq!(
            m.report()
                .latency(Quantity::TokenGap, "language")
                .unwrap()
                .count,
            0,
            "not yet published"
        );
        assert!(r.publish());
        let report = m.report();
        let s = report.latency(Quantity::TokenGap, "language").unwrap();
        assert_eq!(s.count, 100);
        assert!((s.p50_us - 50_000.0).abs() <= 50.0, "p50 {}", s.p50_us);
        assert!((s.p99_us - 99_000.0).abs() <= 99.0, "p99 {}", s.p99_us);
        assert!((s.max_us - 100_000.0).abs() <= 100.0, "max {}", s.max_us);
    }

    #[test]
    fn publish_without_collect_keeps_samples_until_a_spare_returns() {
        let mut m = Metrics::new();
        let mut r = m.recorder(Quantity::StageStep, "planner").unwrap();
        for round in 0..5u64 {
            r.record(Duration::from_micros(10 + round));
            let _ = r.publish();
        }
        // Two spares circulate: the last rounds stayed in the active histogram.
        assert!(r.pending() > 0);
        m.collect();
        assert!(r.publish());
        let report = m.report();
        assert_eq!(
            report
                .latency(Quantity::StageStep, "planner")
                .unwrap()
                .count,
            5
        );
    }

    #[test]
    fn dropped_recorder_hands_over_its_samples_and_same_labels_merge() {
        let mut m = Metrics::new();
        let mut a = m.recorder(Quantity::QueueTransit, "cmd").unwrap();
        let mut b = m.recorder(Quantity::QueueTransit, "cmd").unwrap();
        a.record(Duration::from_micros(3));
        b.record(Duration::from_micros(4));
        drop(a);
        drop(b);
        assert_eq!(
            m.report()
                .latency(Quantity::QueueTransit, "cmd")
                .unwrap()
                .count,
            2
        );
    }

    #[test]
    fn counters_and_queues_appear_in_the_json_report() {
        let mut m = Metrics::new();
        let misses = m.counter("budget_miss");
        misses.incr();
        m.counter("budget_miss").add(2);
        let q = crate::queue::MpmcQueue::new("scan", 1, crate::queue::Overflow::DropOldest, None)
            .unwrap();
        m.watch_queue(q.stats());
        let _ = q.push(1);
        let _ = q.push(2);
        let report = m.report();
        assert_eq!(report.counter("budget_miss"), Some(3));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["queues"][0]["drops"], 1);
        assert_eq!(json["queues"][0]["overflow"], "drop_oldest");
        assert_eq!(json["counters"][0]["value"], 3);
    }
}
