//! A fixed-rate loop. Deadlines are `start + k * period` (never `last wake + period`),
//! so lateness does not accumulate into drift. The loop measures its own jitter (wake
//! minus deadline), counts overruns (the previous step ran past this tick's deadline)
//! and skips ticks it missed entirely (counted), running once for the latest.
//!
//! A loop may also be woken early through a [`Wake`] (e.g. the planner when a plan
//! arrives): its sleep then ends before the deadline and it runs one extra step at once.
//! An extra step is not a tick: it does not move the schedule (the next tick keeps its
//! deadline `start + k * period`), and it is not measured as jitter or counted as an
//! overrun, since it has no deadline to be late for; it is counted on its own
//! ([`LoopStats::woken`]). What stays honest: a tick made late by an extra step that ran
//! past the tick's deadline is an overrun and its lateness is jitter, as for any step.

use std::ops::ControlFlow;
use std::time::Duration;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::liveness::Heartbeat;
use crate::metrics::{Counter, Recorder};
use crate::stage::Shutdown;
use crate::wake::Wake;

/// One tick of a periodic loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// Tick number k (deadline = start + k * period); skipped ticks are not run.
    pub index: u64,
    /// This tick's deadline (clock time).
    pub deadline: Duration,
    /// When the loop woke for it (clock time).
    pub woke: Duration,
    /// `woke - deadline`.
    pub jitter: Duration,
    /// Ticks after this one whose deadline had already passed on wake; they are not run.
    pub skipped: u64,
    /// Whether the previous step ran past this tick's deadline.
    pub overrun: bool,
    /// An extra step run early for a [`Wake`], not a tick: `index` and `deadline` are
    /// those of the tick it runs ahead of, `jitter` is zero, `skipped` 0, `overrun` false.
    pub woken: bool,
}

/// Totals of a periodic loop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopStats {
    /// Ticks run.
    pub ticks: u64,
    /// Ticks whose deadline had passed before the previous step finished.
    pub overruns: u64,
    /// Ticks not run because the loop was more than a period late.
    pub skipped: u64,
    /// Largest jitter seen.
    pub max_jitter: Duration,
    /// Extra steps run early for a [`Wake`] (not ticks: not in `ticks`, no jitter, never
    /// an overrun).
    pub woken: u64,
}

/// The deadline arithmetic of a periodic loop (no clock, no sleeping: unit-testable).
#[derive(Debug, Clone)]
pub struct Schedule {
    start: Duration,
    period: Duration,
    next: u64,
}

impl Schedule {
    /// Ticks at `start + k * period` for k = 0, 1, 2...; `stage` names the loop in errors.
    pub fn new(stage: &str, start: Duration, period: Duration) -> Result<Self> {
        if period.is_zero() {
            return Err(Error::InvalidPeriod {
                stage: stage.to_owned(),
                period,
            });
        }
        Ok(Self {
            start,
            period,
            next: 0,
        })
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Deadline of tick `k`.
    pub fn deadline_of(&self, k: u64) -> Duration {
        let ns = self.period.as_nanos().saturating_mul(u128::from(k));
        self.start + Duration::from_nanos(u64::try_from(ns).unwrap_or(u64::MAX))
    }

    /// Deadline of the next tick to run.
    pub fn next_deadline(&self) -> Duration {
        self.deadline_of(self.next)
    }

    /// The loop woke at `woke` for the next tick, having found it `overrun` (already
    /// past when it went to sleep). Returns the tick and moves on to the first tick whose
    /// deadline is after `woke`.
    pub fn on_wake(&mut self, woke: Duration, overrun: bool) -> Tick {
        let index = self.next;
        let deadline = self.deadline_of(index);
        let jitter = woke.saturating_sub(deadline);
        // Number of whole periods late: ticks index+1 ..= index+late have passed.
        let late = u64::try_from(jitter.as_nanos() / self.period.as_nanos()).unwrap_or(u64::MAX);
        self.next = index.saturating_add(late).saturating_add(1);
        Tick {
            index,
            deadline,
            woke,
            jitter,
            skipped: late,
            overrun,
            woken: false,
        }
    }
}

/// A periodic loop with its statistics and optional metrics.
#[derive(Debug)]
pub struct PeriodicLoop {
    schedule: Schedule,
    stats: LoopStats,
    jitter: Option<Recorder>,
    step_time: Option<Recorder>,
    overruns: Option<Counter>,
    heartbeat: Option<Heartbeat>,
    wake: Option<Wake>,
    span: tracing::Span,
}

impl PeriodicLoop {
    /// A loop for stage `stage` ticking every `period` from `start` (clock time).
    pub fn new(stage: &str, start: Duration, period: Duration) -> Result<Self> {
        Ok(Self {
            schedule: Schedule::new(stage, start, period)?,
            stats: LoopStats::default(),
            jitter: None,
            step_time: None,
            overruns: None,
            heartbeat: None,
            wake: None,
            span: tracing::info_span!("stage_step", stage = %stage),
        })
    }

    /// Records each tick's jitter.
    pub fn with_jitter_recorder(mut self, recorder: Recorder) -> Self {
        self.jitter = Some(recorder);
        self
    }

    /// Records each step's duration (in [`PeriodicLoop::run`]).
    pub fn with_step_recorder(mut self, recorder: Recorder) -> Self {
        self.step_time = Some(recorder);
        self
    }

    /// Counts overruns and skipped ticks into `counter` as well as the stats.
    pub fn with_overrun_counter(mut self, counter: Counter) -> Self {
        self.overruns = Some(counter);
        self
    }

    /// Beats `heartbeat` once per tick (in [`PeriodicLoop::run`]).
    pub fn with_heartbeat(mut self, heartbeat: Heartbeat) -> Self {
        self.heartbeat = Some(heartbeat);
        self
    }

    /// Lets `wake` end the loop's sleep early for one extra step (see the module docs).
    /// With a wake the loop sleeps on it in real time until the clock reads the deadline;
    /// a `ManualClock` must then be advanced by another thread or a step.
    pub fn with_wake(mut self, wake: Wake) -> Self {
        self.wake = Some(wake);
        self
    }

    /// Totals so far.
    pub fn stats(&self) -> LoopStats {
        self.stats
    }

    /// The schedule.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// Sleeps until the next deadline (not at all if it passed) and returns the tick; with
    /// a [`Wake`], returns earlier with an extra step (`woken`) when one is pending.
    pub fn wait_next<C: Clock + ?Sized>(&mut self, clock: &C) -> Tick {
        let deadline = self.schedule.next_deadline();
        // Overrun: the previous step (a tick's or an extra one's) ended past this deadline.
        let overrun = self.stats.ticks > 0 && clock.now() > deadline;
        match &self.wake {
            Some(wake) => {
                if wake.wait_until(clock, deadline) {
                    // Early, for the wake: the schedule, jitter and overruns are untouched.
                    self.stats.woken += 1;
                    return Tick {
                        index: self.schedule.next,
                        deadline,
                        woke: clock.now(),
                        jitter: Duration::ZERO,
                        skipped: 0,
                        overrun: false,
                        woken: true,
                    };
                }
                // The deadline came first: this tick's step does everything an extra one
                // would, so a wake still pending is spent on it (taken before the step, a
                // wake raised during the step is kept for the next wait).
                let _ = wake.take();
            }
            None => clock.sleep_until(deadline),
        }
        let tick = self.schedule.on_wake(clock.now(), overrun);
        self.stats.ticks += 1;
        self.stats.skipped += tick.skipped;
        self.stats.overruns += u64::from(tick.overrun);
        self.stats.max_jitter = self.stats.max_jitter.max(tick.jitter);
        if let Some(r) = &mut self.jitter {
            r.record(tick.jitter);
        }
        if let Some(c) = &self.overruns {
            c.add(u64::from(tick.overrun) + tick.skipped);
        }
        tick
    }

    /// Runs `step` once per tick (and once per extra wake, `tick.woken`) until `shutdown`
    /// is requested or `step` breaks. Each step runs inside this loop's `stage_step` span,
    /// beats the heartbeat and has its duration recorded. Publishes the recorders about
    /// once a second (counted in ticks).
    pub fn run<C, F>(&mut self, clock: &C, shutdown: &Shutdown, mut step: F) -> LoopStats
    where
        C: Clock + ?Sized,
        F: FnMut(&Tick) -> ControlFlow<()>,
    {
        let publish_every =
            (Duration::from_secs(1).as_nanos() / self.schedule.period().as_nanos()).max(1);
        while !shutdown.is_requested() {
            let tick = self.wait_next(clock);
            let flow = {
                let _entered = self.span.enter();
                let begin = clock.now();
                let flow = step(&tick);
                if let Some(r) = &mut self.step_time {
                    r.record(clock.now().saturating_sub(begin));
                }
                flow
            };
            if let Some(h) = &self.heartbeat {
                h.beat();
            }
            if !tick.woken && u128::from(self.stats.ticks) % publish_every == 0 {
                self.publish();
            }
            if flow.is_break() {
                break;
            }
        }
        self.publish();
        self.stats
    }

    fn publish(&mut self) {
        for r in [&mut self.jitter, &mut self.step_time]
            .into_iter()
            .flatten()
        {
            let _ = r.publish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn deadlines_do_not_drift_when_wakes_are_late() {
        let mut s = Schedule::new("t", 5 * MS, 10 * MS).unwrap();
        // Each wake 3 ms late: the next deadline is still start + k * period.
        for k in 0..100u64 {
            let deadline = s.next_deadline();
            assert_eq!(deadline, 5 * MS + 10 * MS * k as u32);
            let tick = s.on_wake(deadline + 3 * MS, false);
            assert_eq!((tick.index, tick.jitter, tick.skipped), (k, 3 * MS, 0));
        }
    }

    #[test]
    fn missed_ticks_are_skipped_and_counted() {
        let mut s = Schedule::new("t", Duration::ZERO, 10 * MS).unwrap();
        let t0 = s.on_wake(Duration::ZERO, false);
        assert_eq!(t0.index, 0);
        // Deadline 10 ms; woke at 35 ms: ticks 2 (20 ms) and 3 (30 ms) are skipped.
        let t1 = s.on_wake(35 * MS, true);
        assert_eq!((t1.index, t1.jitter, t1.skipped), (1, 25 * MS, 2));
        assert_eq!(s.next_deadline(), 40 * MS);
    }

    #[test]
    fn loop_on_a_manual_clock_counts_overruns_and_stops_on_break() {
        let clock = ManualClock::new();
        let mut lp = PeriodicLoop::new("planner", Duration::ZERO, 20 * MS).unwrap();
        let shutdown = Shutdown::new();
        let mut ran = Vec::new();
        let stats = lp.run(&clock, &shutdown, |tick| {
            ran.push(tick.index);
            // Tick 2's step takes 50 ms: ticks 3 and 4 (60, 80 ms) are overrun/skipped.
            clock.advance(if tick.index == 2 { 50 * MS } else { MS });
            if ran.len() == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(ran, vec![0, 1, 2, 3, 5]);
        assert_eq!((stats.ticks, stats.overruns, stats.skipped), (5, 1, 1));
        assert_eq!(stats.max_jitter, 30 * MS);
    }

    #[test]
    fn an_extra_step_is_neither_jitter_nor_overrun_and_keeps_the_schedule() {
        let clock = ManualClock::new();
        let wake = Wake::new();
        let mut lp = PeriodicLoop::new("planner", Duration::ZERO, 20 * MS)
            .unwrap()
            .with_wake(wake.clone());
        let shutdown = Shutdown::new();
        let mut ran = Vec::new();
        let stats = lp.run(&clock, &shutdown, |tick| {
            ran.push((tick.index, tick.woken, tick.deadline, tick.jitter));
            match ran.len() {
                // Tick 0 at 0 ms: a wake comes in during its step (at 1 ms).
                1 => {
                    clock.advance(MS);
                    wake.wake();
                }
                // The extra step at 1 ms: it takes until 20 ms, exactly tick 1's deadline.
                2 => clock.set(20 * MS),
                // Tick 1, on time. Then a wake and an extra step that runs until 45 ms,
                // past tick 2's deadline (40 ms): tick 2 is honestly an overrun, 5 ms late.
                3 => wake.wake(),
                4 => clock.set(45 * MS),
                _ => return ControlFlow::Break(()),
            }
            ControlFlow::Continue(())
        });
        assert_eq!(
            ran,
            vec![
                (0, false, Duration::ZERO, Duration::ZERO),
                (1, true, 20 * MS, Duration::ZERO),
                (1, false, 20 * MS, Duration::ZERO),
                (2, true, 40 * MS, Duration::ZERO),
                (2, false, 40 * MS, 5 * MS),
            ]
        );
        assert_eq!(
            (stats.ticks, stats.woken, stats.overruns, stats.skipped),
            (3, 2, 1, 0)
        );
        assert_eq!(stats.max_jitter, 5 * MS);
        assert_eq!(lp.schedule().next_deadline(), 60 * MS, "no drift");
    }

    #[test]
    fn a_wake_pending_at_a_due_tick_is_spent_on_that_tick() {
        let clock = ManualClock::new();
        let wake = Wake::new();
        let mut lp = PeriodicLoop::new("planner", Duration::ZERO, 20 * MS)
            .unwrap()
            .with_wake(wake.clone());
        wake.wake();
        let tick = lp.wait_next(&clock);
        assert_eq!((tick.index, tick.woken), (0, false), "the due tick wins");
        assert!(!wake.is_pending(), "its step covers the wake");
    }

    /// Real threads and the real clock: a 1 s period, a wake 50 ms in. The bounds are
    /// generous (a loaded 2-core machine may wake late); none is a latency figure.
    #[test]
    fn a_wake_runs_an_extra_step_long_before_the_next_tick_on_the_real_clock() {
        use crate::clock::SystemClock;
        const PERIOD: Duration = Duration::from_secs(1);
        let clock = SystemClock::new();
        let wake = Wake::new();
        let start = clock.now();
        let mut lp = PeriodicLoop::new("planner", start, PERIOD)
            .unwrap()
            .with_wake(wake.clone());
        let waker = std::thread::spawn({
            let wake = wake.clone();
            move || {
                std::thread::sleep(50 * MS);
                wake.wake();
            }
        });
        let shutdown = Shutdown::new();
        let mut ran = Vec::new();
        let stats = lp.run(&clock, &shutdown, |tick| {
            ran.push((tick.index, tick.woken, tick.deadline, clock.now() - start));
            if tick.index == 1 && !tick.woken {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        waker.join().expect("waker thread");
        let shape: Vec<(u64, bool)> = ran.iter().map(|r| (r.0, r.1)).collect();
        assert_eq!(shape, vec![(0, false), (1, true), (1, false)], "{ran:?}");
        let extra_at = ran[1].3;
        assert!(
            extra_at >= 50 * MS && extra_at < 900 * MS,
            "extra step at {extra_at:?}"
        );
        // The regular tick kept its deadline and did not run before it.
        assert_eq!(ran[2].2, start + PERIOD);
        assert!(ran[2].3 >= PERIOD, "tick 1 at {:?}", ran[2].3);
        assert_eq!((stats.ticks, stats.woken), (2, 1));
        assert_eq!(lp.schedule().next_deadline(), start + 2 * PERIOD);
    }

    #[test]
    fn zero_period_is_rejected() {
        assert!(matches!(
            Schedule::new("planner", Duration::ZERO, Duration::ZERO),
            Err(Error::InvalidPeriod { .. })
        ));
    }
}
