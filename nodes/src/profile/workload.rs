//! The profile's workload: raw model speed (`bora_models::bench`), then the whole agent
//! pipeline in-process with the simulated robot feeding perception, while a fixed cycle
//! of commands arrives at a fixed period. Collects every figure of the report.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use bora_models::bench::{self, BenchOptions, BenchReport};
use bora_pipeline::{
    Agent, AgentOutput, BudgetOutcome, CommandAccepted, Interpreter, PlanReport, SimLoop, SimRates,
};
use bora_rt::budget::Limit;
use bora_rt::clock::{Clock, SystemClock};
use bora_rt::metrics::{MetricsReport, Quantity};
use bora_sim::{DriveConfig, LidarConfig, Sim, World};

use super::progress::Progress;
use super::report::{
    BudgetFigures, Counter, Latency, ModelFigures, ProfileReport, QueueFigures, ThreadCpu,
    Workload, SCHEMA,
};
use super::speech::Speaker;
use super::stress::Stress;
use super::threads::CpuSnapshot;
use crate::params::{AgentParams, ParamValue};

/// The default command cycle: small motions that keep the robot inside the room.
pub const DEFAULT_COMMANDS: &[&str] = &[
    "turn left 30 degrees",
    "move forward 20 centimeters",
    "turn right 30 degrees",
    "move backward 20 centimeters",
];

/// What to run.
#[derive(Debug, Clone)]
pub struct ProfileOptions {
    /// Model name in the cache or a GGUF path.
    pub model: String,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// Model compute threads (0 = one per logical CPU).
    pub threads: usize,
    /// The commands, sent in order and cycled.
    pub commands: Vec<String>,
    /// Measured run length.
    pub duration: Duration,
    /// Time between two commands.
    pub command_period: Duration,
    /// Busy threads during the run.
    pub stress_threads: usize,
    /// No progress output.
    pub quiet: bool,
    /// A WAV file spoken (into the hearing stage, Whisper tiny.en) as every command
    /// instead of the text cycle; None: text commands.
    pub speech: Option<std::path::PathBuf>,
}

/// Runs the whole profile and returns its report.
pub fn run(opts: &ProfileOptions) -> anyhow::Result<ProfileReport> {
    anyhow::ensure!(
        !opts.commands.is_empty(),
        "the command list is empty (give --commands a file with one command per line)"
    );
    let mut progress = Progress::new(opts.quiet);
    let params = params(opts)?;

    progress.phase("model bench (load, prefill, decode, TTFT, bandwidth)");
    let bench = model_bench(opts, &params)?;

    progress.phase("loading the pipeline's model");
    let (mut agent, mut rig, load_ms, prefix_ms) = start_pipeline(&params)?;
    let mut speaker = match &opts.speech {
        Some(clip) => Some(Speaker::start(&mut agent, rig.input(), clip)?),
        None => None,
    };

    progress.phase("warm-up (sensors flowing, no command)");
    rig.run_for(Duration::from_secs(1), |_, _| {});
    let _ = agent.report();

    let stress = Stress::start(opts.stress_threads)?;
    progress.phase("run");
    let (mut tally, wall, cpu) = drive(opts, (&mut agent, &mut speaker), &mut rig, &mut progress);
    drop(stress);
    progress.phase("drain (last command's plan and motion)");
    drain(&mut agent, &mut rig, &mut tally, &mut speaker);
    let metrics = agent.report().metrics;
    agent
        .stop(Duration::from_secs(5))
        .context("stopping the agent")?;
    progress.finish_line();

    let figures = RunFigures {
        load_ms,
        prefix_ms,
        wall,
        cpu,
        tally,
        metrics,
        speech: speaker.as_ref().and_then(Speaker::latency),
    };
    Ok(report(opts, &bench, figures))
}

/// Loads the pipeline's model, starts the agent and wires it to a simulated robot;
/// also returns the model's load and prompt-prefix times (ms).
fn start_pipeline(params: &AgentParams) -> anyhow::Result<(Agent, SimLoop, f64, f64)> {
    let llm = crate::model_loader::load_llm(params)?;
    let (load_ms, prefix_ms) = (ms(llm.load_time), ms(llm.prefix_time));
    let interpreter = Interpreter::new(
        Some(Box::new(llm)),
        params.agent.limits.clone(),
        params.miss_policy,
    )
    .with_motion_trust(params.motion_trust);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
    let (agent, input, outputs) =
        Agent::start(params.agent.clone(), interpreter, clock).context("starting the agent")?;
    let sim = Sim::new(
        World::default_room(),
        DriveConfig::default(),
        LidarConfig::default(),
    )
    .context("building the simulated robot")?;
    let rig = SimLoop::new(sim, input, outputs, SimRates::default());
    Ok((agent, rig, load_ms, prefix_ms))
}

/// The measured run: sends the command cycle at its period for the run's duration,
/// collecting reports once a second; returns the tally, the wall time and cpu per thread.
fn drive(
    opts: &ProfileOptions,
    (agent, speaker): (&mut Agent, &mut Option<Speaker>),
    rig: &mut SimLoop,
    progress: &mut Progress,
) -> (Tally, Duration, Vec<ThreadCpu>) {
    let mut tally = Tally::default();
    let cpu_before = CpuSnapshot::take();
    let start = Instant::now();
    let (mut next_command, mut next_collect) = (start, start);
    while start.elapsed() < opts.duration {
        let now = Instant::now();
        if now >= next_collect {
            // Recorders keep only a couple of unpublished seconds: collect once a second.
            let _ = agent.report();
            progress.tick(start.elapsed(), opts.duration);
            next_collect += Duration::from_secs(1);
        }
        if let (true, Some(s)) = (now >= next_command, speaker.as_mut()) {
            s.speak();
            tally.sent += 1;
            next_command += opts.command_period;
        } else if now >= next_command {
            let text = &opts.commands[tally.sent as usize % opts.commands.len()];
            match rig.input().command(text) {
                CommandAccepted::Queued => tally.queued += 1,
                CommandAccepted::Rejected => tally.rejected += 1,
                CommandAccepted::ReflexStop | CommandAccepted::TooLong => {}
            }
            tally.sent += 1;
            next_command += opts.command_period;
        }
        run_for(rig, Duration::from_millis(5), &mut tally, speaker);
    }
    let wall = start.elapsed();
    let cpu = CpuSnapshot::take().since(&cpu_before, wall);
    (tally, wall, cpu)
}

/// Lets the last command finish (3 s) so its latencies are in, without sending more.
fn drain(agent: &mut Agent, rig: &mut SimLoop, tally: &mut Tally, speaker: &mut Option<Speaker>) {
    let drain_end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < drain_end {
        let _ = agent.report();
        for _ in 0..20 {
            run_for(rig, Duration::from_millis(25), tally, speaker);
        }
    }
}

/// Runs the robot for `d`, feeding the speaker's due audio first; every output goes to
/// the tally and the speaker.
fn run_for(rig: &mut SimLoop, d: Duration, tally: &mut Tally, speaker: &mut Option<Speaker>) {
    if let Some(s) = speaker.as_mut() {
        s.pump();
    }
    rig.run_for(d, |o, _| {
        tally.output(o);
        if let Some(s) = speaker.as_mut() {
            s.output(o);
        }
    });
}

/// What the pipeline run measured, beside the model bench.
struct RunFigures {
    /// Pipeline model load time (ms).
    load_ms: f64,
    /// Pipeline prompt-prefix time (ms).
    prefix_ms: f64,
    /// Wall time of the measured run.
    wall: Duration,
    /// Cpu per thread during the measured run.
    cpu: Vec<ThreadCpu>,
    /// What the outputs said.
    tally: Tally,
    /// The agent's metrics after the drain.
    metrics: MetricsReport,
    /// Speech end -> first cmd_vel, when commands were spoken.
    speech: Option<Latency>,
}

/// Assembles the report from the options, the model bench and the run's figures
/// (probes the machine and reads peak RSS while doing so).
fn report(opts: &ProfileOptions, bench: &BenchReport, f: RunFigures) -> ProfileReport {
    let RunFigures {
        load_ms,
        prefix_ms,
        wall,
        cpu,
        tally,
        metrics,
        speech,
    } = f;
    let created_unix_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    ProfileReport {
        schema: SCHEMA.into(),
        bora_version: env!("CARGO_PKG_VERSION").into(),
        created_unix_s,
        workload: Workload {
            mode: "in_process".into(),
            model_name: opts.model.clone(),
            device: opts.device.clone(),
            threads: opts.threads,
            duration_s: wall.as_secs_f64(),
            command_period_s: opts.command_period.as_secs_f64(),
            stress_threads: opts.stress_threads,
            command_set: opts.commands.clone(),
            commands_sent: tally.sent,
            commands_queued: tally.queued,
            commands_rejected: tally.rejected,
            plan_reports: tally.plans,
        },
        machine: super::machine::probe(bench.bandwidth_gb_s),
        model: ModelFigures {
            architecture: bench.architecture.clone(),
            file_bytes: bench.file_bytes,
            load_ms,
            prefix_ms,
            ttft_cold_ms: bench.ttft_cold_ms,
            ttft_cached_ms: bench.ttft_cached_ms,
            prefill_tok_s: bench.prefill_tok_s,
            decode_tok_s: bench.decode_tok_s,
            decode_bandwidth_fraction: bench.decode_bandwidth_fraction,
        },
        latencies: latencies(&metrics).into_iter().chain(speech).collect(),
        budget: BudgetFigures {
            fallback_plans: metrics.counter("fallback_plans").unwrap_or(0),
            // The budget outcome of a generation cut short by a newer command can read
            // "met"; the agent's counter is the authority.
            preempted: metrics.counter("generations_preempted").unwrap_or(0),
            ..tally.budget
        },
        queues: queues(&metrics),
        counters: counters(&metrics),
        threads: cpu,
        peak_rss_bytes: bench::peak_rss_bytes(),
    }
}

/// The pipeline's queues as report rows.
fn queues(metrics: &MetricsReport) -> Vec<QueueFigures> {
    metrics
        .queues
        .iter()
        .map(|q| QueueFigures {
            name: q.name.clone(),
            capacity: q.capacity,
            pushes: q.pushes,
            drops: q.drops,
            rejects: q.rejects,
        })
        .collect()
}

/// The pipeline's counters as report rows.
fn counters(metrics: &MetricsReport) -> Vec<Counter> {
    metrics
        .counters
        .iter()
        .map(|c| Counter {
            name: c.name.clone(),
            value: c.value,
        })
        .collect()
}

fn params(opts: &ProfileOptions) -> anyhow::Result<AgentParams> {
    let threads = i64::try_from(opts.threads).context("--threads is too large")?;
    let values = [
        ("model", ParamValue::Str(opts.model.clone())),
        ("device", ParamValue::Str(opts.device.clone())),
        ("threads", ParamValue::Int(threads)),
    ];
    Ok(AgentParams::from_values(
        values.iter().map(|(n, v)| (*n, v)),
    )?)
}

fn model_bench(opts: &ProfileOptions, params: &AgentParams) -> anyhow::Result<BenchReport> {
    let threads = (opts.threads > 0).then_some(opts.threads);
    let (model, tokenizer) =
        crate::model_loader::load_model_only(&opts.model, &opts.device, params.context, threads)?;
    let bench_opts = BenchOptions {
        prefill_tokens: 64,
        decode_tokens: 32,
        ..Default::default()
    };
    bench::run(&model, &tokenizer, &bench_opts)
        .with_context(|| format!("benchmarking the model {}", opts.model))
}

/// What the run's outputs said.
#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    queued: u64,
    rejected: u64,
    plans: u64,
    budget: BudgetFigures,
}

impl Tally {
    fn output(&mut self, out: &AgentOutput) {
        let AgentOutput::Plan(json) = out else {
            return;
        };
        self.plans += 1;
        let Ok(report) = serde_json::from_str::<PlanReport>(json) else {
            return;
        };
        let b = &mut self.budget;
        match report.budget {
            Some(BudgetOutcome::Met) => {
                b.checks += 1;
                b.met += 1;
            }
            Some(BudgetOutcome::Missed { limit, .. }) => {
                b.checks += 1;
                match limit {
                    Limit::FirstToken => b.missed_first_token += 1,
                    Limit::TokenGap => b.missed_token_gap += 1,
                    Limit::Total => b.missed_total += 1,
                }
            }
            Some(BudgetOutcome::Preempted) => {
                b.checks += 1;
                b.preempted += 1;
            }
            Some(BudgetOutcome::NotRun) | None => {}
        }
    }
}

/// The pipeline's distributions under stable names, in ms.
fn latencies(m: &MetricsReport) -> Vec<Latency> {
    m.latencies
        .iter()
        .map(|s| {
            let (name, what) = match (s.quantity, s.label.as_str()) {
                (Quantity::TimeToFirstToken, _) => (
                    "ttft".to_owned(),
                    "time to first token in the pipeline (prompt prefix cached)".to_owned(),
                ),
                (Quantity::TokenGap, _) => (
                    "token_gap".to_owned(),
                    "gap between two generated tokens".to_owned(),
                ),
                (Quantity::CommandToAction, "command_to_plan") => (
                    "command_to_plan".to_owned(),
                    "voice command in to validated plan out".to_owned(),
                ),
                (Quantity::CommandToAction, "command_to_first_cmd_vel") => (
                    "command_to_first_cmd_vel".to_owned(),
                    "voice command in to its first velocity command".to_owned(),
                ),
                (Quantity::CommandToAction, l) => (l.to_owned(), format!("command to {l}")),
                (Quantity::LoopJitter, l) => (
                    format!("{l}_jitter"),
                    format!("how late the {l} loop woke after its deadline"),
                ),
                (Quantity::StageStep, l) => {
                    (format!("step.{l}"), format!("time one {l} stage step took"))
                }
                (Quantity::QueueTransit, l) => (
                    format!("transit.{l}"),
                    format!("time an item spent in the {l} queue"),
                ),
            };
            Latency {
                name,
                what,
                count: s.count,
                p50_ms: s.p50_us / 1e3,
                p90_ms: s.p90_us / 1e3,
                p99_ms: s.p99_us / 1e3,
                p999_ms: s.p999_us / 1e3,
                max_ms: s.max_us / 1e3,
            }
        })
        .collect()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
