//! `bora eval intents`: how well the language stage understands what people say, on a
//! benchmark file (see [`dataset`]), scored three ways: the model's own plan, the
//! deterministic parser alone, and the final plan the agent would run.

pub mod dataset;
pub mod score;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use bora_agent::{parse_command, reply_error, Limits, Step};
use bora_pipeline::{BudgetOutcome, Interpretation, Interpreter, Source};
use serde::Serialize;

use self::dataset::IntentCase;
use self::score::{matches_any, quantile, CaseOutcome, Tally};

/// Version of the JSON report.
pub const SCHEMA: &str = "bora.eval.intents/1";

/// How one case went.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Line in the benchmark file.
    pub line: usize,
    /// The command.
    pub text: String,
    /// Its category.
    pub category: String,
    /// The model's own plan (compact JSON; `{"plan":[]}` a decline), or why there is none.
    pub model_plan: String,
    /// The parser's plan, or null when it did not understand.
    pub parser_plan: Option<String>,
    /// The final plan, or null for no motion.
    pub final_plan: Option<String>,
    /// Which path produced the final plan.
    pub source: Source,
    /// Correct on each path.
    pub model_correct: bool,
    /// See `model_correct`.
    pub parser_correct: bool,
    /// See `model_correct`.
    pub final_correct: bool,
    /// Command to plan, ms (the whole interpretation).
    pub ms: f64,
    /// Tokens the model generated.
    pub tokens: u32,
    /// The case is a non-command: every acceptable plan is without motion.
    pub expects_no_motion: bool,
    /// The model's own plan moves the robot (a move or turn step).
    pub model_moves: bool,
}

/// A benchmark run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct IntentReport {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The benchmark file.
    pub file: String,
    /// The model, as the agent describes it.
    pub model: String,
    /// The CPU it ran on.
    pub cpu: String,
    /// Scores.
    pub tally: Tally,
    /// Command to plan, ms: p50.
    pub ms_p50: f64,
    /// Command to plan, ms: p99.
    pub ms_p99: f64,
    /// Generated tokens per command: p50.
    pub tokens_p50: f64,
    /// Generated tokens per command: p99.
    pub tokens_p99: f64,
    /// Every case.
    pub cases: Vec<CaseResult>,
}

impl IntentReport {
    /// Non-commands (cases expecting no motion) for which the model alone proposed a
    /// move or turn.
    pub fn non_commands_model_moved(&self) -> usize {
        self.cases
            .iter()
            .filter(|c| c.expects_no_motion && c.model_moves)
            .count()
    }
}

/// Runs every case through `interpreter`, calling `progress(done, total)` after each.
pub fn run(
    file: &str,
    cpu: String,
    cases: &[IntentCase],
    interpreter: &mut Interpreter,
    progress: &mut dyn FnMut(usize, usize),
) -> IntentReport {
    let cancel = Arc::new(AtomicBool::new(false));
    let limits = interpreter.limits().clone();
    let mut tally = Tally::default();
    let mut results = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        let out = interpreter.interpret(&case.text, &cancel, &mut |_| {});
        // The model's own answer: what it wrote here, or (when the reflex bypassed it) what
        // it writes when asked alone.
        let missed = |b: &BudgetOutcome| matches!(b, BudgetOutcome::Missed { .. });
        let (model_text, cut) = match &out.model_text {
            Some(t) => (Some(t.clone()), missed(&out.budget)),
            None => match interpreter.model_only(&case.text, &cancel) {
                Some(a) => (Some(a.text), missed(&a.budget)),
                None => (None, false),
            },
        };
        let model = ModelAnswer {
            text: model_text.as_deref(),
            cut,
        };
        let result = score_case(case, &out, model, &limits, &mut tally);
        results.push(result);
        progress(i + 1, cases.len());
    }
    let ms: Vec<f64> = results.iter().map(|r| r.ms).collect();
    let tokens: Vec<f64> = results.iter().map(|r| f64::from(r.tokens)).collect();
    IntentReport {
        schema: SCHEMA,
        file: file.to_owned(),
        model: interpreter.describe(),
        cpu,
        tally,
        ms_p50: quantile(&ms, 0.5),
        ms_p99: quantile(&ms, 0.99),
        tokens_p50: quantile(&tokens, 0.5),
        tokens_p99: quantile(&tokens, 0.99),
        cases: results,
    }
}

/// What the model alone wrote for a case.
struct ModelAnswer<'a> {
    /// Its text; None without a model.
    text: Option<&'a str>,
    /// Whether a missed token budget cut it short.
    cut: bool,
}

/// Scores one case on the three paths and counts it.
fn score_case(
    case: &IntentCase,
    out: &Interpretation,
    model: ModelAnswer<'_>,
    limits: &Limits,
    tally: &mut Tally,
) -> CaseResult {
    let (model_steps, model_plan) = match model.text.map(|t| (t, limits.parse_decision(t))) {
        None => (None, "no model".to_owned()),
        Some((_, Ok(None))) => {
            tally.model_declined += 1;
            (Some(Vec::new()), r#"{"plan":[]}"#.to_owned())
        }
        Some((_, Ok(Some(p)))) => (Some(p.steps().to_vec()), json(p.plan())),
        Some((t, Err(e))) if model.cut => {
            tally.model_missed += 1;
            (None, format!("cut short by a missed budget ({e}): {t}"))
        }
        Some((t, Err(e))) => {
            tally.model_invalid += 1;
            (None, format!("invalid ({}): {t}", reply_error(t, e)))
        }
    };
    let model_moves = model_steps
        .as_ref()
        .is_some_and(|s| s.iter().any(Step::is_motion));
    let parsed = parse_command(&case.text, limits).ok();
    let final_steps = out.plan.as_ref().map(|p| p.steps());
    let outcome = CaseOutcome {
        // No model, or invalid output: wrong, even where "no motion" was expected.
        model: model_steps.is_some_and(|s| matches_any(Some(&s), &case.plans)),
        parser: matches_any(parsed.as_ref().map(|p| p.steps()), &case.plans),
        final_plan: matches_any(final_steps, &case.plans),
    };
    tally.add(&case.category, outcome);
    if case.expects_no_motion() {
        let moved = final_steps.is_some_and(|s| s.iter().any(Step::is_motion));
        tally.non_commands += 1;
        tally.non_commands_moved += usize::from(moved);
    }
    CaseResult {
        line: case.line,
        text: case.text.clone(),
        category: case.category.clone(),
        model_plan,
        parser_plan: parsed.as_ref().map(|p| json(p.plan())),
        final_plan: out.plan.as_ref().map(|p| json(p.plan())),
        source: out.source,
        model_correct: outcome.model,
        parser_correct: outcome.parser,
        final_correct: outcome.final_plan,
        ms: out.latency.total_us as f64 / 1e3,
        tokens: out.latency.tokens,
        expects_no_motion: case.expects_no_motion(),
        model_moves,
    }
}

fn json(plan: &bora_agent::Plan) -> String {
    serde_json::to_string(plan).unwrap_or_default()
}

/// The readable table of a report.
pub fn render(r: &IntentReport) -> String {
    let pct = |s: &score::Score| {
        format!(
            "{:>5.1} % ({}/{})",
            100.0 * s.fraction(),
            s.correct,
            s.total
        )
    };
    let mut out = format!(
        "intent eval: {} ({} cases)\nmodel: {}\ncpu:   {}\n\n",
        r.file, r.tally.overall.model.total, r.model, r.cpu
    );
    out.push_str(&format!(
        "{:<14} {:>22} {:>22} {:>22}\n",
        "category", "model alone", "parser alone", "final"
    ));
    let rows = r.tally.categories.iter().map(|(c, s)| (c.as_str(), s));
    for (name, s) in rows.chain([("ALL", &r.tally.overall)]) {
        out.push_str(&format!(
            "{:<14} {:>22} {:>22} {:>22}\n",
            name,
            pct(&s.model),
            pct(&s.parser),
            pct(&s.final_plan)
        ));
    }
    out.push_str(&format!(
        "\ninvalid model outputs: {}\nmodel outputs cut short by a missed budget (scored wrong): {}\n\
         model declined: {}\nnon-commands with motion (final): {}/{}\n\
         command -> plan: p50 {:.0} ms, p99 {:.0} ms; tokens generated: p50 {:.0}, p99 {:.0}\n",
        r.tally.model_invalid,
        r.tally.model_missed,
        r.tally.model_declined,
        r.tally.non_commands_moved,
        r.tally.non_commands,
        r.ms_p50,
        r.ms_p99,
        r.tokens_p50,
        r.tokens_p99
    ));
    out
}
