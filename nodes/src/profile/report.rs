//! The profile report: what `bora profile --json` writes and `bora profile compare`
//! reads. Versioned by [`SCHEMA`]; `nodes/schema/profile.schema.json` is its JSON
//! Schema and must change with it.

use serde::{Deserialize, Serialize};

/// The report format's name and version; bump the number on any incompatible change.
pub const SCHEMA: &str = "bora.profile/1";

/// The JSON Schema of [`ProfileReport`] (draft 2020-12), as shipped in the repository.
pub const JSON_SCHEMA: &str = include_str!("../../schema/profile.schema.json");

/// Everything one `bora profile` run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileReport {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The bora version that wrote the report.
    pub bora_version: String,
    /// When the run ended, seconds since the Unix epoch.
    pub created_unix_s: u64,
    /// What was run.
    pub workload: Workload,
    /// The machine it ran on.
    pub machine: Machine,
    /// Model load and raw speed (outside the pipeline).
    pub model: ModelFigures,
    /// Every latency distribution, in milliseconds.
    pub latencies: Vec<Latency>,
    /// Token budget checks during the run.
    pub budget: BudgetFigures,
    /// Queue counters at the end of the run.
    pub queues: Vec<QueueFigures>,
    /// The pipeline's named counters (fallbacks, overruns, superseded commands...).
    pub counters: Vec<Counter>,
    /// CPU time per thread of interest (the stages, the simulator loop, stress).
    pub threads: Vec<ThreadCpu>,
    /// Peak resident set size of the process, bytes (null where the OS does not say).
    pub peak_rss_bytes: Option<u64>,
}

/// The workload's parameters and what happened to its commands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// `in_process` (simulated robot in this process).
    pub mode: String,
    /// Model name or path.
    pub model_name: String,
    /// `cpu` or `cuda:N`.
    pub device: String,
    /// Model compute threads (0 = one per logical CPU).
    pub threads: usize,
    /// Measured run length, s (warm-up excluded).
    pub duration_s: f64,
    /// Time between two commands, s.
    pub command_period_s: f64,
    /// Busy threads run alongside (`--stress-cpu`).
    pub stress_threads: usize,
    /// Distinct commands in the cycle.
    pub command_set: Vec<String>,
    /// Commands handed to the agent.
    pub commands_sent: u64,
    /// Of those, queued for the language stage.
    pub commands_queued: u64,
    /// Of those, rejected by a full command queue.
    pub commands_rejected: u64,
    /// Plan reports the agent published (plans, superseded, no-motion).
    pub plan_reports: u64,
}

/// The machine: hardware and how real-time friendly the OS is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name (/proc/cpuinfo), or "unknown".
    pub cpu_model: String,
    /// Logical CPUs online.
    pub logical_cores: usize,
    /// Physical cores, where the OS tells.
    pub physical_cores: Option<usize>,
    /// Total memory, bytes.
    pub memory_bytes: Option<u64>,
    /// Read bandwidth measured in this run, GB/s.
    pub memory_bandwidth_gb_s: f64,
    /// GPUs found (nvidia-smi or the Jetson device tree); empty when none.
    pub gpus: Vec<String>,
    /// OS and kernel, e.g. "Linux 6.8.0-1-rt".
    pub os: String,
    /// Whether this process could set SCHED_FIFO on a thread.
    pub sched_fifo: bool,
    /// Why not, when it could not (errno text); null when it could.
    pub sched_fifo_error: Option<String>,
    /// CPU frequency governors in use (one entry per distinct governor).
    pub cpu_governors: Vec<String>,
    /// True when every CPU uses the `performance` governor (frequency fixed high);
    /// null when the OS exposes no cpufreq.
    pub governor_fixed: Option<bool>,
}

/// Model load time and raw speed from `bora_models::bench`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFigures {
    /// Architecture from the GGUF metadata.
    pub architecture: String,
    /// GGUF file size, bytes.
    pub file_bytes: u64,
    /// Time to load the pipeline's model (weights, tokenizer, grammar), ms.
    pub load_ms: f64,
    /// Time to compute the system prompt's cached prefix, ms.
    pub prefix_ms: f64,
    /// Time to first token from an empty cache, ms.
    pub ttft_cold_ms: f64,
    /// Time to first token with the prompt prefix cached, ms.
    pub ttft_cached_ms: f64,
    /// Prefill speed, tokens/s.
    pub prefill_tok_s: f64,
    /// Decode speed, tokens/s.
    pub decode_tok_s: f64,
    /// Fraction of the measured memory bandwidth decode reaches (0..1).
    pub decode_bandwidth_fraction: f64,
}

/// One latency distribution. Times in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Stable name, e.g. `command_to_plan`, `planner_jitter`, `transit.scan`.
    pub name: String,
    /// What it measures, in words.
    pub what: String,
    /// Samples.
    pub count: u64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// 99.9th percentile, ms.
    pub p999_ms: f64,
    /// Largest sample, ms.
    pub max_ms: f64,
}

/// Token budget outcomes over the run's interpretations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BudgetFigures {
    /// Interpretations whose model run was checked against the budget.
    pub checks: u64,
    /// Of those, every limit met.
    pub met: u64,
    /// Misses by limit.
    pub missed_first_token: u64,
    /// Misses of the token gap limit.
    pub missed_token_gap: u64,
    /// Misses of the total limit.
    pub missed_total: u64,
    /// Generations cancelled by a newer command.
    pub preempted: u64,
    /// Plans that came from the fallback parser.
    pub fallback_plans: u64,
}

/// One queue's counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueFigures {
    /// Queue name.
    pub name: String,
    /// Capacity, items.
    pub capacity: usize,
    /// Items accepted.
    pub pushes: u64,
    /// Old items dropped to make room.
    pub drops: u64,
    /// New items rejected because the queue was full.
    pub rejects: u64,
}

/// A named counter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Counter {
    /// Counter name.
    pub name: String,
    /// Its count.
    pub value: u64,
}

/// CPU time one thread used during the measured run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadCpu {
    /// Thread name (the stage's).
    pub name: String,
    /// User + system CPU time, s.
    pub cpu_s: f64,
    /// That as a percentage of one core over the run's wall time.
    pub cpu_percent: f64,
}

impl ProfileReport {
    /// The latency called `name`, if present.
    pub fn latency(&self, name: &str) -> Option<&Latency> {
        self.latencies.iter().find(|l| l.name == name)
    }
}
