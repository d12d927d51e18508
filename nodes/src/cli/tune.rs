//! `bora tune`: on-device LoRA fine-tuning of the intent model. Reads a JSON Lines intent
//! file (models/data/intents/README.md), turns each line into the example the language
//! stage sees with an adapter (bora_tune::prompt_for: a header line, then
//! `Input: {text}\nOutput: `, continued by the first plan's compact JSON), trains
//! a LoRA adapter with bora-tune one example per step, and writes it in PEFT's layout with
//! a `tune.json` report beside it. Progress and held-out loss go to stderr.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use bora_agent::{Limits, PlanForm};
use bora_models::registry::{resolve_model, DEFAULT_MODEL};
use bora_models::ModelTokenizer;
use bora_nodes::eval::dataset;
use bora_tune::{
    BaseModel, Decay, LoraConfig, Schedule, SpikeWatch, Target, TokenizedExample, TrainConfig,
    Trainer,
};
use clap::Args;

use super::tune_data::{examples, refuse_heldout, shuffle, tokenize};
use serde::Serialize;

/// Training losses averaged for the progress line and the first/last loss of the report.
const LOSS_WINDOW: usize = 20;
/// Steps between progress lines when stderr is not a terminal.
const LOG_EVERY: usize = 10;

/// What `bora tune --help` says above the options: the prompt, the data splits, the time.
pub const LONG_ABOUT: &str =
    "Fine-tune the intent model on this machine: trains a LoRA adapter on a JSON Lines \
intent file, --batch examples per AdamW step. The defaults are the recipe of the adapter \
bora ships (rank 16, alpha 32 on q_proj, k_proj, v_proj and o_proj, batch 4, peak lr \
1.5e-3 with cosine decay, gradient norm clipped at 1, seed 15). Each line {\"text\", \
\"plans\", \"short\", \"category\"} becomes the prompt the agent uses with an adapter \
(the line \"Robot commands and their JSON plans.\", then \
\"Input: {text}\\nOutput: \") and the completion: in the short form (--form short, the \
default) the line's \"short\" plan, distances in the unit spoken and a repeat count, e.g. \
{\"plan\":[{\"move_ft\":3},{\"turn_deg\":-90}],\"times\":4}; in the full form its first \
plan as the agent's JSON. {\"plan\":[]} is the model's decline. Only the completion's \
tokens are scored. Writes adapter_model.safetensors and adapter_config.json (PEFT's \
layout), bora_form.json (the form) and tune.json (the run's report) into --out.\n\n\
The training data is models/data/intents/train.jsonl; the held-out loss is measured on \
models/data/intents/dev.jsonl. models/data/intents/heldout.jsonl is the test split: it is \
refused, it must never be trained on or used for choices.\n\n\
Time on a 2-core CPU, the defaults: the default SmolLM2-135M loads in a few seconds, \
then trains about 140 tokens/s on an idle Intel Xeon VM with AVX-512 (1.2 s per step of \
4; one epoch over the 6000 lines of train.jsonl about 29 minutes) and about 85 tokens/s \
on an AVX2 AMD EPYC VM (about 46 minutes; --limit 3000 halves it). The held-out loss costs \
0.1-0.15 s per line each time (dev.jsonl, 300 lines: 30-46 s at the start and after \
every epoch).\n\n\
The learning rate warms up linearly, then follows a cosine down to zero at the run's last \
step (--lr-decay cosine), and each step's gradient is clipped to norm 1 (--clip). At a \
constant rate (--lr-decay constant) a second epoch made the adapter worse on dev.jsonl \
(model alone 85.3 % -> 74.3 %) and a 6000-line run diverged near its end; the run \
warns when the loss climbs back (its 20-step mean 4x the lowest, above 0.5 nats). \
--limit and --max-steps make a short run.";

/// Arguments of `bora tune`.
#[derive(Args, Debug)]
#[command(
    after_long_help = "Example:\n  bora tune --data models/data/intents/train.jsonl \
--heldout models/data/intents/dev.jsonl --out adapters/intents --epochs 1"
)]
pub struct TuneArgs {
    /// Training data: JSON Lines, one {"text", "plans", "category"} per line
    /// (models/data/intents/train.jsonl).
    #[arg(long, value_name = "FILE.jsonl")]
    data: PathBuf,
    /// Data to measure the held-out loss on, at the start and after every epoch
    /// (models/data/intents/dev.jsonl; never heldout.jsonl).
    #[arg(long, value_name = "FILE.jsonl")]
    heldout: Option<PathBuf>,
    /// Model name in the cache or a GGUF path (llama architecture only).
    #[arg(long, default_value = DEFAULT_MODEL, value_name = "NAME|PATH")]
    model: String,
    /// Directory the adapter and tune.json are written to (created if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Passes over the training data; with more than one, each epoch but the last is
    /// also written to --out/epoch-N.
    #[arg(long, default_value_t = 1, value_name = "N")]
    epochs: usize,
    /// Stop after N optimiser steps (--batch examples per step), even mid-epoch.
    #[arg(long, value_name = "N")]
    max_steps: Option<usize>,
    /// Examples per optimiser step, packed into one forward pass (more rows per product:
    /// faster per example on a CPU). The loss is the mean over the batch's plan tokens.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    batch: u16,
    /// AdamW learning rate: the peak, after --warmup.
    #[arg(long, default_value_t = 1.5e-3, value_name = "F")]
    lr: f64,
    /// How the learning rate moves after warm-up: `constant`, or `cosine` (down to zero at
    /// the last step of the run, --epochs and --max-steps included).
    #[arg(long, default_value = "cosine", value_name = "constant|cosine", value_parser = parse_decay)]
    lr_decay: Decay,
    /// Steps of linear warm-up to --lr [default: 2 % of the run's steps, at most 30].
    #[arg(long, value_name = "N")]
    warmup: Option<usize>,
    /// Clip each step's gradient to this global L2 norm (0: no clipping).
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    clip: f64,
    /// LoRA rank.
    #[arg(long, default_value_t = 16, value_name = "R")]
    rank: usize,
    /// Projections to adapt in every layer, comma-separated PEFT module names.
    #[arg(long, default_value = "q_proj,k_proj,v_proj,o_proj", value_delimiter = ',', value_name = "LIST",
          value_parser = parse_target)]
    targets: Vec<Target>,
    /// LoRA alpha (the update is scaled by alpha / rank).
    #[arg(long, default_value_t = 32.0, value_name = "A")]
    alpha: f64,
    /// Seed of the adapter's initial A and of the per-epoch shuffle.
    #[arg(long, default_value_t = 15, value_name = "S")]
    seed: u64,
    /// Train on the first N lines of --data only (before shuffling).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Also write the report (tune.json) to REPORT.
    #[arg(long, value_name = "REPORT")]
    json: Option<PathBuf>,
    /// The plan form to train the model to write: `short` (distances in the unit spoken,
    /// a repeat count; a line's "short" key, else its first plan in metres) or `full`
    /// (the plan's own JSON). Recorded beside the adapter (bora_form.json).
    #[arg(long, default_value = "short", value_name = "short|full", value_parser = parse_form)]
    form: PlanForm,
}

/// A `--lr-decay` value.
fn parse_decay(name: &str) -> Result<Decay, String> {
    name.parse().map_err(|e: bora_tune::Error| e.to_string())
}

/// A `--form` value.
fn parse_form(name: &str) -> Result<PlanForm, String> {
    name.parse()
        .map_err(|e: bora_agent::AgentError| e.to_string())
}

/// A `--targets` entry: a PEFT module name bora can adapt.
fn parse_target(name: &str) -> Result<Target, String> {
    Target::from_module_name(name.trim()).ok_or_else(|| {
        let known: Vec<&str> = Target::ALL.iter().map(|t| t.module_name()).collect();
        format!(
            "unknown projection {name:?}; bora adapts {}",
            known.join(", ")
        )
    })
}

/// The report written to `--out/tune.json` (and `--json`).
#[derive(Debug, Serialize)]
struct Report {
    schema: &'static str,
    /// The command line, argument by argument.
    command_line: Vec<String>,
    model: String,
    model_path: String,
    seed: u64,
    data: DataFile,
    heldout: Option<DataFile>,
    /// Training examples used (after --limit).
    examples: usize,
    epochs: usize,
    max_steps: Option<usize>,
    /// Examples per optimiser step.
    batch: usize,
    /// Peak learning rate.
    lr: f64,
    lr_decay: &'static str,
    warmup: usize,
    /// Gradient clipping norm (0: none).
    clip: f64,
    /// The first loss spike (see `SpikeWatch`), if any.
    spike: Option<SpikeReport>,
    rank: usize,
    alpha: f64,
    targets: Vec<&'static str>,
    trainable_parameters: usize,
    steps: usize,
    /// Training time (model loading and held-out evaluation excluded).
    seconds: f64,
    /// Tokens (prompt and completion) passed through the model in training steps.
    tokens: usize,
    tokens_per_s: f64,
    seconds_per_step: f64,
    /// Steps averaged into first_train_loss and last_train_loss: 20, or a quarter of
    /// the steps in a shorter run.
    train_loss_window: usize,
    /// Mean loss (nats per completion token) of the first `train_loss_window` steps.
    first_train_loss: f32,
    /// Mean loss of the last `train_loss_window` steps.
    last_train_loss: f32,
    /// Held-out mean loss: epoch 0 is before training, then after each (partial) epoch.
    heldout_loss: Vec<HeldoutLoss>,
    adapter_dir: String,
    cpu: String,
}

#[derive(Debug, Serialize)]
struct DataFile {
    file: String,
    lines: usize,
}

#[derive(Debug, Serialize)]
struct SpikeReport {
    step: usize,
    best: f32,
    now: f32,
}

#[derive(Debug, Serialize)]
struct HeldoutLoss {
    epoch: usize,
    step: usize,
    loss: f32,
}

/// Runs `bora tune`.
pub fn run(args: TuneArgs) -> anyhow::Result<()> {
    refuse_heldout("--data", &args.data)?;
    if let Some(h) = &args.heldout {
        refuse_heldout("--heldout", h)?;
    }
    if args.epochs == 0 {
        anyhow::bail!("--epochs 0: give at least 1");
    }
    if !(args.clip.is_finite() && args.clip >= 0.0) {
        anyhow::bail!(
            "--clip {}: give a positive norm (1 is common), or 0 for none",
            args.clip
        );
    }
    if args.max_steps == Some(0) {
        anyhow::bail!("--max-steps 0: give at least 1, or leave it out to run every epoch");
    }
    let limits = Limits::default();
    let mut cases = dataset::load(&args.data, &limits)?;
    let data_lines = cases.len();
    if let Some(n) = args.limit {
        if n == 0 {
            anyhow::bail!("--limit 0: give at least 1 line");
        }
        cases.truncate(n);
    }
    let heldout_cases = match &args.heldout {
        Some(h) => Some(dataset::load(h, &limits)?),
        None => None,
    };
    let train_examples = examples(&args.data, &cases, args.form)?;
    let heldout_examples = match (&args.heldout, &heldout_cases) {
        (Some(h), Some(c)) => Some(examples(h, c, args.form)?),
        _ => None,
    };

    std::fs::create_dir_all(&args.out).with_context(|| {
        format!(
            "cannot create the output directory {} (give --out a writable path)",
            args.out.display()
        )
    })?;

    let model_path = resolve_model(&args.model)?;
    eprintln!(
        "[tune] loading {} (dequantizing to f32)",
        model_path.display()
    );
    let base = match BaseModel::load(&model_path, &candle_core::Device::Cpu) {
        Ok(b) => b,
        Err(e @ bora_tune::Error::UnsupportedArchitecture { .. }) => {
            return Err(anyhow::Error::new(e).context(format!(
                "cannot fine-tune {}: bora tune trains llama-architecture models only; \
                 use --model {DEFAULT_MODEL} (the default)",
                args.model
            )))
        }
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("cannot load the model {}", model_path.display())))
        }
    };
    let tok = ModelTokenizer::from_gguf_file(&model_path)
        .with_context(|| format!("cannot read the tokenizer of {}", model_path.display()))?;
    let train = tokenize(&tok, &args.data, &cases, &train_examples)?;
    let heldout = match (&args.heldout, &heldout_cases, &heldout_examples) {
        (Some(h), Some(c), Some(e)) => Some(tokenize(&tok, h, c, e)?),
        _ => None,
    };

    let config = TrainConfig {
        lora: LoraConfig {
            rank: args.rank,
            alpha: args.alpha,
            seed: args.seed,
            targets: args.targets.clone(),
        },
        lr: args.lr,
        epochs: args.epochs,
        max_grad_norm: (args.clip > 0.0).then_some(args.clip),
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(&base, &config)?;
    let batch = usize::from(args.batch);
    let per_epoch = train.len().div_ceil(batch);
    let total = match args.max_steps {
        Some(m) => m.min(per_epoch * args.epochs),
        None => per_epoch * args.epochs,
    };
    let schedule = Schedule {
        peak: args.lr,
        warmup: args.warmup.unwrap_or((total / 50).min(30)),
        decay: args.lr_decay,
        total,
    };
    let mut spikes = SpikeWatch::default();
    let mut spike = None;
    eprintln!(
        "[tune] {} examples from {} ({} lines), {} held-out, {} epoch(s), {total} steps of \
         {batch}, {} trainable parameters (rank {}, alpha {})",
        train.len(),
        args.data.display(),
        data_lines,
        heldout.as_ref().map_or(0, Vec::len),
        args.epochs,
        trainer.adapter().parameter_count(),
        args.rank,
        args.alpha
    );

    let mut heldout_loss = Vec::new();
    let mut eval_heldout = |trainer: &Trainer, epoch: usize| -> anyhow::Result<()> {
        if let Some(h) = &heldout {
            let t = Instant::now();
            let loss = trainer.evaluate(h)?;
            let when = if epoch == 0 {
                "before training".to_owned()
            } else {
                format!("after epoch {epoch}")
            };
            eprintln!(
                "[tune] held-out loss {when}: {loss:.4} ({} lines, {:.1} s)",
                h.len(),
                t.elapsed().as_secs_f64()
            );
            heldout_loss.push(HeldoutLoss {
                epoch,
                step: trainer.steps(),
                loss,
            });
        }
        Ok(())
    };
    eval_heldout(&trainer, 0)?;

    let live = std::io::stderr().is_terminal();
    let mut losses: Vec<f32> = Vec::with_capacity(total);
    let mut tokens = 0usize;
    let mut train_secs = 0f64;
    let mut order: Vec<usize> = (0..train.len()).collect();
    'epochs: for epoch in 1..=args.epochs {
        shuffle(&mut order, args.seed, epoch as u64);
        let mut ran = false;
        for chunk in order.chunks(batch) {
            if losses.len() >= total {
                break;
            }
            let examples: Vec<TokenizedExample> = chunk.iter().map(|&i| train[i].clone()).collect();
            let lines = || {
                let l: Vec<String> = chunk.iter().map(|&i| cases[i].line.to_string()).collect();
                format!("{}:{}", args.data.display(), l.join(","))
            };
            trainer.set_lr(schedule.lr_at(losses.len() + 1));
            trainer.set_lr(schedule.lr_at(losses.len() + 1));
            let t = Instant::now();
            let loss = trainer
                .step(&examples)
                .with_context(|| format!("training step {} on {}", losses.len() + 1, lines()))?;
            train_secs += t.elapsed().as_secs_f64();
            ran = true;
            if !loss.is_finite() {
                anyhow::bail!(
                    "training diverged at step {} ({}): loss {loss}; lower --lr (now {})",
                    losses.len() + 1,
                    lines(),
                    args.lr
                );
            }
            losses.push(loss);
            if let Some(s) = spikes.observe(&losses) {
                if live {
                    eprintln!();
                }
                eprintln!(
                    "[tune] warning: the loss climbed from {:.3} to {:.3} (mean of 20 steps) \
                     by step {}: the run is diverging; stop it and lower --lr, or use \
                     --lr-decay cosine --clip 1",
                    s.best, s.now, s.step
                );
                spike = Some(SpikeReport {
                    step: s.step,
                    best: s.best,
                    now: s.now,
                });
            }
            tokens += examples.iter().map(|e| e.ids.len()).sum::<usize>();
            let step = losses.len();
            if live || step.is_multiple_of(LOG_EVERY) || step == total {
                let recent = mean(&losses[losses.len().saturating_sub(LOSS_WINDOW)..]);
                let eta = train_secs / step as f64 * (total - step) as f64;
                let line = format!(
                    "[tune] epoch {epoch} step {step}/{total} loss {recent:.4} \
                     {:.1} tokens/s {} elapsed, ETA {}",
                    tokens as f64 / train_secs.max(1e-9),
                    clock(train_secs),
                    clock(eta)
                );
                super::common::progress_line(live, &line, step == total);
            }
        }
        if ran {
            if live && losses.len() < total {
                eprintln!();
            }
            eval_heldout(&trainer, epoch)?;
            if epoch < args.epochs {
                save_checkpoint(&trainer, &base, &args, epoch)?;
            }
        }
        if losses.len() >= total {
            break 'epochs;
        }
    }

    trainer
        .adapter()
        .save(&args.out, &base, &base.name)
        .with_context(|| format!("cannot write the adapter into {}", args.out.display()))?;
    bora_tune::form::write_form(&args.out, args.form.name())?;

    let steps = losses.len();
    let window = LOSS_WINDOW.min((steps / 4).max(1));
    let report = Report {
        schema: "bora.tune/1",
        command_line: std::env::args().collect(),
        model: args.model.clone(),
        model_path: model_path.display().to_string(),
        seed: args.seed,
        data: DataFile {
            file: args.data.display().to_string(),
            lines: data_lines,
        },
        heldout: args
            .heldout
            .as_ref()
            .zip(heldout_cases.as_ref())
            .map(|(p, c)| DataFile {
                file: p.display().to_string(),
                lines: c.len(),
            }),
        examples: train.len(),
        epochs: args.epochs,
        max_steps: args.max_steps,
        batch,
        lr: args.lr,
        lr_decay: args.lr_decay.name(),
        warmup: schedule.warmup,
        clip: args.clip,
        spike,
        rank: args.rank,
        alpha: args.alpha,
        targets: trainer
            .adapter()
            .config
            .targets
            .iter()
            .map(|t| t.module_name())
            .collect(),
        trainable_parameters: trainer.adapter().parameter_count(),
        steps,
        seconds: train_secs,
        tokens,
        tokens_per_s: tokens as f64 / train_secs.max(1e-9),
        seconds_per_step: train_secs / steps.max(1) as f64,
        train_loss_window: window,
        first_train_loss: mean(&losses[..window.min(steps)]),
        last_train_loss: mean(&losses[steps.saturating_sub(window)..]),
        heldout_loss,
        adapter_dir: args.out.display().to_string(),
        cpu: bora_nodes::profile::machine::cpu_name(),
    };
    let text = serde_json::to_string_pretty(&report)? + "\n";
    let path = args.out.join("tune.json");
    std::fs::write(&path, &text)
        .with_context(|| format!("cannot write the report to {}", path.display()))?;
    if let Some(out) = &args.json {
        std::fs::write(out, &text)
            .with_context(|| format!("cannot write the report to {}", out.display()))?;
    }
    eprintln!(
        "[tune] {steps} steps in {}: loss {:.4} -> {:.4} (mean of {window} steps), {:.2} s/step, \
         {:.1} tokens/s; adapter and tune.json in {}",
        clock(train_secs),
        report.first_train_loss,
        report.last_train_loss,
        report.seconds_per_step,
        report.tokens_per_s,
        args.out.display()
    );
    Ok(())
}

/// The adapter after `epoch` (of several) into `--out/epoch-N`, with its form record,
/// so an epoch count can be chosen on the held-out loss or accuracy without rerunning.
fn save_checkpoint(
    trainer: &Trainer,
    base: &BaseModel,
    args: &TuneArgs,
    epoch: usize,
) -> anyhow::Result<()> {
    let dir = args.out.join(format!("epoch-{epoch}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    trainer
        .adapter()
        .save(&dir, base, &base.name)
        .with_context(|| format!("cannot write the checkpoint into {}", dir.display()))?;
    bora_tune::form::write_form(&dir, args.form.name())?;
    eprintln!("[tune] epoch {epoch} adapter written to {}", dir.display());
    Ok(())
}

fn mean(xs: &[f32]) -> f32 {
    if xs.is_empty() {
        return f32::NAN;
    }
    xs.iter().sum::<f32>() / xs.len() as f32
}

/// `1h02m03s`, `2m03s` or `3.4s`.
fn clock(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        _ if secs < 60.0 => format!("{secs:.1}s"),
        _ if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m{:02}s", s / 3600, (s % 3600) / 60, s % 60),
    }
}
