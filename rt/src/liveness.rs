//! Stage liveness: a [`Heartbeat`] counter a stage bumps every step, and a
//! [`HeartbeatWatch`] a watchdog (the planner) uses to notice a stage that stopped
//! beating.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A stage's beat counter; clones share it. Beating never blocks or allocates.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat(Arc<AtomicU64>);

impl Heartbeat {
    /// A counter at zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one beat.
    pub fn beat(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Beats so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// A watch that starts counting silence from `now` (clock time).
    pub fn watch(&self, now: Duration) -> HeartbeatWatch {
        HeartbeatWatch {
            heartbeat: self.clone(),
            last_count: self.count(),
            last_change: now,
        }
    }
}

/// Whether a watched stage is beating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// It beat within the allowed silence.
    Alive,
    /// It has not beaten for `silent_for`, longer than allowed.
    Stalled {
        /// Time since its last observed beat.
        silent_for: Duration,
    },
}

/// Watches one heartbeat from one thread (plain struct; no allocation per check).
#[derive(Debug, Clone)]
pub struct HeartbeatWatch {
    heartbeat: Heartbeat,
    last_count: u64,
    last_change: Duration,
}

impl HeartbeatWatch {
    /// Checks at `now` whether the stage beat within `max_silence`.
    pub fn check(&mut self, now: Duration, max_silence: Duration) -> Liveness {
        let count = self.heartbeat.count();
        if count != self.last_count {
            self.last_count = count;
            self.last_change = now;
        }
        let silent_for = now.saturating_sub(self.last_change);
        if silent_for > max_silence {
            Liveness::Stalled { silent_for }
        } else {
            Liveness::Alive
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_that_stops_beating_is_reported_stalled() {
        let ms = Duration::from_millis;
        let hb = Heartbeat::new();
        let mut watch = hb.watch(ms(0));
        hb.beat();
        assert_eq!(watch.check(ms(50), ms(100)), Liveness::Alive);
        assert_eq!(watch.check(ms(140), ms(100)), Liveness::Alive);
        assert_eq!(
            watch.check(ms(151), ms(100)),
            Liveness::Stalled {
                silent_for: ms(101)
            }
        );
        hb.beat();
        assert_eq!(watch.check(ms(160), ms(100)), Liveness::Alive);
    }
}
