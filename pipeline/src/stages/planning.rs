//! PLANNING: at a fixed rate, owns the motors. Each tick: apply a reflex stop, start the
//! newest fresh plan, enforce the token budget from outside the language stage, watch
//! the other stages' heartbeats, and step the planner against the latest world.
//!
//! A plan does not wait for the next tick: the language stage raises `plan_wake` after
//! queueing it, and the loop runs one extra step at once, the same step as a tick (so a
//! stop, the budget and the watchdog are handled exactly as on a tick; the planner's own
//! time step is the real time since its last step). The regular ticks keep their
//! deadlines; the extra step is counted apart from ticks and is never loop jitter nor a
//! planning overrun (see `bora_rt::periodic`).

use std::ops::ControlFlow;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{record_opt, Links};
use crate::deadline::DeadlineAction;
use crate::output::AgentOutput;
use bora_agent::{PlanEvent, Planner, WorldState};
use bora_rt::clock::Clock;
use bora_rt::liveness::{Heartbeat, HeartbeatWatch, Liveness};
use bora_rt::metrics::{Counter, Metrics, Quantity, Recorder};
use bora_rt::periodic::PeriodicLoop;
use bora_rt::slot::SlotReader;
use bora_rt::stage::StageContext;

/// The planning stage's counters, named as diagnostics shows them.
struct Counters {
    overruns: Counter,
    stale_plans: Counter,
    watchdog_stops: Counter,
    deadline_misses: Counter,
}

/// The heartbeats the planner watches, and how long a stage may stay silent.
pub(crate) struct Watched {
    /// The language stage's heartbeat.
    pub language: Heartbeat,
    /// The perception stage's heartbeat.
    pub perception: Heartbeat,
    /// Silence longer than this is a stall.
    pub stall_after: Duration,
}

/// The planning stage: owns the [`Planner`] and with it the robot's motion.
pub(crate) struct PlanningStage {
    planner: Planner,
    period: Duration,
    links: Links,
    world: SlotReader<WorldState>,
    clock: Arc<dyn Clock>,
    watched: Watched,
    plan_transit: Recorder,
    cmd_to_motion: Recorder,
    jitter: Option<Recorder>,
    step_time: Option<Recorder>,
    counters: Counters,
    /// The newest reflex stop applied.
    handled_stop: u64,
    /// When the command whose first motion is still due arrived.
    pending_first_action: Option<Duration>,
}

/// The heartbeat watches of one run, started at the loop's first tick.
struct Watches {
    language: HeartbeatWatch,
    perception: HeartbeatWatch,
}

impl PlanningStage {
    /// A stage ticking `planner` every `period`, reading `world`.
    pub fn new(
        (planner, period): (Planner, Duration),
        links: Links,
        world: SlotReader<WorldState>,
        (clock, watched): (Arc<dyn Clock>, Watched),
        metrics: &mut Metrics,
    ) -> crate::Result<Self> {
        Ok(Self {
            planner,
            period,
            links,
            world,
            clock,
            watched,
            plan_transit: metrics.recorder(Quantity::QueueTransit, "plans")?,
            cmd_to_motion: metrics
                .recorder(Quantity::CommandToAction, "command_to_first_cmd_vel")?,
            jitter: Some(metrics.recorder(Quantity::LoopJitter, "planning")?),
            step_time: Some(metrics.recorder(Quantity::StageStep, "planning")?),
            counters: Counters {
                overruns: metrics.counter("planning_overruns"),
                stale_plans: metrics.counter("stale_plans_dropped"),
                watchdog_stops: metrics.counter("watchdog_stops"),
                deadline_misses: metrics.counter("budget_misses_enforced_by_planner"),
            },
            handled_stop: 0,
            pending_first_action: None,
        })
    }

    /// Applies a new reflex stop, then starts the newest plan that is still current.
    fn take_stop_and_plans(&mut self, now: Duration) {
        let shared = &self.links.shared;
        let stop = shared.stop_seq.load(Ordering::SeqCst);
        if stop > self.handled_stop {
            self.handled_stop = stop;
            self.planner.stop(now);
            let at = shared.stop_at_ns.load(Ordering::SeqCst);
            self.pending_first_action = Some(Duration::from_nanos(at));
        }
        while let Some((msg, t)) = self.links.plans.pop_with_transit() {
            record_opt(&mut self.plan_transit, t);
            // Never start a plan older than the newest command or reflex stop, nor one
            // that came after the planner enforced its deadline.
            if msg.seq <= self.handled_stop
                || msg.seq < shared.latest_seq.load(Ordering::SeqCst)
                || shared.deadline.fired_for(msg.seq)
            {
                self.counters.stale_plans.incr();
                continue;
            }
            self.planner.set_plan(msg.plan, now);
            self.pending_first_action = Some(msg.received_at);
        }
    }

    /// Applies the miss policy when the command being interpreted is past its budget.
    fn enforce_deadline(&mut self, now: Duration) {
        let shared = &self.links.shared;
        let latest = shared.latest_seq.load(Ordering::SeqCst);
        let Some(fired) = shared.deadline.check(now, latest, self.handled_stop) else {
            return;
        };
        self.counters.deadline_misses.incr();
        shared.preempt.store(true, Ordering::SeqCst); // cancel generation
        match fired.action {
            DeadlineAction::Start(plan) => {
                self.planner.set_plan(plan, now);
                self.pending_first_action = Some(fired.received_at);
            }
            DeadlineAction::Stop => self.planner.stop(now),
            DeadlineAction::Nothing => {}
        }
        self.links.emit(AgentOutput::Plan(fired.report));
        tracing::warn!(
            seq = fired.seq,
            "token budget missed: the planner applied the miss policy"
        );
    }

    /// Which watched stage, if any, has been silent too long.
    fn stalled(&self, watches: &mut Watches, now: Duration) -> Option<&'static str> {
        let after = self.watched.stall_after;
        if matches!(watches.language.check(now, after), Liveness::Stalled { .. }) {
            Some("language")
        } else if matches!(
            watches.perception.check(now, after),
            Liveness::Stalled { .. }
        ) {
            Some("perception")
        } else {
            None
        }
    }

    /// One planner tick at `now`.
    fn tick(&mut self, watches: &mut Watches, now: Duration) {
        self.take_stop_and_plans(now);
        self.enforce_deadline(now);
        let world = self.world.read();
        let stalled = self.stalled(watches, now);
        let out = self.planner.step(&world, now, stalled);
        if let Some(twist) = out.twist {
            self.links.emit(AgentOutput::CmdVel(twist));
            if let Some(t0) = self.pending_first_action.take() {
                self.cmd_to_motion
                    .record(self.clock.now().saturating_sub(t0));
            }
        }
        if let Some(say) = out.say {
            self.links.emit(AgentOutput::Say(say.as_str().to_owned()));
        }
        if let Some(event) = out.event {
            if matches!(event, PlanEvent::Watchdog { .. }) {
                self.counters.watchdog_stops.incr();
            }
            self.links.emit(AgentOutput::PlanEvent { event, at: now });
        }
        self.plan_transit.publish();
        self.cmd_to_motion.publish();
    }

    /// The stage thread's body: tick at the fixed rate until shutdown.
    pub fn run(mut self, ctx: &StageContext) {
        let start = self.clock.now();
        let mut lp = match self.periodic_loop(ctx, start) {
            Ok(lp) => lp,
            Err(e) => {
                tracing::error!(error = %e, "planning loop could not start");
                return;
            }
        };
        let mut watches = Watches {
            language: self.watched.language.watch(start),
            perception: self.watched.perception.watch(start),
        };
        let clock = Arc::clone(&self.clock);
        // `tick.woken` steps (a plan arrived) run the same step as the regular ticks.
        lp.run(&*clock, ctx.shutdown(), |_tick| {
            let now = clock.now();
            self.tick(&mut watches, now);
            ControlFlow::Continue(())
        });
    }

    fn periodic_loop(
        &mut self,
        ctx: &StageContext,
        start: Duration,
    ) -> bora_rt::Result<PeriodicLoop> {
        let mut lp = PeriodicLoop::new("planning", start, self.period)?
            .with_overrun_counter(self.counters.overruns.clone())
            .with_heartbeat(ctx.heartbeat().clone())
            .with_wake(self.links.plan_wake.clone());
        if let Some(r) = self.jitter.take() {
            lp = lp.with_jitter_recorder(r);
        }
        if let Some(r) = self.step_time.take() {
            lp = lp.with_step_recorder(r);
        }
        Ok(lp)
    }
}

#[cfg(test)]
mod no_alloc;

#[cfg(test)]
mod wake_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::tests::{drain, links};
    use crate::stages::PlanMsg;
    use crate::EventReport;
    use bora_agent::{parse_command, Limits, PlannerConfig, Twist};
    use bora_rt::clock::ManualClock;
    use bora_rt::slot::{latest_slot, SlotWriter};

    /// A planning stage on `links` reading `world`, and its heartbeat watches.
    pub(super) fn stage(links: &Links, world: &SlotWriter<WorldState>) -> (PlanningStage, Watches) {
        let watched = Watched {
            language: Heartbeat::new(),
            perception: Heartbeat::new(),
            stall_after: Duration::from_secs(3600),
        };
        let planner = Planner::new(PlannerConfig::default()).expect("planner");
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
        let stage = PlanningStage::new(
            (planner, Duration::from_millis(20)),
            links.clone(),
            world.reader().expect("reader"),
            (clock, watched),
            &mut Metrics::new(),
        )
        .expect("stage");
        let watches = Watches {
            language: stage.watched.language.watch(Duration::ZERO),
            perception: stage.watched.perception.watch(Duration::ZERO),
        };
        (stage, watches)
    }

    #[test]
    fn a_tick_drops_a_plan_older_than_a_reflex_stop_and_stops() {
        let links = links();
        let world = latest_slot("world", WorldState::default(), 1).expect("slot");
        let (mut stage, mut watches) = stage(&links, &world);
        let plan = parse_command("move forward one meter", &Limits::default()).expect("parse");
        let msg = PlanMsg {
            seq: 1,
            plan,
            received_at: Duration::ZERO,
        };
        assert!(links.plans.push(msg).is_queued());
        links.shared.latest_seq.store(2, Ordering::SeqCst);
        links.shared.stop_seq.store(2, Ordering::SeqCst);
        stage.tick(&mut watches, Duration::from_millis(20));
        let out = drain(&links);
        assert!(out.contains(&AgentOutput::CmdVel(Twist::ZERO)), "{out:?}");
        let stopped = out.iter().any(|o| {
            o.event_json()
                .and_then(|j| serde_json::from_str::<EventReport>(&j).ok())
                .is_some_and(|e| e.event == crate::Event::Stopped)
        });
        assert!(stopped, "{out:?}");
        assert_eq!(
            stage.counters.stale_plans.get(),
            1,
            "the old plan never starts"
        );
    }
}
