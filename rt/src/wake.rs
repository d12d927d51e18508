//! A wake-up for a periodic loop: another thread (the language stage, when it hands the
//! planner a plan) asks the loop to run one step now instead of at its next tick. The
//! loop's sleep waits on the [`Wake`] and stays bounded by the next tick's deadline, so
//! the fixed-rate schedule itself does not change (see [`crate::periodic`]).
//!
//! Waking is an atomic flag plus `Thread::unpark`: no lock, no allocation, never blocks.
//! Waiting parks the waiting thread (`thread::park_timeout`); a wake that comes before
//! the wait, or between the flag check and the park, is not lost (the flag stays set and
//! an early unpark makes the next park return at once).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, Thread};
use std::time::Duration;

use crate::clock::Clock;

/// Longest single nap, in real time, of a thread that is not the one a [`Wake`]
/// unparks (another thread waited on it first): such a waiter polls the flag at least
/// this often instead of hearing the unpark.
const UNREGISTERED_NAP: Duration = Duration::from_millis(1);

/// A request to run a loop step early, shared by the waking threads and the one waiting
/// thread; clones share one flag. [`Wake::wake`] never blocks or allocates.
#[derive(Debug, Clone, Default)]
pub struct Wake(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// A wake not yet consumed by the waiter.
    pending: AtomicBool,
    /// The thread that waits (the first to call [`Wake::wait_until`]); the one unparked.
    waiter: OnceLock<Thread>,
    /// Wakes requested so far.
    requested: AtomicU64,
}

impl Wake {
    /// A wake with nothing pending and no waiting thread yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the waiting loop to run a step now (a no-op beyond the flag when nothing
    /// waits yet: the next wait returns at once). Lock-free; callable from any thread.
    pub fn wake(&self) {
        self.0.requested.fetch_add(1, Ordering::Relaxed);
        self.0.pending.store(true, Ordering::SeqCst);
        if let Some(t) = self.0.waiter.get() {
            t.unpark();
        }
    }

    /// Consumes a pending wake; true when there was one.
    pub fn take(&self) -> bool {
        self.0.pending.swap(false, Ordering::SeqCst)
    }

    /// Whether a wake is pending (not yet consumed).
    pub fn is_pending(&self) -> bool {
        self.0.pending.load(Ordering::SeqCst)
    }

    /// Wakes requested so far (count).
    pub fn requested(&self) -> u64 {
        self.0.requested.load(Ordering::Relaxed)
    }

    /// Sleeps at most `timeout` of real time, or until a wake is pending (consumed: then
    /// returns true). For a stage that rests while idle: woken by its input at once, and
    /// beating at least every `timeout` while nothing comes.
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let clock = crate::clock::SystemClock::new();
        self.wait_until(&clock, clock.now() + timeout)
    }

    /// Sleeps until `clock` reads `deadline` (clock time) or a wake is pending, whichever
    /// comes first. Returns true when it returns for a wake before the deadline (the wake
    /// is consumed), false at the deadline (a pending wake is left for the caller).
    ///
    /// The deadline is checked first, so a due deadline always wins. The sleep is in real
    /// time (`park_timeout` of the time left on `clock`), so a `ManualClock` must be
    /// advanced by another thread for this to return without a wake.
    pub fn wait_until<C: Clock + ?Sized>(&self, clock: &C, deadline: Duration) -> bool {
        let me = thread::current();
        let registered = self.0.waiter.get_or_init(|| me.clone()).id() == me.id();
        loop {
            let now = clock.now();
            if now >= deadline {
                return false;
            }
            if self.take() {
                return true;
            }
            let left = deadline - now;
            // Spurious or stale unparks just go round the loop again.
            thread::park_timeout(if registered {
                left
            } else {
                left.min(UNREGISTERED_NAP)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{ManualClock, SystemClock};
    use std::time::Instant;

    #[test]
    fn a_wake_before_the_wait_is_not_lost_and_a_due_deadline_wins() {
        let clock = ManualClock::new();
        let wake = Wake::new();
        wake.wake();
        assert!(wake.is_pending());
        assert!(!wake.wait_until(&clock, Duration::ZERO), "deadline due");
        assert!(wake.is_pending(), "left for the caller");
        assert!(wake.wait_until(&clock, Duration::from_secs(1)));
        assert!(!wake.is_pending(), "consumed");
        assert_eq!(wake.requested(), 1);
    }

    #[test]
    fn a_wake_from_another_thread_ends_a_long_wait_early() {
        let clock = SystemClock::new();
        let wake = Wake::new();
        let waker = wake.clone();
        let begin = Instant::now();
        let t = thread::spawn(move || {
            thread::sleep(Duration::from_millis(50));
            waker.wake();
        });
        let woken = wake.wait_until(&clock, clock.now() + Duration::from_secs(10));
        let waited = begin.elapsed();
        t.join().expect("waker thread");
        assert!(woken);
        // Generous: the point is "not the 10 s deadline", not a latency figure.
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    }

    #[test]
    fn without_a_wake_the_wait_lasts_until_the_deadline() {
        let clock = SystemClock::new();
        let wake = Wake::new();
        let deadline = clock.now() + Duration::from_millis(20);
        assert!(!wake.wait_until(&clock, deadline));
        assert!(clock.now() >= deadline);
    }

    #[test]
    fn a_timed_wait_ends_at_its_timeout_or_at_once_on_a_pending_wake() {
        let wake = Wake::new();
        let begin = Instant::now();
        assert!(!wake.wait_timeout(Duration::from_millis(20)));
        assert!(begin.elapsed() >= Duration::from_millis(20));
        wake.wake();
        let begin = Instant::now();
        assert!(wake.wait_timeout(Duration::from_secs(10)));
        assert!(begin.elapsed() < Duration::from_secs(5), "not the timeout");
    }
}
