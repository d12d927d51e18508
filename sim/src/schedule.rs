//! Keeping a [`Sim`] in step with the wall clock, and when to publish its sensors: the
//! one schedule both runners use (`bora sim`'s ROS node and the in-process loop of the
//! pipeline's tests and `bora profile`).
//!
//! Time `elapsed` since the run's start is due as `floor(elapsed / step)` simulation
//! steps. Each call runs the steps not yet run, at most `max_catch_up` of them: a runner
//! that was late skips the rest (counted) rather than publishing a burst. Odometry and
//! scans are due on their own grids (`k * period` of simulated time); a publication that
//! a skip made late is not repeated, the next one stays on the grid.

use std::time::Duration;

use crate::{Sim, StepOutcome};

/// What one simulation step is due to publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Due {
    /// Odometry is due.
    pub odom: bool,
    /// A laser scan is due.
    pub scan: bool,
}

/// The schedule of one run: steps done or skipped, and the next publication times.
#[derive(Debug, Clone)]
pub struct SimSchedule {
    step: Duration,
    odom_period: Duration,
    scan_period: Duration,
    max_catch_up: u64,
    next_odom: Duration,
    next_scan: Duration,
    ticks: u64,
    skipped: u64,
}

impl SimSchedule {
    /// Steps of `step` each, odometry every `odom_period` and scans every `scan_period`
    /// of simulated time (the first of each at time zero), at most `max_catch_up` steps
    /// per call (`u64::MAX`: never skip). Periods of zero publish every step.
    pub fn new(
        step: Duration,
        (odom_period, scan_period): (Duration, Duration),
        max_catch_up: u64,
    ) -> Self {
        Self {
            step,
            odom_period,
            scan_period,
            max_catch_up: max_catch_up.max(1),
            next_odom: Duration::ZERO,
            next_scan: Duration::ZERO,
            ticks: 0,
            skipped: 0,
        }
    }

    /// When, since the start, the next step is due.
    pub fn next_deadline(&self) -> Duration {
        nth(self.step, self.ticks.saturating_add(1))
    }

    /// Steps skipped so far because the runner fell more than `max_catch_up` behind.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Runs the steps due at `elapsed` since the start; after each, `after_step` gets
    /// the simulator, the step's outcome and what it is due to publish. Returns the
    /// steps skipped by this call.
    pub fn catch_up(
        &mut self,
        sim: &mut Sim,
        elapsed: Duration,
        mut after_step: impl FnMut(&mut Sim, StepOutcome, Due),
    ) -> u64 {
        let due = ticks_in(elapsed, self.step).saturating_sub(self.ticks);
        let run = due.min(self.max_catch_up);
        for _ in 0..run {
            let outcome = sim.step();
            let due = self.due_at(sim.time());
            after_step(sim, outcome, due);
        }
        self.ticks = self.ticks.saturating_add(due);
        self.skipped += due - run;
        due - run
    }

    /// What is due at simulated time `t`; moves the next publication times on.
    fn due_at(&mut self, t: Duration) -> Due {
        let odom = t >= self.next_odom;
        if odom {
            self.next_odom = next_after(self.next_odom, self.odom_period, t);
        }
        let scan = t >= self.next_scan;
        if scan {
            self.next_scan = next_after(self.next_scan, self.scan_period, t);
        }
        Due { odom, scan }
    }
}

/// `n * step`, saturating.
fn nth(step: Duration, n: u64) -> Duration {
    let ns = step.as_nanos().saturating_mul(u128::from(n));
    Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
}

/// Whole steps in `elapsed`.
fn ticks_in(elapsed: Duration, step: Duration) -> u64 {
    u64::try_from(elapsed.as_nanos() / step.as_nanos().max(1)).unwrap_or(u64::MAX)
}

/// The next publication time after `now`, on the grid `last + k * period` (no drift).
fn next_after(last: Duration, period: Duration, now: Duration) -> Duration {
    if period.is_zero() {
        return now + Duration::from_nanos(1);
    }
    let behind = now.saturating_sub(last).as_nanos() / period.as_nanos();
    let k = u32::try_from(behind + 1).unwrap_or(u32::MAX);
    last + period * k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DriveConfig, LidarConfig, World};

    fn sim() -> Sim {
        let drive = DriveConfig::default(); // 10 ms steps
        Sim::new(World::default_room(), drive, LidarConfig::default()).expect("sim")
    }

    #[test]
    fn publication_times_stay_on_their_grid() {
        let p = Duration::from_millis(20);
        let ms = Duration::from_millis;
        assert_eq!(next_after(Duration::ZERO, p, ms(10)), ms(20));
        assert_eq!(next_after(ms(20), p, ms(75)), ms(80));
        assert_eq!(next_after(ms(20), p, ms(20)), ms(40));
        assert_eq!(ticks_in(ms(35), ms(10)), 3);
        assert_eq!(nth(ms(10), 7), ms(70));
    }

    #[test]
    fn steps_follow_elapsed_time_and_sensors_their_periods() {
        let ms = Duration::from_millis;
        let mut s = sim();
        let mut sched = SimSchedule::new(ms(10), (ms(20), ms(50)), u64::MAX);
        let (mut odom, mut scan, mut steps) = (0, 0, 0);
        let skipped = sched.catch_up(&mut s, ms(105), |_, _, due| {
            steps += 1;
            odom += u32::from(due.odom);
            scan += u32::from(due.scan);
        });
        assert_eq!((steps, skipped), (10, 0));
        assert_eq!(s.time(), ms(100));
        // Sim times 10..=100 ms: odometry at 20, 40, ..., 100; scans at 50 and 100
        // (the first of each was due at 0, so the step at 10 ms publishes both).
        assert_eq!((odom, scan), (6, 3));
        assert_eq!(sched.next_deadline(), ms(110));
    }

    #[test]
    fn a_late_runner_skips_beyond_the_cap_and_counts_it() {
        let ms = Duration::from_millis;
        let mut s = sim();
        let mut sched = SimSchedule::new(ms(10), (ms(20), ms(50)), 5);
        let skipped = sched.catch_up(&mut s, ms(120), |_, _, _| {});
        assert_eq!((skipped, sched.skipped()), (7, 7));
        assert_eq!(s.time(), ms(50), "only five steps ran");
        assert_eq!(sched.catch_up(&mut s, ms(125), |_, _, _| {}), 0);
        assert_eq!(sched.next_deadline(), ms(130));
    }
}
