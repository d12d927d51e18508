//! Single-producer single-consumer ring (`rtrb`), split into producer and consumer
//! types. Overflow policy: reject new (the producer cannot remove old items without
//! racing the consumer; use [`super::MpmcQueue`] with drop-oldest for sensor streams).

use std::sync::Arc;
use std::time::Duration;

use super::{Overflow, QueueStats, Stamped, Transit, TransitClock};
use crate::error::Result;

/// Builds a bounded SPSC queue named `name` holding up to `capacity` items, all
/// allocated now. With `transit`, each item is stamped on push and
/// [`SpscConsumer::pop_with_transit`] reports how long it waited.
pub fn spsc<T>(
    name: &str,
    capacity: usize,
    transit: Option<TransitClock>,
) -> Result<(SpscProducer<T>, SpscConsumer<T>)> {
    let stats = QueueStats::new(name, capacity, Overflow::RejectNew)?;
    let (tx, rx) = rtrb::RingBuffer::new(capacity);
    let transit = Transit(transit);
    Ok((
        SpscProducer {
            tx,
            stats: Arc::clone(&stats),
            transit: transit.clone(),
        },
        SpscConsumer { rx, stats, transit },
    ))
}

/// The sending end of an SPSC queue; one thread owns it.
#[derive(Debug)]
pub struct SpscProducer<T> {
    tx: rtrb::Producer<Stamped<T>>,
    stats: Arc<QueueStats>,
    transit: Transit,
}

impl<T> SpscProducer<T> {
    /// Queues `item`, or hands it back when the queue is full (counted as a reject).
    /// Never blocks or allocates.
    pub fn push(&mut self, item: T) -> std::result::Result<(), T> {
        match self.tx.push(self.transit.stamp(item)) {
            Ok(()) => {
                self.stats.pushed();
                Ok(())
            }
            Err(rtrb::PushError::Full(stamped)) => {
                self.stats.rejected();
                Err(stamped.item)
            }
        }
    }

    /// Free slots right now.
    pub fn free(&self) -> usize {
        self.tx.slots()
    }

    /// Whether the consumer has been dropped (items pushed now are never read).
    pub fn is_abandoned(&self) -> bool {
        self.tx.is_abandoned()
    }

    /// The queue's counters (shared with the consumer).
    pub fn stats(&self) -> &Arc<QueueStats> {
        &self.stats
    }
}

/// The receiving end of an SPSC queue; one thread owns it.
#[derive(Debug)]
pub struct SpscConsumer<T> {
    rx: rtrb::Consumer<Stamped<T>>,
    stats: Arc<QueueStats>,
    transit: Transit,
}

impl<T> SpscConsumer<T> {
    /// Takes the oldest item, if any. Never blocks or allocates.
    pub fn pop(&mut self) -> Option<T> {
        self.pop_with_transit().map(|(item, _)| item)
    }

    /// Takes the oldest item with its time in the queue (`None` when the queue was
    /// built without a transit clock).
    pub fn pop_with_transit(&mut self) -> Option<(T, Option<Duration>)> {
        let stamped = self.rx.pop().ok()?;
        self.stats.popped();
        let waited = self.transit.since(stamped.at_ns);
        Some((stamped.item, waited))
    }

    /// Items queued right now.
    pub fn len(&self) -> usize {
        self.rx.slots()
    }

    /// Whether the queue is empty right now.
    pub fn is_empty(&self) -> bool {
        self.rx.is_empty()
    }

    /// Whether the producer has been dropped (no more items will come after these).
    pub fn is_abandoned(&self) -> bool {
        self.rx.is_abandoned()
    }

    /// The queue's counters (shared with the producer).
    pub fn stats(&self) -> &Arc<QueueStats> {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn full_queue_hands_the_new_item_back_and_counts_it() {
        let (mut tx, mut rx) = spsc::<u32>("cmd", 2, None).unwrap();
        assert_eq!(tx.push(1), Ok(()));
        assert_eq!(tx.push(2), Ok(()));
        assert_eq!(tx.push(3), Err(3));
        assert_eq!(rx.pop(), Some(1));
        assert_eq!(rx.pop(), Some(2));
        assert_eq!(rx.pop(), None);
        let c = tx.stats().counts();
        assert_eq!(
            (c.pushes, c.pops, c.rejects, c.drops, c.len),
            (2, 2, 1, 0, 0)
        );
        assert_eq!(c.overflow, Overflow::RejectNew);
    }

    #[test]
    fn transit_time_is_measured_on_the_shared_clock() {
        let clock = ManualClock::new();
        let (mut tx, mut rx) = spsc::<&str>("scan", 4, Some(Arc::new(clock.clone()))).unwrap();
        tx.push("a").unwrap();
        clock.advance(Duration::from_micros(250));
        assert_eq!(
            rx.pop_with_transit(),
            Some(("a", Some(Duration::from_micros(250))))
        );
    }

    #[test]
    fn zero_capacity_is_an_error_naming_the_queue() {
        let err = spsc::<u8>("voice", 0, None).unwrap_err();
        assert!(
            matches!(err, crate::Error::InvalidCapacity { ref queue, capacity: 0, .. } if queue == "voice")
        );
    }
}
