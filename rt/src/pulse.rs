//! A generation's token pulse: the thread that generates marks the start, every token
//! and the end; another thread (the planner) reads how long the running generation has
//! gone without a token. That is how the token-gap limit is enforced from outside the
//! generating thread: a gap inside one long forward pass, or a generating thread the OS
//! does not schedule, shows as silence on the pulse while it lasts, not when the pass
//! returns.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::duration_to_ns;

/// Shared by the generating thread and its watcher; clones share one pulse. Marking and
/// reading never block or allocate.
#[derive(Debug, Clone, Default)]
pub struct TokenPulse(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    generating: AtomicBool,
    tokens: AtomicU64,
    last_token_ns: AtomicU64,
}

impl TokenPulse {
    /// A pulse with no generation running.
    pub fn new() -> Self {
        Self::default()
    }

    /// A generation starts at `now` (clock time); no token yet.
    pub fn start(&self, now: Duration) {
        self.0.tokens.store(0, Ordering::SeqCst);
        self.0
            .last_token_ns
            .store(duration_to_ns(now), Ordering::SeqCst);
        self.0.generating.store(true, Ordering::SeqCst);
    }

    /// The running generation produced a token at `now`.
    pub fn token(&self, now: Duration) {
        self.0
            .last_token_ns
            .store(duration_to_ns(now), Ordering::SeqCst);
        self.0.tokens.fetch_add(1, Ordering::SeqCst);
    }

    /// The running generation ended (finished, cancelled or failed).
    pub fn end(&self) {
        self.0.generating.store(false, Ordering::SeqCst);
    }

    /// How long the running generation has gone without a token at `now`; `None` when
    /// none runs or it has produced no token yet (the first-token limit's business).
    pub fn silent_for(&self, now: Duration) -> Option<Duration> {
        if !self.0.generating.load(Ordering::SeqCst) || self.0.tokens.load(Ordering::SeqCst) == 0 {
            return None;
        }
        let last = Duration::from_nanos(self.0.last_token_ns.load(Ordering::SeqCst));
        Some(now.saturating_sub(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_counts_from_the_last_token_of_a_running_generation() {
        let ms = Duration::from_millis;
        let pulse = TokenPulse::new();
        assert_eq!(pulse.silent_for(ms(10)), None, "nothing runs");
        pulse.start(ms(10));
        assert_eq!(pulse.silent_for(ms(500)), None, "no token yet");
        pulse.token(ms(600));
        let watcher = pulse.clone();
        assert_eq!(watcher.silent_for(ms(650)), Some(ms(50)));
        pulse.token(ms(700));
        assert_eq!(watcher.silent_for(ms(900)), Some(ms(200)));
        pulse.end();
        assert_eq!(watcher.silent_for(ms(5000)), None, "ended");
        pulse.start(ms(6000));
        assert_eq!(
            watcher.silent_for(ms(9000)),
            None,
            "a new generation starts afresh"
        );
    }
}
