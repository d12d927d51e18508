//! `bora eval intents FILE.jsonl`: how well the language stage understands what people
//! say. Each line of the file is a command with its acceptable plans; every command runs
//! through the language stage as the agent runs it, and the plans are scored three ways:
//! the model's own plan, the deterministic parser alone, and the final plan. Prints a
//! table per category, invalid model outputs, non-commands that moved, and command ->
//! plan latency; `--json OUT` writes every case too.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context;
use bora_nodes::eval;
use clap::{Args, Subcommand};

use super::intent::StageArgs;

/// Arguments of `bora eval`.
#[derive(Args, Debug)]
pub struct EvalArgs {
    #[command(subcommand)]
    what: EvalWhat,
}

#[derive(Subcommand, Debug)]
enum EvalWhat {
    /// Intent accuracy on a JSON Lines benchmark (models/data/intents/heldout.jsonl is
    /// the held-out split): model alone, parser alone, final plan; per category; latency.
    Intents(IntentsArgs),
}

/// Arguments of `bora eval intents`.
#[derive(Args, Debug)]
struct IntentsArgs {
    /// The benchmark: one `{"text": ..., "plans": [[steps...], ...], "category": ...}`
    /// per line (format: models/data/intents/README.md).
    file: PathBuf,
    /// Write the report, with every case, as JSON (schema bora.eval.intents/1) to OUT.
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
    /// Only the first N cases (a quick look; the figures then cover only those).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// The model and its budget.
    #[command(flatten)]
    stage: StageArgs,
}

/// Runs `bora eval`.
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    match args.what {
        EvalWhat::Intents(a) => intents(a),
    }
}

fn intents(args: IntentsArgs) -> anyhow::Result<()> {
    let mut interpreter = args.stage.interpreter()?;
    let mut cases = eval::dataset::load(&args.file, interpreter.limits())?;
    if let Some(n) = args.limit {
        cases.truncate(n.max(1));
    }
    let file = args.file.display().to_string();
    let cpu = bora_nodes::profile::machine::cpu_name();
    let started = std::time::Instant::now();
    // A live line on a terminal; a line per 25 commands in a log.
    let live = std::io::stderr().is_terminal();
    let mut progress = |done: usize, total: usize| {
        if !live && !done.is_multiple_of(25) && done != total {
            return;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let eta = elapsed / done as f64 * (total - done) as f64;
        let line = format!("[eval] {done}/{total} commands, {elapsed:.0} s, about {eta:.0} s left");
        super::common::progress_line(live, &line, done == total);
    };
    let report = eval::run(&file, cpu, &cases, &mut interpreter, &mut progress);
    print!("{}", eval::render(&report));
    if let Some(out) = &args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(out, text + "\n")
            .with_context(|| format!("cannot write the report to {}", out.display()))?;
        eprintln!("[eval] report written to {}", out.display());
    }
    Ok(())
}
