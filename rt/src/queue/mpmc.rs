//! Multi-producer multi-consumer queue (crossbeam `ArrayQueue`) with an overflow
//! policy chosen at construction. Share it with `Arc<MpmcQueue<T>>`.

use std::sync::Arc;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;

use super::{Overflow, PushOutcome, QueueStats, Stamped, Transit, TransitClock};
use crate::error::Result;

/// A bounded MPMC queue, preallocated, lock-free; all methods take `&self`.
#[derive(Debug)]
pub struct MpmcQueue<T> {
    queue: ArrayQueue<Stamped<T>>,
    overflow: Overflow,
    stats: Arc<QueueStats>,
    transit: Transit,
}

impl<T> MpmcQueue<T> {
    /// Builds a queue named `name` holding up to `capacity` items (allocated now) with
    /// the given overflow policy; with `transit`, items are stamped on push.
    pub fn new(
        name: &str,
        capacity: usize,
        overflow: Overflow,
        transit: Option<TransitClock>,
    ) -> Result<Self> {
        let stats = QueueStats::new(name, capacity, overflow)?;
        Ok(Self {
            queue: ArrayQueue::new(capacity),
            overflow,
            stats,
            transit: Transit(transit),
        })
    }

    /// Queues `item`. When full, follows the overflow policy: drop-oldest queues it and
    /// hands back the displaced oldest item; reject-new hands `item` back. Never blocks
    /// or allocates.
    pub fn push(&self, item: T) -> PushOutcome<T> {
        let stamped = self.transit.stamp(item);
        match self.overflow {
            Overflow::RejectNew => match self.queue.push(stamped) {
                Ok(()) => {
                    self.stats.pushed();
                    PushOutcome::Accepted
                }
                Err(back) => {
                    self.stats.rejected();
                    PushOutcome::Rejected(back.item)
                }
            },
            Overflow::DropOldest => {
                self.stats.pushed();
                match self.queue.force_push(stamped) {
                    None => PushOutcome::Accepted,
                    Some(old) => {
                        self.stats.dropped();
                        PushOutcome::Displaced(old.item)
                    }
                }
            }
        }
    }

    /// Takes the oldest item, if any. Never blocks or allocates.
    pub fn pop(&self) -> Option<T> {
        self.pop_with_transit().map(|(item, _)| item)
    }

    /// Takes the oldest item with its time in the queue (`None` when the queue was
    /// built without a transit clock).
    pub fn pop_with_transit(&self) -> Option<(T, Option<Duration>)> {
        let stamped = self.queue.pop()?;
        self.stats.popped();
        Some((stamped.item, self.transit.since(stamped.at_ns)))
    }

    /// Items queued right now.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether the queue is empty right now.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Capacity in items.
    pub fn capacity(&self) -> usize {
        self.queue.capacity()
    }

    /// The overflow policy.
    pub fn overflow(&self) -> Overflow {
        self.overflow
    }

    /// The queue's counters.
    pub fn stats(&self) -> &Arc<QueueStats> {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn drop_oldest_keeps_the_newest_and_returns_the_dropped() {
        let q = MpmcQueue::new("scan", 2, Overflow::DropOldest, None).unwrap();
        assert_eq!(q.push(1), PushOutcome::Accepted);
        assert_eq!(q.push(2), PushOutcome::Accepted);
        assert_eq!(q.push(3), PushOutcome::Displaced(1));
        assert_eq!((q.pop(), q.pop(), q.pop()), (Some(2), Some(3), None));
        let c = q.stats().counts();
        assert_eq!(
            (c.pushes, c.pops, c.drops, c.rejects, c.len),
            (3, 2, 1, 0, 0)
        );
    }

    #[test]
    fn reject_new_hands_the_item_back() {
        let q = MpmcQueue::new("cmd", 1, Overflow::RejectNew, None).unwrap();
        assert!(q.push("go").is_queued());
        assert_eq!(q.push("stop"), PushOutcome::Rejected("stop"));
        assert_eq!(q.stats().counts().rejects, 1);
        assert_eq!(q.pop(), Some("go"));
    }

    #[test]
    fn transit_is_measured() {
        let clock = ManualClock::new();
        let q = MpmcQueue::new(
            "odom",
            4,
            Overflow::DropOldest,
            Some(Arc::new(clock.clone())),
        )
        .unwrap();
        assert!(q.push(7u8).is_queued());
        clock.advance(Duration::from_millis(3));
        assert_eq!(
            q.pop_with_transit(),
            Some((7, Some(Duration::from_millis(3))))
        );
    }

    #[test]
    fn many_producers_and_consumers_lose_nothing_under_reject_new() {
        let q = Arc::new(MpmcQueue::new("mp", 64, Overflow::RejectNew, None).unwrap());
        let per = if cfg!(miri) { 50 } else { 5_000 };
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let q = Arc::clone(&q);
                std::thread::spawn(move || {
                    for i in 0..per {
                        let mut item = p * per + i;
                        while let PushOutcome::Rejected(back) = q.push(item) {
                            item = back;
                            std::thread::yield_now();
                        }
                    }
                })
            })
            .collect();
        let mut seen = vec![false; 2 * per];
        let mut got = 0;
        while got < 2 * per {
            match q.pop() {
                Some(v) => {
                    assert!(!seen[v], "item {v} popped twice");
                    seen[v] = true;
                    got += 1;
                }
                None => std::thread::yield_now(),
            }
        }
        for p in producers {
            p.join().unwrap();
        }
        assert!(seen.iter().all(|&s| s));
        let c = q.stats().counts();
        assert_eq!(c.pushes, c.pops);
    }
}
