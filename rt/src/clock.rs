//! Monotonic time for the runtime: a [`Clock`] trait with the real [`SystemClock`] and a
//! [`ManualClock`] that tests advance by hand (shared, lock-free).
//!
//! Times are [`Duration`]s since the clock's own origin, so they are plain numbers that
//! fit in a queue stamp (nanoseconds in a `u64`) and compare across threads that share
//! the clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A monotonic clock: `now()` never goes backwards.
pub trait Clock: Send + Sync {
    /// Time since this clock's origin.
    fn now(&self) -> Duration;

    /// Blocks the calling thread until `now() >= deadline` (a no-op when it already is).
    /// A manual clock jumps to the deadline instead of sleeping.
    fn sleep_until(&self, deadline: Duration);

    /// Time since the origin in whole nanoseconds, saturating (a queue stamp).
    fn now_ns(&self) -> u64 {
        duration_to_ns(self.now())
    }
}

/// Whole nanoseconds of `d`, saturating at `u64::MAX` (584 years).
pub fn duration_to_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The OS monotonic clock (`std::time::Instant`), measured from when it was created.
/// Clones share the origin, so their readings compare.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    origin: Instant,
}

impl SystemClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }

    /// A clock whose origin is `origin`.
    pub fn with_origin(origin: Instant) -> Self {
        Self { origin }
    }

    /// The `Instant` this clock counts from.
    pub fn origin(&self) -> Instant {
        self.origin
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep_until(&self, deadline: Duration) {
        // `thread::sleep` may wake early on some platforms: loop until the deadline.
        loop {
            let now = self.now();
            if now >= deadline {
                return;
            }
            std::thread::sleep(deadline - now);
        }
    }
}

/// A clock that only moves when told to: tests advance it to make a token "slow"
/// without sleeping. Clones share the same time (an `Arc<AtomicU64>` of nanoseconds).
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    ns: Arc<AtomicU64>,
}

impl ManualClock {
    /// A manual clock at time zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.ns.fetch_add(duration_to_ns(by), Ordering::SeqCst);
    }

    /// Moves the clock to `to`; a `to` in the past leaves it where it is (monotonic).
    pub fn set(&self, to: Duration) {
        self.ns.fetch_max(duration_to_ns(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.ns.load(Ordering::SeqCst))
    }

    fn sleep_until(&self, deadline: Duration) {
        self.set(deadline);
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> Duration {
        (**self).now()
    }

    fn sleep_until(&self, deadline: Duration) {
        (**self).sleep_until(deadline)
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now(&self) -> Duration {
        (**self).now()
    }

    fn sleep_until(&self, deadline: Duration) {
        (**self).sleep_until(deadline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_and_monotonic() {
        let clock = ManualClock::new();
        let other = clock.clone();
        clock.advance(Duration::from_millis(5));
        assert_eq!(other.now(), Duration::from_millis(5));
        other.set(Duration::from_millis(2));
        assert_eq!(
            clock.now(),
            Duration::from_millis(5),
            "set() must not go back"
        );
        clock.sleep_until(Duration::from_millis(9));
        assert_eq!(other.now_ns(), 9_000_000);
    }

    #[test]
    fn system_clock_sleeps_until_the_deadline() {
        let clock = SystemClock::new();
        let deadline = clock.now() + Duration::from_millis(2);
        clock.sleep_until(deadline);
        assert!(clock.now() >= deadline);
        let a = clock.now();
        assert!(clock.now() >= a);
    }
}
