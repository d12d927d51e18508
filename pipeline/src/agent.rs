//! The running agent: perception, language and planning, each on its own thread,
//! connected only by the runtime's bounded queues and a latest-value slot.
//!
//! ```text
//! AgentInput::command ──► commands (MPMC, reject-new) ──► LANGUAGE ──► plans ─┐ + wake
//!      │ reflex stop: stop_seq (atomic), bypasses LANGUAGE                    ▼
//! AgentInput::odom/scan ─► odom/scan (MPMC, drop-oldest) ─► PERCEPTION ─► world slot ─► PLANNING (fixed rate)
//!                                                                               │
//! AgentOutputs::pop ◄── outputs (MPMC, drop-oldest): cmd_vel, plan JSON, text, say, events
//! ```
//!
//! Every command gets a sequence number. A newer command preempts the generation in
//! flight (its cancel flag is set), and the planner never starts a plan older than the
//! newest command or a reflex stop: a stale plan never executes. A queued plan wakes
//! the planner, which starts it in an extra step at once rather than at its next tick;
//! its fixed-rate ticks keep their schedule.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use crate::command_path::CommandAccepted;
use crate::command_path::CommandPath;
use crate::config::AgentConfig;
use crate::deadline::DeadlineWatch;
use crate::hearing::{AudioInput, HearingConfig, HearingStage, Transcriber};
use crate::interpret::Interpreter;
pub use crate::output::AgentOutput;
use crate::stages::language::LanguageStage;
use crate::stages::perception::PerceptionStage;
use crate::stages::planning::{PlanningStage, Watched};
use crate::stages::{Links, Shared};
use crate::{Error, Result};
use bora_agent::{LaserScan, Odometry, Perception, Planner, WorldState};
use bora_rt::clock::{duration_to_ns, Clock};
use bora_rt::metrics::{Metrics, MetricsReport};
use bora_rt::queue::{MpmcQueue, Overflow};
use bora_rt::rt::RtReport;
use bora_rt::slot::latest_slot;
use bora_rt::stage::{Shutdown, Stage, StageBuilder};
use bora_rt::wake::Wake;

/// The input side of a running agent: owned by one thread (e.g. the ROS node's).
pub struct AgentInput {
    path: CommandPath,
    odom: Arc<MpmcQueue<Odometry>>,
    scan: Arc<MpmcQueue<LaserScan>>,
    /// Rung after each sensor message: perception runs at once.
    sensor_wake: Wake,
}

impl AgentInput {
    /// The agent clock's current time (stamp incoming messages with it).
    pub fn now(&self) -> Duration {
        self.path.clock.now()
    }

    /// Hands in a voice command. A stop, halt or freeze bypasses the model.
    pub fn command(&mut self, text: &str) -> CommandAccepted {
        self.path.command(text)
    }

    /// Refuses a command that cannot be interpreted at all (the ROS node's reason: not
    /// UTF-8, a NUL byte...): no motion, and its `agent/plan` report gives `reason`
    /// (`command` is what can be shown of it). Like any newer command, it keeps an older
    /// command's plan from starting; a plan already running goes on.
    pub fn reject(&mut self, command: &str, reason: &str) {
        self.path.reject(command, reason);
    }

    /// Hands in odometry (stamp it with [`AgentInput::now`] on arrival).
    pub fn odom(&mut self, odom: Odometry) {
        let _ = self.odom.push(odom);
        self.sensor_wake.wake();
    }

    /// Hands in a laser scan (stamp it with [`AgentInput::now`] on arrival).
    pub fn scan(&mut self, scan: LaserScan) {
        let _ = self.scan.push(scan);
        self.sensor_wake.wake();
    }

    /// Fault injection for tests: the language stage hangs without a heartbeat for `d`.
    pub fn inject_language_stall(&mut self, d: Duration) {
        let until = duration_to_ns(self.path.clock.now() + d);
        self.path
            .links
            .shared
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
    /// input and output ends. `clock` is the one time base of every decision and stamp.
    pub fn start(
        config: AgentConfig,
        mut interpreter: Interpreter,
        clock: Arc<dyn Clock>,
    ) -> Result<(Agent, AgentInput, AgentOutputs)> {
        let config = config.check()?;
        let mut metrics = Metrics::new();
        let shutdown = Shutdown::new();
        let (budget, policy) = interpreter.budget();
        let (links, odom, scan) = queues(&config, &clock, DeadlineWatch::new(budget, policy))?;
        for q in [
            links.commands.stats(),
            odom.stats(),
            scan.stats(),
            links.plans.stats(),
            links.outputs.stats(),
        ] {
            metrics.watch_queue(q);
        }
        let world_writer = latest_slot("world", WorldState::default(), 2)?;
        let world_reader = world_writer.reader()?;
        let limits = interpreter.limits().clone();
        let model = interpreter.describe();
        let mut degraded = Vec::new();
        if !interpreter.has_model() {
            degraded.push("no language model: fallback parser only".to_owned());
        }
        interpreter.use_clock(Arc::clone(&clock));
        interpreter.use_token_pulse(links.shared.deadline.pulse());
        interpreter.attach_metrics(&mut metrics)?;
        let reflex = metrics.counter("reflex_stops");

        let perception = PerceptionStage::new(
            Perception::new(config.perception)?,
            (Arc::clone(&odom), Arc::clone(&scan)),
            links.sensor_wake.clone(),
            world_writer,
            Arc::clone(&clock),
            &mut metrics,
        )?;
        let perception = builder("perception", &config.perception_rt, &shutdown)
            .spawn(move |ctx| perception.run(&ctx))?;
        let language =
            LanguageStage::new(interpreter, links.clone(), Arc::clone(&clock), &mut metrics)?;
        let language = builder("language", &config.language_rt, &shutdown)
            .spawn(move |ctx| language.run(&ctx))?;
        let watched = Watched {
            language: language.heartbeat().clone(),
            perception: perception.heartbeat().clone(),
            stall_after: config.stage_stall_after,
        };
        let period = Duration::from_secs_f64(1.0 / config.planner.rate_hz);
        let planning = PlanningStage::new(
            (Planner::new(config.planner.clone())?, period),
            links.clone(),
            world_reader,
            (Arc::clone(&clock), watched),
            &mut metrics,
        )?;
        let planning = builder("planning", &config.planning_rt, &shutdown)
            .spawn(move |ctx| planning.run(&ctx))?;

        let agent = Agent {
            shutdown,
            stages: vec![perception, language, planning],
            metrics,
            model,
            degraded,
        };
        let outputs = AgentOutputs {
            outputs: Arc::clone(&links.outputs),
        };
        let input = AgentInput {
            sensor_wake: links.sensor_wake.clone(),
            path: CommandPath::new(links, clock, reflex, limits),
            odom,
            scan,
        };
        Ok((agent, input, outputs))
    }

    /// Starts the hearing stage: audio from the returned [`AudioInput`] is endpointed and
    /// transcribed by `transcriber` on a thread of its own, and each transcript enters
    /// `input`'s command path, as a `voice_command` text does.
    pub fn hear(
        &mut self,
        input: &AgentInput,
        transcriber: Box<dyn Transcriber>,
        config: HearingConfig,
    ) -> Result<AudioInput> {
        let (stage, audio) =
            HearingStage::new(config, transcriber, input.path.clone(), &mut self.metrics)?;
        let stage =
            builder("hearing", &config.rt, &self.shutdown).spawn(move |ctx| stage.run(&ctx))?;
        self.stages.push(stage);
        Ok(audio)
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

/// The stage queues: commands reject new when full (a command is never lost silently:
/// the caller learns it was rejected); sensors, plans and outputs drop the oldest.
type Queues = (Links, Arc<MpmcQueue<Odometry>>, Arc<MpmcQueue<LaserScan>>);

fn queues(config: &AgentConfig, clock: &Arc<dyn Clock>, deadline: DeadlineWatch) -> Result<Queues> {
    let transit = Some(Arc::clone(clock));
    let odom = sensor_queue("odom", config, &transit)?;
    let scan = sensor_queue("scan", config, &transit)?;
    let links = Links {
        shared: Arc::new(Shared::new(deadline)),
        commands: Arc::new(MpmcQueue::new(
            "commands",
            config.command_queue_capacity,
            Overflow::RejectNew,
            transit.clone(),
        )?),
        plans: Arc::new(MpmcQueue::new(
            "plans",
            4,
            Overflow::DropOldest,
            transit.clone(),
        )?),
        plan_wake: Wake::new(),
        command_wake: Wake::new(),
        sensor_wake: Wake::new(),
        outputs: Arc::new(MpmcQueue::new(
            "outputs",
            config.output_queue_capacity,
            Overflow::DropOldest,
            None,
        )?),
    };
    Ok((links, odom, scan))
}

/// A sensor queue: drop-oldest, sized by `sensor_queue_capacity`.
fn sensor_queue<T>(
    name: &str,
    config: &AgentConfig,
    transit: &Option<Arc<dyn Clock>>,
) -> Result<Arc<MpmcQueue<T>>> {
    let q = MpmcQueue::new(
        name,
        config.sensor_queue_capacity,
        Overflow::DropOldest,
        transit.clone(),
    )?;
    Ok(Arc::new(q))
}
