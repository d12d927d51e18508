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
use bora_nodes::params::AdapterChoice;
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
    /// Record the model-alone accuracy in the adapter directory (bora_accuracy.json,
    /// tied to the adapter's and the model's SHA-256), where the agent reads it as the
    /// adapter's declared held-out accuracy (see safety.model_motion_min_accuracy).
    /// Needs --adapter DIR; refused when any output was invalid or the model alone
    /// proposed motion for a non-command. Run it on the held-out split only.
    #[arg(long)]
    declare: bool,
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
    // The adapter directory to declare, checked before the run.
    let declare_in = if args.declare {
        if args.limit.is_some() {
            anyhow::bail!("--declare measures the whole file: drop --limit");
        }
        let AdapterChoice::Dir(dir) = AdapterChoice::parse(&args.stage.adapter) else {
            anyhow::bail!(
                "--declare needs --adapter DIR: the adapter directory to declare (not auto or none)"
            );
        };
        // An old declaration would be checked (and may be stale) while the model loads.
        let old = dir.join(bora_tune::declared::ACCURACY_FILE);
        if old.exists() {
            std::fs::remove_file(&old)
                .with_context(|| format!("cannot replace {}", old.display()))?;
            eprintln!("[eval] removed the old declaration {}", old.display());
        }
        Some(dir)
    } else {
        None
    };
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
    if let Some(dir) = declare_in {
        declare(&args, &dir, &report)?;
    }
    Ok(())
}

/// Writes the adapter's declaration from `report` (see `--declare`).
fn declare(
    args: &IntentsArgs,
    dir: &std::path::Path,
    report: &eval::IntentReport,
) -> anyhow::Result<()> {
    use bora_tune::declared::{adapter_sha256, file_sha256, Declaration, SCHEMA};
    let moved = report.non_commands_model_moved();
    let t = &report.tally;
    if t.model_invalid > 0 || moved > 0 {
        anyhow::bail!(
            "not declared: {} invalid model outputs and {moved} non-commands the model alone \
             would move the robot for; an adapter is declared only with none of either",
            t.model_invalid
        );
    }
    let model = bora_models::registry::resolve_model(&args.stage.model)?;
    let d = Declaration {
        schema: SCHEMA.into(),
        heldout_accuracy: t.overall.model.fraction(),
        cases: t.overall.model.total,
        invalid_outputs: t.model_invalid,
        non_commands_model_moved: moved,
        benchmark: args.file.display().to_string(),
        benchmark_sha256: file_sha256(&args.file)?,
        adapter_sha256: adapter_sha256(dir)?,
        model_file: model
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        model_sha256: file_sha256(&model)?,
        cpu: report.cpu.clone(),
    };
    d.write(dir)?;
    eprintln!(
        "[eval] declared held-out accuracy {:.3} in {}",
        d.heldout_accuracy,
        dir.join(bora_tune::declared::ACCURACY_FILE).display()
    );
    Ok(())
}
