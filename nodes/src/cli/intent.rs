//! `bora intent`: run the language stage offline (no ROS, no robot) on one command, or on
//! one command per line of stdin with the model loaded once, and print the plan, the path
//! that produced it (model, fallback or reflex), whether a path trusted for motion
//! understood it, and where the time went.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use bora_models::registry::DEFAULT_MODEL;
use bora_nodes::params::{AgentParams, ParamValue};
use bora_pipeline::{Interpretation, Interpreter, PlanModel};
use clap::Args;

/// Arguments of `bora intent`.
#[derive(Args, Debug)]
pub struct IntentArgs {
    /// The command, as a speech recogniser would deliver it.
    #[arg(required_unless_present = "stdin")]
    pub text: Option<String>,
    /// Read commands from stdin instead, one per line (blank lines skipped); the model
    /// loads once. With --json, one JSON object per line.
    #[arg(long, conflicts_with = "text")]
    pub stdin: bool,
    /// Print one JSON object instead of a readable summary.
    #[arg(long)]
    pub json: bool,
    /// The model and its budget.
    #[command(flatten)]
    pub stage: StageArgs,
}

/// The language stage's flags, shared by `bora intent`, `bora listen` and `bora eval`.
#[derive(Args, Debug, Clone)]
pub struct StageArgs {
    /// Model name in the cache (smollm2-135m-instruct, gemma3-270m), a GGUF path, or
    /// `none` for the fallback parser alone.
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,
    /// The LoRA adapter added to the model: `auto` (the default: the one bora ships for
    /// the model, none for a model without one), `none`, or a directory `bora tune --out`
    /// wrote.
    #[arg(long, value_name = "auto|none|DIR", default_value = "auto")]
    pub adapter: String,
    /// Decode every token: do not check the parser's plan as a draft first (the
    /// agent's `model.draft:=false`; the model's output is the same either way).
    #[arg(long)]
    pub no_draft: bool,
    /// Also draft the tokens the grammar forces (the agent's `model.draft_forced:=true`;
    /// the model's output is the same either way).
    #[arg(long)]
    pub draft_forced: bool,
    /// Time to first token budget in ms (0 = unchecked; default: the agent's).
    #[arg(long, value_name = "MS")]
    pub first_token_ms: Option<f64>,
    /// Total generation budget in ms (0 = unchecked; default: the agent's).
    #[arg(long, value_name = "MS")]
    pub total_ms: Option<f64>,
    /// CPU threads for the model (0 = one per logical CPU). Checked by the agent's
    /// parameter table, as `bora agent`'s `threads` is.
    #[arg(long, default_value_t = 0)]
    pub threads: i64,
}

impl StageArgs {
    /// The language stage these flags describe, with the agent's parameter checks,
    /// limits and motion-trust rule; loads the model (progress on stderr is the loader's).
    pub fn interpreter(&self) -> anyhow::Result<Interpreter> {
        let mut values = vec![
            ("model", ParamValue::Str(self.model.clone())),
            ("threads", ParamValue::Int(self.threads)),
        ];
        values.push(("model.adapter", ParamValue::Str(self.adapter.clone())));
        if self.no_draft {
            values.push(("model.draft", ParamValue::Bool(false)));
        }
        if self.draft_forced {
            values.push(("model.draft_forced", ParamValue::Bool(true)));
        }
        if let Some(ms) = self.first_token_ms {
            values.push(("budget.first_token_ms", ParamValue::Double(ms)));
        }
        if let Some(ms) = self.total_ms {
            values.push(("budget.total_ms", ParamValue::Double(ms)));
        }
        let params = AgentParams::from_values(values.iter().map(|(n, v)| (*n, v)))?;
        let model: Option<Box<dyn PlanModel>> = match params.model {
            Some(_) => Some(bora_nodes::model_loader::load_plan_model(&params)?),
            None => None,
        };
        Ok(
            Interpreter::new(model, params.agent.limits.clone(), params.miss_policy)
                .with_motion_trust(params.motion_trust),
        )
    }
}

/// Runs `bora intent`.
pub fn run(args: IntentArgs) -> anyhow::Result<()> {
    let mut interpreter = args.stage.interpreter()?;
    let cancel = Arc::new(AtomicBool::new(false));
    let commands: Vec<String> = match args.text {
        Some(text) => vec![text],
        None => std::io::stdin()
            .lines()
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(|e| anyhow::anyhow!("cannot read commands from stdin: {e}"))?
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .collect(),
    };
    for (i, command) in commands.iter().enumerate() {
        let out = interpreter.interpret(command, &cancel, &mut |_| {});
        if args.json {
            println!("{}", out.to_json());
        } else {
            if i > 0 {
                println!();
            }
            print_summary(&out, &interpreter)?;
        }
    }
    Ok(())
}

/// The readable form of one interpretation.
fn print_summary(out: &Interpretation, interpreter: &Interpreter) -> anyhow::Result<()> {
    println!("command: {}", out.command);
    let l = &out.latency;
    match &out.plan {
        Some(plan) => println!("plan:    {}", serde_json::to_string(plan.plan())?),
        None => println!("plan:    none (no motion)"),
    }
    println!(
        "source:  {}",
        serde_json::to_value(out.source)?.as_str().unwrap_or("?")
    );
    if !out.understood {
        println!("understood: no (no path trusted for motion understood it; no motion)");
    }
    println!("model:   {}", interpreter.describe());
    if let Some(text) = &out.model_text {
        println!("output:  {text}");
    }
    println!("budget:  {}", serde_json::to_string(&out.budget)?);
    println!(
        "latency: tokenize {:.1} ms, prefill {:.1} ms, decode {:.1} ms ({} tokens, {} from the parser's draft, {} forced by the grammar, grammar {:.1} ms), first token {}, total {:.1} ms",
        l.tokenize_us as f64 / 1e3,
        l.prefill_us as f64 / 1e3,
        l.decode_us as f64 / 1e3,
        l.tokens,
        l.draft_accepted,
        l.forced_accepted,
        l.mask_us as f64 / 1e3,
        l.ttft_us.map_or("-".to_owned(), |t| format!("{:.1} ms", t as f64 / 1e3)),
        l.total_us as f64 / 1e3
    );
    for r in &out.reasons {
        println!("note:    {r}");
    }
    Ok(())
}
