//! Token-latency budgets: a [`TokenBudget`] (time to first token, gap between tokens,
//! total time) and a [`BudgetTracker`] that is told about every prefill chunk and every
//! token and says, after each, whether a limit was missed and by how much.
//!
//! The tracker is a plain struct over [`Duration`]s read from a [`crate::clock::Clock`];
//! the thread-facing loop that cancels generation lives in [`crate::generation`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Latency limits for one generation. A limit left `None` is not checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenBudget {
    /// Longest allowed time from the start of generation (before prefill) to the first
    /// generated token.
    pub first_token: Option<Duration>,
    /// Longest allowed time between two consecutive generated tokens.
    pub token_gap: Option<Duration>,
    /// Longest allowed time from the start of generation to its last token.
    pub total: Option<Duration>,
}

impl TokenBudget {
    /// A budget that checks nothing.
    pub const UNLIMITED: Self = Self {
        first_token: None,
        token_gap: None,
        total: None,
    };
}

/// Which limit of a [`TokenBudget`] was missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// Time to first token.
    FirstToken,
    /// Time between two tokens.
    TokenGap,
    /// Total generation time.
    Total,
}

/// A missed limit: which one, its value, what was observed and by how much it was over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetMiss {
    /// The limit that was missed.
    pub limit: Limit,
    /// The limit's value.
    pub limit_value: Duration,
    /// The time observed for that limit (e.g. the gap since the previous token).
    pub observed: Duration,
    /// `observed - limit_value`.
    pub over_by: Duration,
    /// Tokens produced before the miss was detected (including a token that arrived late).
    pub tokens: u32,
}

/// What the caller does after a budget miss. The runtime only reports misses; the
/// language stage applies the policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissPolicy {
    /// Cancel generation and fall back to the deterministic command parser.
    #[default]
    Fallback,
    /// Cancel generation and stop the robot.
    Stop,
    /// Record the miss and keep the model's output (for measuring, not for robots).
    Ignore,
}

/// Tracks one generation against a [`TokenBudget`]. Feed it the clock's time at each
/// event; each call returns `Err(BudgetMiss)` as soon as a limit is over.
///
/// When several limits are over at once, the more specific one is reported: first
/// token or token gap before total.
#[derive(Debug, Clone)]
pub struct BudgetTracker {
    budget: TokenBudget,
    start: Duration,
    last_token: Option<Duration>,
    first_token_at: Option<Duration>,
    tokens: u32,
}

impl BudgetTracker {
    /// Starts tracking a generation that begins at `start` (clock time).
    pub fn start(budget: TokenBudget, start: Duration) -> Self {
        Self {
            budget,
            start,
            last_token: None,
            first_token_at: None,
            tokens: 0,
        }
    }

    /// The budget being tracked.
    pub fn budget(&self) -> TokenBudget {
        self.budget
    }

    /// Tokens counted so far.
    pub fn tokens(&self) -> u32 {
        self.tokens
    }

    /// Time from start to the first token, once there is one.
    pub fn time_to_first_token(&self) -> Option<Duration> {
        self.first_token_at.map(|t| t.saturating_sub(self.start))
    }

    /// Time from start to `now`.
    pub fn elapsed(&self, now: Duration) -> Duration {
        now.saturating_sub(self.start)
    }

    /// Time waited so far for the pending token at `now`: since the previous token, or
    /// since the start for the first one.
    pub fn waiting(&self, now: Duration) -> Duration {
        now.saturating_sub(self.last_token.unwrap_or(self.start))
    }

    /// A prefill chunk finished at `now`: checks the first-token and total limits
    /// against the time spent so far (a prefill that is already over its first-token
    /// limit cannot produce a token in time).
    pub fn on_prefill_chunk(&mut self, now: Duration) -> Result<(), BudgetMiss> {
        self.check(now)
    }

    /// A token was produced at `now`. Returns the gap since the previous token (or the
    /// time to first token, for the first one) when it is within budget.
    pub fn on_token(&mut self, now: Duration) -> Result<Duration, BudgetMiss> {
        let previous = self.last_token;
        self.tokens = self.tokens.saturating_add(1);
        self.last_token = Some(now);
        let since = match previous {
            None => {
                self.first_token_at = Some(now);
                let ttft = now.saturating_sub(self.start);
                self.over(Limit::FirstToken, self.budget.first_token, ttft)?;
                ttft
            }
            Some(prev) => {
                let gap = now.saturating_sub(prev);
                self.over(Limit::TokenGap, self.budget.token_gap, gap)?;
                gap
            }
        };
        self.over(Limit::Total, self.budget.total, self.elapsed(now))?;
        Ok(since)
    }

    /// Checks the limits at `now` without an event: the time waited so far for the
    /// pending token (first or next) and the total. A watchdog can call this between
    /// events.
    pub fn check(&self, now: Duration) -> Result<(), BudgetMiss> {
        match self.last_token {
            None => self.over(
                Limit::FirstToken,
                self.budget.first_token,
                self.waiting(now),
            )?,
            Some(_) => self.over(Limit::TokenGap, self.budget.token_gap, self.waiting(now))?,
        }
        self.over(Limit::Total, self.budget.total, self.elapsed(now))
    }

    fn over(
        &self,
        limit: Limit,
        value: Option<Duration>,
        observed: Duration,
    ) -> Result<(), BudgetMiss> {
        match value {
            Some(limit_value) if observed > limit_value => Err(BudgetMiss {
                limit,
                limit_value,
                observed,
                over_by: observed - limit_value,
                tokens: self.tokens,
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn budget() -> TokenBudget {
        TokenBudget {
            first_token: Some(100 * MS),
            token_gap: Some(20 * MS),
            total: Some(500 * MS),
        }
    }

    #[test]
    fn within_budget_reports_gaps() {
        let mut t = BudgetTracker::start(budget(), 10 * MS);
        assert_eq!(t.on_prefill_chunk(60 * MS), Ok(()));
        assert_eq!(t.on_token(90 * MS), Ok(80 * MS));
        assert_eq!(
            t.on_token(110 * MS),
            Ok(20 * MS),
            "exactly at the limit is not a miss"
        );
        assert_eq!(t.time_to_first_token(), Some(80 * MS));
        assert_eq!(t.tokens(), 2);
    }

    #[test]
    fn prefill_already_past_first_token_limit_is_a_miss() {
        let mut t = BudgetTracker::start(budget(), Duration::ZERO);
        let miss = t.on_prefill_chunk(130 * MS).unwrap_err();
        assert_eq!(miss.limit, Limit::FirstToken);
        assert_eq!(miss.over_by, 30 * MS);
        assert_eq!(miss.tokens, 0);
    }

    #[test]
    fn specific_limit_wins_over_total() {
        let b = TokenBudget {
            first_token: Some(100 * MS),
            token_gap: None,
            total: Some(50 * MS),
        };
        let mut t = BudgetTracker::start(b, Duration::ZERO);
        let miss = t.on_token(120 * MS).unwrap_err();
        assert_eq!((miss.limit, miss.over_by), (Limit::FirstToken, 20 * MS));
    }

    #[test]
    fn check_between_events_sees_a_stalled_token() {
        let mut t = BudgetTracker::start(budget(), Duration::ZERO);
        t.on_token(50 * MS).unwrap();
        assert_eq!(t.check(70 * MS), Ok(()));
        let miss = t.check(75 * MS).unwrap_err();
        assert_eq!(
            (miss.limit, miss.observed, miss.over_by),
            (Limit::TokenGap, 25 * MS, 5 * MS)
        );
    }

    #[test]
    fn unlimited_never_misses() {
        let mut t = BudgetTracker::start(TokenBudget::UNLIMITED, Duration::ZERO);
        assert!(t.on_token(Duration::from_secs(3600)).is_ok());
        assert!(t.check(Duration::from_secs(7200)).is_ok());
    }
}
