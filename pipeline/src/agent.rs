//! The running agent: perception, language and planning, each on its own thread,
//! connected only by the runtime's bounded queues and a latest-value slot.
//!
//! ```text
//! AgentInput::command ──► commands (MPMC, reject-new) ──► LANGUAGE ──► plans ─┐
//!      │ reflex stop: stop_seq (atomic), bypasses LANGUAGE                    ▼
//! AgentInput::odom/scan ─► odom/scan (MPMC, drop-oldest) ─► PERCEPTION ─► world slot ─► PLANNING (fixed rate)
//!                                                                               │
//! AgentOutputs::pop ◄── outputs (MPMC, drop-oldest): cmd_vel, plan JSON, text, say, events
//! ```
//!
//! Every command gets a sequence number. A newer command preempts the generation in
//! flight (its cancel flag is set), and the planner never starts a plan older than the
//! newest command or a reflex stop: a stale plan never executes.

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::config::AgentConfig;
use crate::deadline::{DeadlineAction, DeadlineWatch};
use crate::interpret::Interpreter;
use crate::reason::Reason;
use crate::report::{EventReport, PlanReport};
use crate::{Error, Result};
use bora_agent::{LaserScan, Odometry, Perception, Planner, Twist, ValidPlan, WorldState};
use bora_rt::clock::{duration_to_ns, Clock};
use bora_rt::metrics::{Counter, Metrics, MetricsReport, Quantity, Recorder};
use bora_rt::periodic::PeriodicLoop;
use bora_rt::queue::{MpmcQueue, Overflow};
use bora_rt::rt::RtReport;
use bora_rt::slot::latest_slot;
use bora_rt::stage::{Shutdown, Stage, StageBuilder};

/// Something the agent asks the outside world (the ROS node) to publish.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentOutput {
    /// A velocity command for `cmd_vel`.
    CmdVel(Twist),
    /// A finished interpretation, JSON, for `agent/plan`.
    Plan(String),
    /// A piece of streamed model text, for `agent/text`.
    Text(String),
    /// A say step's text, for `agent/say`.
    Say(String),
    /// A planner event (step started/finished, watchdog, obstacle...), JSON.
    Event(String),
}

/// A command on its way to the language stage.
#[derive(Debug)]
struct CommandMsg {
    seq: u64,
    text: String,
    received_at: Duration,
}

/// A validated plan on its way to the planner.
#[derive(Debug)]
struct PlanMsg {
    seq: u64,
    plan: ValidPlan,
    received_at: Duration,
}

/// State shared by the input side and the stages: plain atomics.
#[derive(Debug)]
struct Shared {
    /// Sequence number of the newest command (0: none yet).
    latest_seq: AtomicU64,
    /// Sequence number of the newest reflex stop.
    stop_seq: AtomicU64,
    /// When that stop arrived, ns on the agent clock.
    stop_at_ns: AtomicU64,
    /// Set by a newer command: the generation in flight stops at its next step.
    preempt: Arc<AtomicBool>,
    /// Fault injection: the language stage hangs (no heartbeat) until this time, ns.
    language_stall_until_ns: AtomicU64,
    /// The token budget, watched by the planner (see `deadline`).
    deadline: DeadlineWatch,
}

/// The input side of a running agent: owned by one thread (e.g. the ROS node's).
pub struct AgentInput {
    shared: Arc<Shared>,
    clock: Arc<dyn Clock>,
    commands: Arc<MpmcQueue<CommandMsg>>,
    odom: Arc<MpmcQueue<Odometry>>,
    scan: Arc<MpmcQueue<LaserScan>>,
    outputs: Arc<MpmcQueue<AgentOutput>>,
    reflex: Counter,
    /// Limits for the deterministic parse prepared on arrival (budget policy fallback).
    limits: bora_agent::Limits,
}

/// What happened to a command handed to [`AgentInput::command`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandAccepted {
    /// A reflex stop: the planner halts on its next tick.
    ReflexStop,
    /// Queued for the language stage (any generation in flight is preempted).
    Queued,
    /// The command queue was full; the command was dropped (counted).
    Rejected,
}

impl AgentInput {
    /// The agent clock's current time (stamp incoming messages with it).
    pub fn now(&self) -> Duration {
        self.clock.now()
    }

    /// Hands in a voice command. A stop, halt or freeze bypasses the model.
    pub fn command(&mut self, text: &str) -> CommandAccepted {
        let now = self.clock.now();
        let seq = self.shared.latest_seq.fetch_add(1, Ordering::SeqCst) + 1;
        self.shared.preempt.store(true, Ordering::SeqCst);
        if bora_agent::is_reflex_stop(text) {
            self.shared
                .stop_at_ns
                .store(duration_to_ns(now), Ordering::SeqCst);
            self.shared.stop_seq.store(seq, Ordering::SeqCst);
            self.reflex.incr();
            let report = PlanReport::reflex(text, seq).to_json();
            let _ = self.outputs.push(AgentOutput::Plan(report));
            return CommandAccepted::ReflexStop;
        }
        let msg = CommandMsg {
            seq,
            text: text.to_owned(),
            received_at: now,
        };
        let deadline = &self.shared.deadline;
        let parse = deadline
            .wants_parse()
            .then(|| bora_agent::parse_command(text, &self.limits).map_err(|e| e.to_string()));
        deadline.on_command(seq, now, text, parse);
        if self.commands.push(msg).is_queued() {
            CommandAccepted::Queued
        } else {
            CommandAccepted::Rejected
        }
    }

    /// Refuses a command that cannot be interpreted at all (the ROS node's reason: not
    /// UTF-8, a NUL byte...): no motion, and its `agent/plan` report gives `reason`
    /// (`command` is what can be shown of it). Like any newer command, it keeps an older
    /// command's plan from starting; a plan already running goes on.
    pub fn reject(&mut self, command: &str, reason: &str) {
        let seq = self.shared.latest_seq.fetch_add(1, Ordering::SeqCst) + 1;
        self.shared.preempt.store(true, Ordering::SeqCst);
        let report = PlanReport::refused(command, seq, reason).to_json();
        let _ = self.outputs.push(AgentOutput::Plan(report));
    }

    /// Hands in odometry (stamp it with [`AgentInput::now`] on arrival).
    pub fn odom(&mut self, odom: Odometry) {
        let _ = self.odom.push(odom);
    }

    /// Hands in a laser scan (stamp it with [`AgentInput::now`] on arrival).
    pub fn scan(&mut self, scan: LaserScan) {
        let _ = self.scan.push(scan);
    }

    /// Fault injection for tests: the language stage hangs without a heartbeat for `d`.
    pub fn inject_language_stall(&mut self, d: Duration) {
        let until = duration_to_ns(self.clock.now() + d);
        self.shared
            .language_stall_until_ns
            .store(until, Ordering::SeqCst);
    }
}

/// The output side of a running agent.
pub struct AgentOutputs {
    outputs: Arc<MpmcQueue<AgentOutput>>,
}

impl AgentOutputs {
    /// The next output, if any (never blocks).
    pub fn pop(&self) -> Option<AgentOutput> {
        self.outputs.pop()
    }
}

/// A snapshot of the agent's health for diagnostics.
#[derive(Debug, Clone, Serialize)]
pub struct AgentReport {
    /// Latency distributions, queue counters and named counters.
    pub metrics: MetricsReport,
    /// The model and device in use, or why there is none.
    pub model: String,
    /// Degraded modes in effect (e.g. no model: fallback parser only).
    pub degraded: Vec<String>,
    /// Per stage: whether pinning and SCHED_FIFO were applied.
    pub stages: Vec<(String, String)>,
}

/// A running agent: its stage threads and the metrics they record into.
pub struct Agent {
    shutdown: Shutdown,
    stages: Vec<Stage<()>>,
    metrics: Metrics,
    model: String,
    degraded: Vec<String>,
}

impl Agent {
    /// Starts the three stages. Returns the agent (for reports and shutdown) and its
    /// input and output ends.
    pub fn start(
        config: AgentConfig,
        mut interpreter: Interpreter,
        clock: Arc<dyn Clock>,
    ) -> Result<(Agent, AgentInput, AgentOutputs)> {
        let config = config.check()?;
        let mut metrics = Metrics::new();
        let shutdown = Shutdown::new();
        let (budget, policy) = interpreter.budget();
        let shared = Arc::new(Shared {
            latest_seq: AtomicU64::new(0),
            stop_seq: AtomicU64::new(0),
            stop_at_ns: AtomicU64::new(0),
            preempt: Arc::new(AtomicBool::new(false)),
            language_stall_until_ns: AtomicU64::new(0),
            deadline: DeadlineWatch::new(budget, policy),
        });
        let limits = interpreter.limits().clone();
        let transit = Some(Arc::clone(&clock));
        let commands = Arc::new(MpmcQueue::<CommandMsg>::new(
            "commands",
            config.command_queue_capacity,
            Overflow::RejectNew,
            transit.clone(),
        )?);
        let odom = Arc::new(MpmcQueue::new(
            "odom",
            config.sensor_queue_capacity,
            Overflow::DropOldest,
            transit.clone(),
        )?);
        let scan = Arc::new(MpmcQueue::new(
            "scan",
            config.sensor_queue_capacity,
            Overflow::DropOldest,
            transit.clone(),
        )?);
        let plans = Arc::new(MpmcQueue::<PlanMsg>::new(
            "plans",
            4,
            Overflow::DropOldest,
            transit.clone(),
        )?);
        let outputs = Arc::new(MpmcQueue::new(
            "outputs",
            config.output_queue_capacity,
            Overflow::DropOldest,
            None,
        )?);
        for q in [
            commands.stats(),
            odom.stats(),
            scan.stats(),
            plans.stats(),
            outputs.stats(),
        ] {
            metrics.watch_queue(q);
        }
        let mut world_writer = latest_slot("world", WorldState::default(), 2)?;
        let world_reader = world_writer.reader()?;

        let model = interpreter.describe();
        let mut degraded = Vec::new();
        if !interpreter.has_model() {
            degraded.push("no language model: fallback parser only".to_owned());
        }
        interpreter.attach_metrics(&mut metrics)?;
        let reflex = metrics.counter("reflex_stops");

        // PERCEPTION: sensors -> world slot.
        let mut perception = Perception::new(config.perception)?;
        let (p_odom, p_scan) = (Arc::clone(&odom), Arc::clone(&scan));
        let mut odom_transit = metrics.recorder(Quantity::QueueTransit, "odom")?;
        let mut scan_transit = metrics.recorder(Quantity::QueueTransit, "scan")?;
        let mut p_step = metrics.recorder(Quantity::StageStep, "perception")?;
        let p_clock = Arc::clone(&clock);
        let perception_stage =
            builder("perception", &config.perception_rt, &shutdown).spawn(move |ctx| {
                let span = ctx.step_span();
                while !ctx.should_stop() {
                    ctx.beat();
                    let begin = p_clock.now();
                    let mut changed = false;
                    while let Some((o, t)) = p_odom.pop_with_transit() {
                        let _e = span.enter();
                        record_opt(&mut odom_transit, t);
                        perception.update_odom(&o);
                        changed = true;
                    }
                    while let Some((s, t)) = p_scan.pop_with_transit() {
                        let _e = span.enter();
                        record_opt(&mut scan_transit, t);
                        perception.update_scan(&s);
                        changed = true;
                    }
                    if changed {
                        world_writer.write(perception.world());
                        p_step.record(p_clock.now().saturating_sub(begin));
                    } else {
                        std::thread::sleep(Duration::from_micros(500));
                    }
                    p_step.publish();
                    odom_transit.publish();
                    scan_transit.publish();
                }
            })?;

        // LANGUAGE: commands -> interpretation -> plans.
        let l_shared = Arc::clone(&shared);
        let (l_commands, l_plans, l_outputs) = (
            Arc::clone(&commands),
            Arc::clone(&plans),
            Arc::clone(&outputs),
        );
        let mut cmd_transit = metrics.recorder(Quantity::QueueTransit, "commands")?;
        let mut cmd_to_plan = metrics.recorder(Quantity::CommandToAction, "command_to_plan")?;
        let superseded = metrics.counter("commands_superseded");
        let preempted = metrics.counter("generations_preempted");
        let no_plan = metrics.counter("commands_without_plan");
        let fallbacks = metrics.counter("fallback_plans");
        let not_understood = metrics.counter("commands_not_understood");
        let l_clock = Arc::clone(&clock);
        let language_stage =
            builder("language", &config.language_rt, &shutdown).spawn(move |ctx| {
                while !ctx.should_stop() {
                    let stall_until = l_shared.language_stall_until_ns.load(Ordering::SeqCst);
                    if l_clock.now_ns() < stall_until {
                        std::thread::sleep(Duration::from_millis(1)); // injected fault: no heartbeat
                        continue;
                    }
                    ctx.beat();
                    // Only the newest queued command matters; older ones are superseded.
                    let mut newest = None;
                    while let Some((cmd, t)) = l_commands.pop_with_transit() {
                        record_opt(&mut cmd_transit, t);
                        if let Some(old) = newest.replace(cmd) {
                            superseded.incr();
                            let report = PlanReport::superseded(&old.text, old.seq);
                            let _ = l_outputs.push(AgentOutput::Plan(report.to_json()));
                        }
                    }
                    cmd_transit.publish();
                    let Some(cmd) = newest else {
                        std::thread::sleep(Duration::from_millis(2));
                        continue;
                    };
                    l_shared.preempt.store(false, Ordering::SeqCst);
                    if l_shared.latest_seq.load(Ordering::SeqCst) != cmd.seq {
                        superseded.incr();
                        let report = PlanReport::superseded(&cmd.text, cmd.seq);
                        let _ = l_outputs.push(AgentOutput::Plan(report.to_json()));
                        continue;
                    }
                    let cancel = Arc::clone(&l_shared.preempt);
                    let beat = ctx.heartbeat().clone();
                    let out = Arc::clone(&l_outputs);
                    let watch = &l_shared.deadline;
                    let mut interp = interpreter.interpret(&cmd.text, &cancel, &mut |piece| {
                        beat.beat();
                        watch.on_first_text(cmd.seq);
                        let _ = out.push(AgentOutput::Text(piece.to_owned()));
                    });
                    watch.on_done(cmd.seq);
                    let stale = l_shared.latest_seq.load(Ordering::SeqCst) != cmd.seq
                        || l_shared.stop_seq.load(Ordering::SeqCst) > cmd.seq;
                    if watch.fired_for(cmd.seq) {
                        // The planner applied the miss policy at the deadline already.
                        interp.plan = None;
                        interp.source = crate::interpret::Source::None;
                        interp.reasons.push(Reason::TooLate);
                    } else if stale && interp.plan.is_some() {
                        interp.plan = None;
                        interp.source = crate::interpret::Source::None;
                        interp.reasons.push(Reason::Preempted);
                    }
                    if interp.preempted() {
                        preempted.incr();
                    } else if !interp.understood && !watch.fired_for(cmd.seq) {
                        not_understood.incr();
                        let event = EventReport::not_understood(&interp, cmd.seq, l_clock.now());
                        let _ = l_outputs.push(AgentOutput::Event(event.to_json()));
                    }
                    let report = PlanReport::interpreted(&interp, cmd.seq);
                    match interp.plan.take() {
                        Some(plan) => {
                            if interp.source == crate::interpret::Source::Fallback {
                                fallbacks.incr();
                            }
                            cmd_to_plan.record(l_clock.now().saturating_sub(cmd.received_at));
                            cmd_to_plan.publish();
                            let _ = l_plans.push(PlanMsg {
                                seq: cmd.seq,
                                plan,
                                received_at: cmd.received_at,
                            });
                        }
                        None => no_plan.incr(),
                    }
                    let _ = l_outputs.push(AgentOutput::Plan(report.to_json()));
                }
            })?;

        // PLANNING: fixed rate, owns the motors.
        let mut planner = Planner::new(config.planner.clone())?;
        let period = Duration::from_secs_f64(1.0 / config.planner.rate_hz);
        let (pl_shared, pl_plans, pl_outputs) = (
            Arc::clone(&shared),
            Arc::clone(&plans),
            Arc::clone(&outputs),
        );
        let mut plan_transit = metrics.recorder(Quantity::QueueTransit, "plans")?;
        let mut cmd_to_motion =
            metrics.recorder(Quantity::CommandToAction, "command_to_first_cmd_vel")?;
        let jitter = metrics.recorder(Quantity::LoopJitter, "planning")?;
        let step_time = metrics.recorder(Quantity::StageStep, "planning")?;
        let overruns = metrics.counter("planning_overruns");
        let stale_plans = metrics.counter("stale_plans_dropped");
        let watchdog_stops = metrics.counter("watchdog_stops");
        let deadline_misses = metrics.counter("budget_misses_enforced_by_planner");
        let language_beat = language_stage.heartbeat().clone();
        let perception_beat = perception_stage.heartbeat().clone();
        let stall_after = config.stage_stall_after;
        let pl_clock = Arc::clone(&clock);
        let planning_stage =
            builder("planning", &config.planning_rt, &shutdown).spawn(move |ctx| {
                let start = pl_clock.now();
                let mut lp = match PeriodicLoop::new("planning", start, period) {
                    Ok(lp) => lp
                        .with_jitter_recorder(jitter)
                        .with_step_recorder(step_time)
                        .with_overrun_counter(overruns)
                        .with_heartbeat(ctx.heartbeat().clone()),
                    Err(e) => {
                        tracing::error!(error = %e, "planning loop could not start");
                        return;
                    }
                };
                let world_reader = world_reader;
                let mut language_watch = language_beat.watch(start);
                let mut perception_watch = perception_beat.watch(start);
                let mut handled_stop = 0u64;
                let mut pending_first_action: Option<Duration> = None;
                lp.run(&*pl_clock, ctx.shutdown(), |_tick| {
                    let now = pl_clock.now();
                    let stop = pl_shared.stop_seq.load(Ordering::SeqCst);
                    if stop > handled_stop {
                        handled_stop = stop;
                        planner.stop(now);
                        pending_first_action = Some(Duration::from_nanos(
                            pl_shared.stop_at_ns.load(Ordering::SeqCst),
                        ));
                    }
                    while let Some((msg, t)) = pl_plans.pop_with_transit() {
                        record_opt(&mut plan_transit, t);
                        // Never start a plan older than the newest command or reflex stop,
                        // nor one that came after the planner enforced its deadline.
                        if msg.seq <= handled_stop
                            || msg.seq < pl_shared.latest_seq.load(Ordering::SeqCst)
                            || pl_shared.deadline.fired_for(msg.seq)
                        {
                            stale_plans.incr();
                            continue;
                        }
                        planner.set_plan(msg.plan, now);
                        pending_first_action = Some(msg.received_at);
                    }
                    let latest = pl_shared.latest_seq.load(Ordering::SeqCst);
                    if let Some(fired) = pl_shared.deadline.check(now, latest, handled_stop) {
                        deadline_misses.incr();
                        pl_shared.preempt.store(true, Ordering::SeqCst); // cancel generation
                        match fired.action {
                            DeadlineAction::Start(plan) => {
                                planner.set_plan(plan, now);
                                pending_first_action = Some(fired.received_at);
                            }
                            DeadlineAction::Stop => planner.stop(now),
                            DeadlineAction::Nothing => {}
                        }
                        let _ = pl_outputs.push(AgentOutput::Plan(fired.report));
                        tracing::warn!(
                            seq = fired.seq,
                            "token budget missed: the planner applied the miss policy"
                        );
                    }
                    let world = world_reader.read();
                    let stalled = if matches!(
                        language_watch.check(now, stall_after),
                        bora_rt::liveness::Liveness::Stalled { .. }
                    ) {
                        Some("language")
                    } else if matches!(
                        perception_watch.check(now, stall_after),
                        bora_rt::liveness::Liveness::Stalled { .. }
                    ) {
                        Some("perception")
                    } else {
                        None
                    };
                    let out = planner.step(&world, now, stalled);
                    if let Some(twist) = out.twist {
                        let _ = pl_outputs.push(AgentOutput::CmdVel(twist));
                        if let Some(t0) = pending_first_action.take() {
                            cmd_to_motion.record(pl_clock.now().saturating_sub(t0));
                        }
                    }
                    if let Some(say) = out.say {
                        let _ = pl_outputs.push(AgentOutput::Say(say));
                    }
                    if let Some(event) = out.event {
                        if matches!(event, bora_agent::PlanEvent::Watchdog { .. }) {
                            watchdog_stops.incr();
                        }
                        let report = EventReport::planner(&event, now);
                        let _ = pl_outputs.push(AgentOutput::Event(report.to_json()));
                    }
                    plan_transit.publish();
                    cmd_to_motion.publish();
                    ControlFlow::Continue(())
                });
            })?;

        let agent = Agent {
            shutdown,
            stages: vec![perception_stage, language_stage, planning_stage],
            metrics,
            model,
            degraded,
        };
        let input = AgentInput {
            shared,
            clock,
            commands,
            odom,
            scan,
            outputs: Arc::clone(&outputs),
            reflex,
            limits,
        };
        Ok((agent, input, AgentOutputs { outputs }))
    }

    /// Metrics, model and degraded modes, now.
    pub fn report(&mut self) -> AgentReport {
        AgentReport {
            metrics: self.metrics.report(),
            model: self.model.clone(),
            degraded: self.degraded.clone(),
            stages: self
                .stages
                .iter()
                .map(|s| (s.name().to_owned(), format!("{:?}", s.rt())))
                .collect(),
        }
    }

    /// Each stage's real-time setup outcome.
    pub fn rt_reports(&self) -> Vec<(String, RtReport)> {
        self.stages
            .iter()
            .map(|s| (s.name().to_owned(), s.rt().clone()))
            .collect()
    }

    /// Stops every stage and waits at most `timeout` for each; reports the first that
    /// did not stop in time (the others are still joined).
    pub fn stop(self, timeout: Duration) -> Result<()> {
        self.shutdown.request();
        let mut first_err: Option<Error> = None;
        for stage in self.stages {
            if let Err(e) = stage.join_timeout(timeout) {
                first_err.get_or_insert(e.into());
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

fn builder(name: &str, rt: &crate::config::StageRt, shutdown: &Shutdown) -> StageBuilder {
    let mut b = StageBuilder::new(name).shutdown(shutdown);
    if let Some(core) = rt.core {
        b = b.pin_to_core(core);
    }
    if let Some(p) = rt.fifo_priority {
        b = b.fifo_priority(p);
    }
    b
}

fn record_opt(r: &mut Recorder, t: Option<Duration>) {
    if let Some(t) = t {
        r.record(t);
    }
}
