//! `bora profile`: run the profiling workload on this machine and report (table on
//! stdout, `--json`, `--plot`, and the global `--trace`); `bora profile compare A B`
//! flags regressions (exit code 3 when any is flagged).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use bora_nodes::profile::compare::{self, Thresholds};
use bora_nodes::profile::{self as prof, ProfileOptions};

use super::common::{DeviceArg, ModelArg, ThreadsArg};

/// Exit code of `bora profile compare` when a regression is flagged.
pub const EXIT_REGRESSION: i32 = 3;

/// Arguments of `bora profile`.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ProfileArgs {
    #[command(subcommand)]
    command: Option<ProfileCommand>,
    #[command(flatten)]
    model: ModelArg,
    #[command(flatten)]
    device: DeviceArg,
    #[command(flatten)]
    threads: ThreadsArg,
    /// Commands to send, one per line (blank lines and `#` comments skipped), cycled
    /// [default: four small turns and moves].
    #[arg(long, value_name = "FILE")]
    commands: Option<PathBuf>,
    /// Measured run length in seconds (model bench, load and warm-up come on top).
    #[arg(long, default_value_t = 30.0, value_name = "S")]
    duration: f64,
    /// Seconds between two commands.
    #[arg(long, default_value_t = 2.5, value_name = "S")]
    command_period: f64,
    /// Busy threads competing for the CPU during the run (budget behaviour under load).
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = bora_nodes::model_loader::parse_threads)]
    stress_cpu: usize,
    /// Write the report as JSON (schema bora.profile/1, nodes/schema/profile.schema.json).
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
    /// Write latency tails per quantity as an SVG.
    #[arg(long, value_name = "OUT.svg")]
    plot: Option<PathBuf>,
    /// No progress lines on stderr.
    #[arg(long)]
    quiet: bool,
    /// Speak every command instead: play this WAV (e.g. an espeak-ng clip) into the
    /// agent's hearing stage (Whisper tiny.en) each command period; adds
    /// speech_end_to_first_cmd_vel and speech_end_to_transcript to the report.
    #[arg(long, value_name = "FILE.wav")]
    speech: Option<PathBuf>,
}

#[derive(clap::Subcommand, Debug)]
enum ProfileCommand {
    /// Print two reports side by side with deltas; exit 3 when B regresses past the threshold.
    Compare(CompareArgs),
}

/// Arguments of `bora profile compare`.
#[derive(clap::Args, Debug)]
struct CompareArgs {
    /// The baseline report (`bora profile --json`).
    a: PathBuf,
    /// The candidate report.
    b: PathBuf,
    /// Percent by which B may be worse than A before it is flagged (p99s, tokens/s).
    #[arg(long, default_value_t = 10.0, value_name = "PERCENT")]
    threshold: f64,
    /// Times must also be worse by more than this many ms to be flagged.
    #[arg(long, default_value_t = 0.5, value_name = "MS")]
    min_ms: f64,
}

/// Runs `bora profile` or `bora profile compare`.
pub fn run(args: ProfileArgs) -> anyhow::Result<()> {
    if let Some(ProfileCommand::Compare(c)) = args.command {
        return run_compare(&c);
    }
    anyhow::ensure!(
        args.duration.is_finite() && args.duration > 0.0,
        "--duration must be a positive number of seconds, got {}",
        args.duration
    );
    anyhow::ensure!(
        args.command_period.is_finite() && args.command_period >= 0.05,
        "--command-period must be at least 0.05 s, got {}",
        args.command_period
    );
    let commands = match &args.commands {
        Some(path) => read_commands(path)?,
        None => prof::DEFAULT_COMMANDS
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    };
    let opts = ProfileOptions {
        model: args.model.model.clone(),
        device: args.device.device.clone(),
        threads: args.threads.threads,
        commands,
        duration: Duration::from_secs_f64(args.duration),
        command_period: Duration::from_secs_f64(args.command_period),
        stress_threads: args.stress_cpu,
        quiet: args.quiet,
        speech: args.speech.clone(),
    };
    // Fail on an unwritable output before minutes of measuring, not after.
    for path in [&args.json, &args.plot].into_iter().flatten() {
        std::fs::File::create(path)
            .with_context(|| format!("cannot create output file {}", path.display()))?;
    }
    let report = prof::run(&opts)?;
    print!("{}", prof::table::render(&report));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = &args.plot {
        prof::plot::write(&report, path)?;
    }
    Ok(())
}

fn read_commands(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read --commands file {}", path.display()))?;
    let commands: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(
        !commands.is_empty(),
        "--commands file {} has no command (one per line; # starts a comment)",
        path.display()
    );
    Ok(commands)
}

fn run_compare(c: &CompareArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        c.threshold.is_finite() && c.threshold >= 0.0,
        "--threshold must be a percentage >= 0, got {}",
        c.threshold
    );
    anyhow::ensure!(
        c.min_ms.is_finite() && c.min_ms >= 0.0,
        "--min-ms must be >= 0, got {}",
        c.min_ms
    );
    let a = compare::load(&c.a)?;
    let b = compare::load(&c.b)?;
    let t = Thresholds {
        percent: c.threshold,
        min_ms: c.min_ms,
    };
    let rows = compare::compare(&a, &b, t);
    print!(
        "{}",
        compare::render(
            &rows,
            &c.a.display().to_string(),
            &c.b.display().to_string(),
            t
        )
    );
    if rows.iter().any(|r| r.regression) {
        std::process::exit(EXIT_REGRESSION);
    }
    Ok(())
}
