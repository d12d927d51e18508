//! [`Recorder`]: the hot-path end of a latency metric. One thread owns it and records
//! into its own HDR histogram (no lock, no allocation); `publish` hands the filled
//! histogram to the collector and takes back an empty one over two SPSC rings, so
//! neither side ever waits for the other.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::clock::duration_to_ns;
use crate::error::{Error, Result};

/// Smallest value a histogram tells apart, in nanoseconds.
pub const LOWEST_NS: u64 = 1;
/// Largest value a histogram holds, in nanoseconds (60 s); larger samples are clamped.
pub const HIGHEST_NS: u64 = 60_000_000_000;
/// Significant decimal digits kept (3: values within 0.1%).
pub const SIGFIGS: u8 = 3;
/// Histograms that circulate between a recorder and the collector besides the
/// recorder's active one.
pub(crate) const SPARES: usize = 2;

/// The quantities bora measures; one or more histograms each (by label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// Time an item spent in a queue, push to pop.
    QueueTransit,
    /// Time one stage step took.
    StageStep,
    /// How late a periodic loop woke after its deadline.
    LoopJitter,
    /// Time from the start of generation to the first token.
    TimeToFirstToken,
    /// Time between two generated tokens.
    TokenGap,
    /// Time from a voice command arriving to the first action it caused.
    CommandToAction,
}

/// A fresh histogram with the runtime's fixed bounds (never resizes, so recording into
/// it never allocates).
pub(crate) fn new_histogram(label: &str) -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGFIGS).map_err(|e| Error::Histogram {
        label: label.to_owned(),
        reason: format!("{e:?}"),
    })
}

/// Records one quantity on one thread. Created by [`super::Metrics::recorder`].
pub struct Recorder {
    quantity: Quantity,
    label: String,
    active: Histogram<u64>,
    full_tx: rtrb::Producer<Histogram<u64>>,
    empty_rx: rtrb::Consumer<Histogram<u64>>,
}

/// The collector's end of one recorder's handoff.
pub(crate) struct RecorderLink {
    pub(crate) full_rx: rtrb::Consumer<Histogram<u64>>,
    pub(crate) empty_tx: rtrb::Producer<Histogram<u64>>,
}

impl Recorder {
    pub(crate) fn new(quantity: Quantity, label: &str) -> Result<(Self, RecorderLink)> {
        let (full_tx, full_rx) = rtrb::RingBuffer::new(SPARES);
        let (mut empty_tx, empty_rx) = rtrb::RingBuffer::new(SPARES);
        for _ in 0..SPARES {
            // The ring was just made with room for exactly SPARES items.
            let _ = empty_tx.push(new_histogram(label)?);
        }
        let recorder = Self {
            quantity,
            label: label.to_owned(),
            active: new_histogram(label)?,
            full_tx,
            empty_rx,
        };
        Ok((recorder, RecorderLink { full_rx, empty_tx }))
    }

    /// Records one sample. Never locks or allocates; samples over 60 s are clamped.
    /// Costs about 14 ns on the build machine (`--bench metrics`, including the bench's
    /// own value generation).
    pub fn record(&mut self, value: Duration) {
        self.active.saturating_record(duration_to_ns(value));
    }

    /// Records one sample given in nanoseconds.
    pub fn record_ns(&mut self, ns: u64) {
        self.active.saturating_record(ns);
    }

    /// Samples recorded since the last successful publish.
    pub fn pending(&self) -> u64 {
        self.active.len()
    }

    /// Hands the samples recorded so far to the collector. Returns false (and keeps
    /// recording into the same histogram, losing nothing) when the collector has not
    /// yet returned an empty histogram. Never blocks or allocates; call it every second
    /// or so, not per sample (a publish plus the collector's merge costs about 20 µs).
    pub fn publish(&mut self) -> bool {
        if self.active.is_empty() {
            return true;
        }
        if self.full_tx.slots() == 0 {
            return false;
        }
        let Ok(mut spare) = self.empty_rx.pop() else {
            return false;
        };
        std::mem::swap(&mut self.active, &mut spare);
        // Checked above that there is a free slot, and this is the only producer.
        if let Err(rtrb::PushError::Full(back)) = self.full_tx.push(spare) {
            // Not reachable; keep the samples rather than lose them.
            let _ = self.active.add(&back);
        }
        true
    }

    /// The quantity this recorder measures.
    pub fn quantity(&self) -> Quantity {
        self.quantity
    }

    /// Its label (stage or queue name).
    pub fn label(&self) -> &str {
        &self.label
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Cold path: hand over whatever is left.
        let _ = self.publish();
    }
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("quantity", &self.quantity)
            .field("label", &self.label)
            .field("pending", &self.active.len())
            .finish()
    }
}
