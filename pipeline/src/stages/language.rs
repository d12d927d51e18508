//! LANGUAGE: the newest queued command -> interpretation -> a plan for the planner and a
//! report for `agent/plan`. Older queued commands are superseded unread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{record_opt, CommandMsg, Links, PlanMsg, IDLE_REST};
use crate::agreement::Agreement;
use crate::interpret::{Interpretation, Interpreter, Source};
use crate::output::AgentOutput;
use crate::reason::Reason;
use crate::report::{EventReport, PlanReport};
use bora_rt::clock::Clock;
use bora_rt::liveness::Heartbeat;
use bora_rt::metrics::{Counter, Metrics, Quantity, Recorder};
use bora_rt::stage::StageContext;

/// The language stage's counters, named as diagnostics shows them.
struct Counters {
    superseded: Counter,
    preempted: Counter,
    no_plan: Counter,
    fallbacks: Counter,
    not_understood: Counter,
    /// One counter per compared [`Agreement`], by its counter name.
    agreement: Vec<(Agreement, Counter)>,
}

/// The language stage: owns the interpreter (and through it the model).
pub(crate) struct LanguageStage {
    interpreter: Interpreter,
    links: Links,
    clock: Arc<dyn Clock>,
    cmd_transit: Recorder,
    cmd_to_plan: Recorder,
    counters: Counters,
}

impl LanguageStage {
    /// A stage interpreting commands from `links` with `interpreter`.
    pub fn new(
        interpreter: Interpreter,
        links: Links,
        clock: Arc<dyn Clock>,
        metrics: &mut Metrics,
    ) -> crate::Result<Self> {
        Ok(Self {
            interpreter,
            links,
            clock,
            cmd_transit: metrics.recorder(Quantity::QueueTransit, "commands")?,
            cmd_to_plan: metrics.recorder(Quantity::CommandToAction, "command_to_plan")?,
            counters: Counters {
                superseded: metrics.counter("commands_superseded"),
                preempted: metrics.counter("generations_preempted"),
                no_plan: metrics.counter("commands_without_plan"),
                fallbacks: metrics.counter("fallback_plans"),
                not_understood: metrics.counter("commands_not_understood"),
                agreement: Agreement::COMPARED
                    .iter()
                    .filter_map(|&a| Some((a, metrics.counter(a.counter_name()?))))
                    .collect(),
            },
        })
    }

    /// The newest queued command, reporting every older one as superseded.
    fn newest_command(&mut self) -> Option<CommandMsg> {
        let mut newest = None;
        while let Some((cmd, t)) = self.links.commands.pop_with_transit() {
            record_opt(&mut self.cmd_transit, t);
            if let Some(old) = newest.replace(cmd) {
                self.superseded(&old);
            }
        }
        self.cmd_transit.publish();
        newest
    }

    fn superseded(&self, cmd: &CommandMsg) {
        self.counters.superseded.incr();
        let report = PlanReport::superseded(&cmd.text, cmd.seq);
        self.links.emit(AgentOutput::Plan(report.to_json()));
    }

    /// Interprets the newest queued command, if any; `beat` is beaten for every piece
    /// of model text. Returns whether there was a command.
    pub fn step(&mut self, beat: &Heartbeat) -> bool {
        let Some(cmd) = self.newest_command() else {
            return false;
        };
        let shared = &self.links.shared;
        shared.preempt.store(false, Ordering::SeqCst);
        if shared.latest_seq.load(Ordering::SeqCst) != cmd.seq {
            self.superseded(&cmd);
            return true;
        }
        let interp = self.interpret(&cmd, beat);
        self.publish(interp, &cmd);
        true
    }

    /// Runs the interpreter, streaming text, then drops a plan that came too late or
    /// that a newer command or stop made stale.
    fn interpret(&mut self, cmd: &CommandMsg, beat: &Heartbeat) -> Interpretation {
        let shared = Arc::clone(&self.links.shared);
        let cancel = Arc::clone(&shared.preempt);
        let links = &self.links;
        let watch = &shared.deadline;
        let mut interp = self
            .interpreter
            .interpret(&cmd.text, &cancel, &mut |piece| {
                beat.beat();
                watch.on_first_text(cmd.seq);
                links.emit(AgentOutput::Text(piece.to_owned()));
            });
        watch.on_done(cmd.seq);
        let stale = shared.latest_seq.load(Ordering::SeqCst) != cmd.seq
            || shared.stop_seq.load(Ordering::SeqCst) > cmd.seq;
        if watch.fired_for(cmd.seq) {
            // The planner applied the miss policy at the deadline already.
            interp.plan = None;
            interp.source = Source::None;
            interp.reasons.push(Reason::TooLate);
        } else if stale && interp.plan.is_some() {
            interp.plan = None;
            interp.source = Source::None;
            interp.reasons.push(Reason::Preempted);
        }
        interp
    }

    /// Counts, reports and hands the plan (if any) to the planner.
    fn publish(&mut self, mut interp: Interpretation, cmd: &CommandMsg) {
        let fired = self.links.shared.deadline.fired_for(cmd.seq);
        if interp.preempted() {
            self.counters.preempted.incr();
        } else if !interp.understood && !fired {
            self.counters.not_understood.incr();
            let event = EventReport::not_understood(&interp, cmd.seq, self.clock.now());
            self.links.emit(AgentOutput::Event(event.to_json()));
        }
        if let Some((_, c)) = self
            .counters
            .agreement
            .iter()
            .find(|(a, _)| *a == interp.agreement)
        {
            c.incr();
        }
        let report = PlanReport::interpreted(&interp, cmd.seq);
        match interp.plan.take() {
            Some(plan) => {
                if interp.source == Source::Fallback {
                    self.counters.fallbacks.incr();
                }
                let waited = self.clock.now().saturating_sub(cmd.received_at);
                self.cmd_to_plan.record(waited);
                self.cmd_to_plan.publish();
                let _ = self.links.plans.push(PlanMsg {
                    seq: cmd.seq,
                    plan,
                    received_at: cmd.received_at,
                });
                // After the push, so the planner's extra step finds the plan queued.
                self.links.plan_wake.wake();
            }
            None => self.counters.no_plan.incr(),
        }
        self.links.emit(AgentOutput::Plan(report.to_json()));
    }

    /// The stage thread's body: step until shutdown, resting on the command wake (at
    /// most [`IDLE_REST`]) when idle. An injected stall holds the stage without a
    /// heartbeat.
    pub fn run(mut self, ctx: &StageContext) {
        while !ctx.should_stop() {
            let stall_until = self
                .links
                .shared
                .language_stall_until_ns
                .load(Ordering::SeqCst);
            if self.clock.now_ns() < stall_until {
                std::thread::sleep(Duration::from_millis(1)); // injected fault: no heartbeat
                continue;
            }
            ctx.beat();
            if !self.step(ctx.heartbeat()) {
                self.links.command_wake.wait_timeout(IDLE_REST);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::PlanReport;
    use crate::stages::tests::{drain, links};
    use bora_agent::Limits;
    use bora_rt::budget::MissPolicy;
    use bora_rt::clock::ManualClock;

    #[test]
    fn one_step_supersedes_older_commands_and_plans_the_newest() {
        let links = links();
        let clock = Arc::new(ManualClock::new());
        let interpreter = Interpreter::new(None, Limits::default(), MissPolicy::Fallback);
        let mut metrics = Metrics::new();
        let mut stage =
            LanguageStage::new(interpreter, links.clone(), clock, &mut metrics).expect("stage");
        assert!(!stage.step(&Heartbeat::new()), "no command, nothing to do");
        for (seq, text) in [(1, "turn left"), (2, "move forward one meter")] {
            let cmd = CommandMsg::new(seq, text, Duration::ZERO).expect("short command");
            assert!(links.commands.push(cmd).is_queued());
        }
        links.shared.latest_seq.store(2, Ordering::SeqCst);
        assert!(stage.step(&Heartbeat::new()));
        let reports: Vec<PlanReport> = drain(&links)
            .iter()
            .filter_map(|o| match o {
                AgentOutput::Plan(j) => serde_json::from_str(j).ok(),
                _ => None,
            })
            .collect();
        assert_eq!(reports.len(), 2, "{reports:?}");
        assert_eq!((reports[0].seq, reports[0].plan.is_none()), (1, true));
        assert_eq!((reports[1].seq, reports[1].source), (2, Source::Fallback));
        let plan = links
            .plans
            .pop()
            .expect("the newest plan goes to the planner");
        assert_eq!(plan.seq, 2);
    }
}
