//! `bora`: the on-device agent runtime's command-line entry point.
//!
//! Each subcommand lives in its own module under `cli/`; this file only parses the
//! command line, installs the tracing subscriber (the only place that does) and
//! dispatches.

mod cli;

use clap::{Parser, Subcommand};

/// bora: an on-device agent runtime for robots. A small quantized language model turns
/// spoken commands into validated robot actions under a per-token latency budget.
#[derive(Parser, Debug)]
#[command(name = "bora", version, about, long_about = None)]
struct Cli {
    /// Write a Chrome/Perfetto trace of this run to FILE (open it in ui.perfetto.dev).
    #[arg(long, global = true, value_name = "FILE")]
    trace: Option<std::path::PathBuf>,
    /// Log filter, as in RUST_LOG (e.g. `info`, `bora_rt=debug`).
    #[arg(long, global = true, default_value = "warn", value_name = "FILTER")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    // Subcommands: one variant each, implemented in cli/<name>.rs.
    /// Print the token ids of a text (as llama.cpp's llama-tokenize --no-bos).
    Tokenize(cli::tokenize::TokenizeArgs),
    /// Stream a model's continuation of a raw prompt to stdout.
    Generate(cli::generate::GenerateArgs),
    /// Measure prefill/decode tokens/s, time to first token, peak RSS and bandwidth use.
    Bench(cli::bench::BenchArgs),
    /// Run the agent as a ROS 2 node: voice_command in, cmd_vel and agent/plan out.
    Agent(cli::agent::AgentArgs),
    /// Interpret one command offline and print the plan, its source and latencies.
    Intent(cli::intent::IntentArgs),
    /// Measure intent accuracy on a benchmark file (model alone, parser alone, final).
    Eval(cli::eval::EvalArgs),
    /// Transcribe a WAV file (or a live ALSA microphone: --mic) with Whisper, then interpret it as `intent` does.
    Listen(cli::listen::ListenArgs),
    /// Publish a voice command (a speech recogniser stand-in); --wait prints the plan.
    Say(cli::say::SayArgs),
    /// Profile this machine: model speed and every pipeline latency (compare: regressions).
    Profile(cli::profile::ProfileArgs),
    /// Simulated differential-drive robot (ROS 2 node): follows cmd_vel, publishes odom and scan.
    Sim(cli::sim::SimArgs),
    /// Fine-tune the intent model on a JSON Lines file: writes a LoRA adapter (PEFT layout).
    #[command(long_about = cli::tune::LONG_ABOUT)]
    Tune(cli::tune::TuneArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _trace_guard = cli::tracing_setup::install(&cli.log, cli.trace.as_deref())?;
    match cli.command {
        // Dispatch: one arm per subcommand.
        Command::Tokenize(args) => cli::tokenize::run(args),
        Command::Generate(args) => cli::generate::run(args),
        Command::Bench(args) => cli::bench::run(args),
        Command::Sim(args) => cli::sim::run(args),
        Command::Agent(args) => cli::agent::run(args),
        Command::Intent(args) => cli::intent::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Listen(args) => cli::listen::run(args),
        Command::Say(args) => cli::say::run(args),
        Command::Profile(args) => cli::profile::run(args),
        Command::Tune(args) => cli::tune::run(args),
    }
}
