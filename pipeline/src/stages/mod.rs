//! The agent's three stages as structs, each with a step that runs without a thread:
//! [`perception::PerceptionStage`] (sensors -> world slot), [`language::LanguageStage`]
//! (commands -> plans) and [`planning::PlanningStage`] (plans + world -> motor commands,
//! one tick at a time). `Agent::start` builds them and runs each on its own stage thread;
//! what they share crosses in [`Links`]: bounded queues, plain atomics and the wakes
//! that have the planner take a new plan at once instead of at its next tick, and the
//! resting language and perception stages start on a new command or sensor message.
//!
//! A stage with nothing to do rests on its wake for at most [`IDLE_REST`], so it still
//! beats for the planner's watchdog; it never polls. (Polling every 0.5 ms, as perception
//! did, woke a core 2,000 times a second, and on a two-core board every wake lands on a
//! kernel thread of a generation in flight.)

pub(crate) mod language;
pub(crate) mod perception;
pub(crate) mod planning;

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;
use std::time::Duration;

use crate::deadline::DeadlineWatch;
use crate::output::AgentOutput;
use bora_agent::ValidPlan;
use bora_rt::metrics::Recorder;
use bora_rt::queue::MpmcQueue;
use bora_rt::wake::Wake;

/// Longest rest of an idle stage between heartbeats (real time): well under the
/// shortest allowed `stage_stall_after` (10 ms).
pub(crate) const IDLE_REST: Duration = Duration::from_millis(4);

/// The longest command the agent interprets, in Unicode characters: a spoken command is
/// a sentence or two; a longer text is refused with a reason, never cut.
pub const MAX_COMMAND_CHARS: usize = 500;

/// A command's text, stored inline so a command crosses the queue without allocating.
pub(crate) type CommandText = heapless::String<{ 4 * MAX_COMMAND_CHARS }>;

/// A command on its way to the language stage.
#[derive(Debug)]
pub(crate) struct CommandMsg {
    /// Its sequence number.
    pub seq: u64,
    /// The command text (at most [`MAX_COMMAND_CHARS`] characters).
    pub text: CommandText,
    /// When it arrived, agent clock.
    pub received_at: Duration,
}

impl CommandMsg {
    /// Command `seq` received at `received_at`; `None` when `text` has more than
    /// [`MAX_COMMAND_CHARS`] characters.
    pub fn new(seq: u64, text: &str, received_at: Duration) -> Option<Self> {
        if text.chars().count() > MAX_COMMAND_CHARS {
            return None;
        }
        let mut inline = CommandText::new();
        inline.push_str(text).ok()?;
        Some(Self {
            seq,
            text: inline,
            received_at,
        })
    }
}

/// A validated plan on its way to the planner (inline: no allocation to queue it).
#[derive(Debug)]
pub(crate) struct PlanMsg {
    /// The command's sequence number.
    pub seq: u64,
    /// The plan.
    pub plan: ValidPlan,
    /// When the command arrived, agent clock.
    pub received_at: Duration,
}

/// State shared by the input side and the stages: plain atomics.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Sequence number of the newest command (0: none yet).
    pub latest_seq: AtomicU64,
    /// Sequence number of the newest reflex stop.
    pub stop_seq: AtomicU64,
    /// When that stop arrived, ns on the agent clock.
    pub stop_at_ns: AtomicU64,
    /// Set by a newer command: the generation in flight stops at its next step.
    pub preempt: Arc<AtomicBool>,
    /// Fault injection: the language stage hangs (no heartbeat) until this time, ns.
    pub language_stall_until_ns: AtomicU64,
    /// The token budget, watched by the planner (see `deadline`).
    pub deadline: DeadlineWatch,
}

impl Shared {
    /// Nothing seen yet; the planner watches `deadline`.
    pub fn new(deadline: DeadlineWatch) -> Self {
        Self {
            latest_seq: AtomicU64::new(0),
            stop_seq: AtomicU64::new(0),
            stop_at_ns: AtomicU64::new(0),
            preempt: Arc::new(AtomicBool::new(false)),
            language_stall_until_ns: AtomicU64::new(0),
            deadline,
        }
    }
}

/// The queues and shared state every stage and the input side hold a handle to.
#[derive(Clone)]
pub(crate) struct Links {
    /// Sequence numbers, the preempt flag, the deadline watch.
    pub shared: Arc<Shared>,
    /// Commands for the language stage.
    pub commands: Arc<MpmcQueue<CommandMsg>>,
    /// Plans for the planner.
    pub plans: Arc<MpmcQueue<PlanMsg>>,
    /// Raised after a plan is queued: the planning loop runs one extra step right away
    /// (start the plan, step against the latest world), then keeps its fixed schedule.
    pub plan_wake: Wake,
    /// Raised after a command is queued: the resting language stage starts on it at once.
    pub command_wake: Wake,
    /// Raised after odometry or a scan is queued: the resting perception stage runs.
    pub sensor_wake: Wake,
    /// Everything the outside world publishes.
    pub outputs: Arc<MpmcQueue<AgentOutput>>,
}

impl Links {
    /// Queues `out` for the outside world (drop-oldest: a full queue loses the oldest).
    pub fn emit(&self, out: AgentOutput) {
        let _ = self.outputs.push(out);
    }
}

/// Records a queue transit time when the queue measured one.
pub(crate) fn record_opt(r: &mut Recorder, t: Option<Duration>) {
    if let Some(t) = t {
        r.record(t);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bora_rt::budget::{MissPolicy, TokenBudget};
    use bora_rt::queue::Overflow;

    /// Links with small queues and an inactive deadline watch.
    pub fn links() -> Links {
        Links {
            shared: Arc::new(Shared::new(DeadlineWatch::new(
                TokenBudget::UNLIMITED,
                MissPolicy::Fallback,
            ))),
            commands: queue("commands"),
            plans: queue("plans"),
            plan_wake: Wake::new(),
            command_wake: Wake::new(),
            sensor_wake: Wake::new(),
            outputs: queue("outputs"),
        }
    }

    /// Everything queued for the outside world, in order.
    pub fn drain(links: &Links) -> Vec<AgentOutput> {
        std::iter::from_fn(|| links.outputs.pop()).collect()
    }

    fn queue<T>(name: &str) -> Arc<MpmcQueue<T>> {
        Arc::new(MpmcQueue::new(name, 8, Overflow::DropOldest, None).expect("queue"))
    }
}
