//! The language model as a [`PlanModel`]: a few-shot prompt whose KV state is computed
//! once (prefix cache), the command's own tokens (special-token parsing off, so user
//! text can never inject control tokens), generation constrained to the intent schema,
//! and a token budget checked after every prefill chunk and every token.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bora_agent::{expand_short, short_from_plan_spoken, Limits, Plan, PlanForm};
use bora_models::constrain::Constraint;
use bora_models::generate::{GenerateOptions, Generation};
use bora_models::prefix_cache::PrefixCache;
use bora_models::sampling::Sampling;
use bora_models::{DeviceSpec, Model, ModelOptions, ModelState, ModelTokenizer};

use bora_pipeline::interpret::{micros, BudgetOutcome, LatencyBreakdown, ModelAttempt, PlanModel};
use bora_rt::budget::{MissPolicy, TokenBudget};
use bora_rt::clock::{Clock, SystemClock};
use bora_rt::generation::{GenMetrics, GenerationDriver};
use bora_rt::metrics::{Metrics, Quantity};
use bora_rt::pulse::TokenPulse;

mod adapter;
#[cfg(test)]
mod prompt_tests;
mod stream;
use adapter::{adapter_accuracy, adapter_form, load_adapter};
use stream::{budget_and_error, stream};

/// How to load and run the language model.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// The GGUF file.
    pub path: PathBuf,
    /// Where it runs.
    pub device: DeviceSpec,
    /// CPU kernel threads (0: one per logical CPU); see [`ModelOptions::threads`].
    pub threads: usize,
    /// Context in tokens (KV cache size).
    pub context: usize,
    /// Most generated tokens per command.
    pub max_tokens: usize,
    /// Prompt tokens per prefill pass (the budget is checked between passes).
    pub prefill_chunk: usize,
    /// The token budget.
    pub budget: TokenBudget,
    /// What a miss does (the driver keeps generating only with `Ignore`).
    pub policy: MissPolicy,
    /// Constrain the output to the plan schema under these limits (in the form the model
    /// writes: [`PlanForm`], recorded with its adapter); None: unconstrained generation.
    pub limits: Option<Limits>,
    /// A LoRA adapter directory (PEFT layout, as `bora tune` writes) to add to the model;
    /// with one the prompt is the tuned form ([`bora_tune::prompt_for`]), no examples.
    pub adapter: Option<PathBuf>,
    /// Verify the deterministic parse as a draft ([`GenerateOptions::draft`]): the decode
    /// steps the model agrees with are skipped, its output is unchanged (greedy).
    pub draft: bool,
    /// Also draft the tokens the grammar forces ([`GenerateOptions::forced_draft`]).
    pub forced_draft: bool,
}

/// GGUF metadata key (float, 0 to 1) under which a tuned model file declares the intent
/// accuracy it was measured at on a held-out split; see
/// [`MotionTrust`](bora_pipeline::MotionTrust). Absent: the model is not trusted for
/// motion on its own.
pub const HELDOUT_ACCURACY_KEY: &str = "bora.intent.heldout_accuracy";

/// Few-shot examples: (command, plan JSON). They teach the format, signs and units.
pub const EXAMPLES: &[(&str, &str)] = &[
    (
        "move forward one meter",
        r#"{"plan":[{"action":"move","distance_m":1.0}]}"#,
    ),
    (
        "turn left",
        r#"{"plan":[{"action":"turn","angle_deg":90.0}]}"#,
    ),
    (
        "back up half a meter",
        r#"{"plan":[{"action":"move","distance_m":-0.5}]}"#,
    ),
    (
        "turn right 45 degrees then wait 2 seconds",
        r#"{"plan":[{"action":"turn","angle_deg":-45.0},{"action":"wait","seconds":2.0}]}"#,
    ),
    ("say hello", r#"{"plan":[{"action":"say","text":"hello"}]}"#),
    (
        "go ahead 2 m, then turn around",
        r#"{"plan":[{"action":"move","distance_m":2.0},{"action":"turn","angle_deg":180.0}]}"#,
    ),
    (
        "turn right",
        r#"{"plan":[{"action":"turn","angle_deg":-90.0}]}"#,
    ),
    // Not commands: the model declines (no motion).
    ("thank you, that was great", r#"{"plan":[]}"#),
    ("yesterday the car turned left", r#"{"plan":[]}"#),
];

/// The prompt around a command: a fixed prefix (cached), then `head`, the command, `tail`.
#[derive(Debug, Clone)]
struct PromptShape {
    prefix: String,
    head: String,
    tail: String,
    stop_strings: Vec<String>,
    /// Encode head, command and tail as one text (special tokens off), exactly as
    /// `bora tune` encoded its training prompts; else each part on its own.
    joined: bool,
}

impl PromptShape {
    /// The form a tuned adapter was trained on: [`bora_tune::PROMPT_HEADER`] then
    /// [`bora_tune::command_prompt`], the same tokens as training's one text. The cached
    /// prefix ends at `Input:` (the tokens before every command: two fewer to prefill per
    /// command); the command's part starts at the space, where the pre-tokenizer always
    /// splits (`prompt_tests` checks every command of the intent data).
    fn tuned() -> Self {
        Self {
            prefix: format!("{}Input:", bora_tune::PROMPT_HEADER),
            head: " ".into(),
            tail: "\nOutput: ".into(),
            stop_strings: vec!["\n".into()],
            joined: true,
        }
    }

    /// Plain few-shot completion ("Input: ... / Output: {json}") for every model. With
    /// SmolLM2-135M-Instruct it agreed with the deterministic parse on 2 of 6 sample
    /// commands, against 0 of 6 with the same examples as ChatML turns (the chat form
    /// kept appending steps), so the chat template is not used here.
    fn plain() -> Self {
        let mut prefix = String::from("Robot commands and their JSON plans.\n");
        for (cmd, plan) in EXAMPLES {
            prefix.push_str(&format!("Input: {cmd}\nOutput: {plan}\n"));
        }
        Self {
            prefix,
            head: "Input: ".into(),
            tail: "\nOutput: ".into(),
            stop_strings: vec!["\n".into()],
            joined: false,
        }
    }
}

/// A loaded model ready to turn commands into plan JSON.
pub struct LlmPlanModel {
    model: Model,
    tokenizer: ModelTokenizer,
    state: ModelState,
    prefix: PrefixCache,
    shape: PromptShape,
    driver: GenerationDriver,
    clock: Arc<dyn Clock>,
    /// Marked per generated token for the planner's token-gap watch.
    pulse: TokenPulse,
    cfg: LlmConfig,
    /// The grammar's JSON schema (`cfg.limits` in `form`), if constrained.
    schema: Option<serde_json::Value>,
    /// The form the model writes; short replies are expanded before they leave.
    form: PlanForm,
    description: String,
    /// The held-out intent accuracy declared for what runs: the file's
    /// [`HELDOUT_ACCURACY_KEY`], or with an adapter its `bora eval --declare` record.
    heldout_accuracy: Option<f64>,
    /// Time to load the weights and build the tokenizer.
    pub load_time: Duration,
    /// Time to compute the prefix's KV state.
    pub prefix_time: Duration,
}

impl std::fmt::Debug for LlmPlanModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmPlanModel")
            .field("model", &self.description)
            .finish()
    }
}

impl LlmPlanModel {
    /// Loads the model, builds its tokenizer, prompt and grammar compiler, and computes
    /// the prefix cache, so the first command pays for none of it.
    pub fn load(cfg: LlmConfig) -> bora_models::Result<Self> {
        let start = Instant::now();
        let file = bora_models::gguf::GgufFile::open(&cfg.path)?;
        let tokenizer = ModelTokenizer::from_gguf(&cfg.path, file.content())?;
        let heldout_accuracy = declared_accuracy(&file)?;
        let mut model = Model::from_gguf(
            &file,
            &ModelOptions {
                context: cfg.context,
                device: cfg.device,
                threads: cfg.threads,
            },
        )?;
        drop(file);
        let (shape, heldout_accuracy, form) = match &cfg.adapter {
            Some(dir) => {
                load_adapter(dir, &mut model)?;
                // The base file's declaration does not describe the adapted model.
                let accuracy = adapter_accuracy(dir, &cfg.path)?;
                (PromptShape::tuned(), accuracy, adapter_form(dir)?)
            }
            None => (PromptShape::plain(), heldout_accuracy, PlanForm::Full),
        };
        let schema = cfg.limits.as_ref().map(|l| match form {
            PlanForm::Full => l.json_schema(),
            PlanForm::Short => l.short_schema(),
        });
        if let Some(schema) = &schema {
            // Compile once now: a schema error shows at start, and the token trie is built.
            Constraint::json_schema(&tokenizer, schema)?;
        }
        let load_time = start.elapsed();
        let mut state = model.new_state()?;
        let mut prefix_ids = Vec::new();
        if tokenizer.add_bos() {
            prefix_ids.extend(tokenizer.bos_id());
        }
        prefix_ids.extend(tokenizer.encode(&shape.prefix, true)?);
        let t = Instant::now();
        let prefix = PrefixCache::build(&model, &mut state, prefix_ids, cfg.prefill_chunk.max(1))?;
        let prefix_time = t.elapsed();
        let declared = heldout_accuracy.map_or(String::new(), |a| {
            format!(", declared held-out accuracy {:.1} %", 100.0 * a)
        });
        let description = format!(
            "{}{} ({}, {} prefix tokens cached, {} ctx{declared})",
            cfg.path.file_name().map_or_else(
                || cfg.path.display().to_string(),
                |n| n.to_string_lossy().into_owned()
            ),
            cfg.adapter
                .as_ref()
                .map_or(String::new(), |a| format!(" + adapter {}", a.display())),
            match &cfg.device {
                DeviceSpec::Cpu => "cpu".to_owned(),
                other => format!("{other:?}"),
            },
            prefix.len(),
            cfg.context
        ) + if form == PlanForm::Short {
            ", short plan form"
        } else {
            ""
        };
        let driver = GenerationDriver::new(cfg.budget, cfg.policy);
        Ok(Self {
            model,
            tokenizer,
            state,
            prefix,
            shape,
            driver,
            clock: Arc::new(SystemClock::new()),
            pulse: TokenPulse::new(),
            cfg,
            schema,
            form,
            description,
            heldout_accuracy,
            load_time,
            prefix_time,
        })
    }

    /// The tokenizer (e.g. to build a grammar guide for it).
    pub fn tokenizer(&self) -> &ModelTokenizer {
        &self.tokenizer
    }

    /// Tokens the cached prefix holds.
    pub fn prefix_tokens(&self) -> usize {
        self.prefix.len()
    }

    /// The command's own prompt tokens: template head and tail parsed for special
    /// tokens, the user's text never.
    fn command_tokens(&self, command: &str) -> bora_models::Result<Vec<u32>> {
        if self.shape.joined {
            let text = format!("{}{command}{}", self.shape.head, self.shape.tail);
            return self.tokenizer.encode(&text, false);
        }
        let mut ids = self.tokenizer.encode(&self.shape.head, true)?;
        ids.extend(self.tokenizer.encode(command, false)?);
        ids.extend(self.tokenizer.encode(&self.shape.tail, true)?);
        Ok(ids)
    }

    /// Tokenizes `command` (setting `latency.tokenize_us`, timed from `t0`), restores the
    /// cached prefix and compiles the grammar guide; an error is the attempt's error text.
    fn prepare(
        &mut self,
        command: &str,
        t0: Instant,
        latency: &mut LatencyBreakdown,
    ) -> Result<(Vec<u32>, Option<Constraint>), String> {
        let ids = self.command_tokens(command).map_err(|e| e.to_string())?;
        latency.tokenize_us = micros(t0.elapsed());
        self.prefix
            .restore(&mut self.state)
            .map_err(|e| e.to_string())?;
        let guide = match self
            .schema
            .as_ref()
            .map(|s| Constraint::json_schema(&self.tokenizer, s))
        {
            Some(Ok(g)) => Some(g),
            Some(Err(e)) => return Err(format!("grammar: {e}")),
            None => None,
        };
        Ok((ids, guide))
    }

    /// Generation options for one command: greedy, stop strings of the prompt shape,
    /// cancellable through the driver's flag.
    fn options(&self, draft: Vec<u32>) -> GenerateOptions {
        GenerateOptions {
            draft,
            // A pass of many draft rows is one wait between tokens: keep it within half
            // the token-gap budget, so a budget sized for decode steps still holds.
            draft_pass_max: self.cfg.budget.token_gap.map(|g| g / 2),
            forced_draft: self.cfg.forced_draft,
            max_tokens: self.cfg.max_tokens,
            prefill_chunk: self.cfg.prefill_chunk.max(1),
            sampling: Sampling::Greedy,
            stop_strings: self.shape.stop_strings.clone(),
            stop_ids: Vec::new(),
            cancel: Some(self.driver.cancel_flag()),
        }
    }
}

/// The held-out accuracy `file` declares, checked to be a fraction: a present but wrong
/// value is an error, never a silent "untrusted".
fn declared_accuracy(file: &bora_models::gguf::GgufFile) -> bora_models::Result<Option<f64>> {
    let Some(a) = file.get_f32_opt(HELDOUT_ACCURACY_KEY)? else {
        return Ok(None);
    };
    if (0.0..=1.0).contains(&a) {
        Ok(Some(f64::from(a)))
    } else {
        Err(bora_models::Error::Metadata {
            path: file.path().to_path_buf(),
            key: HELDOUT_ACCURACY_KEY.into(),
            reason: format!("= {a}: must be a fraction from 0 to 1"),
        })
    }
}

/// An attempt that failed before generation: no text, budget not run, `error`.
fn failed(latency: LatencyBreakdown, error: String) -> ModelAttempt {
    ModelAttempt {
        text: String::new(),
        budget: BudgetOutcome::NotRun,
        latency,
        error: Some(error),
    }
}

impl LlmPlanModel {
    /// The draft's tokens as the model would write them (encoded alone, special tokens
    /// off, as `bora tune` encodes completions); none when drafting is off or it fails to
    /// encode (a draft only saves time).
    fn draft_tokens(&self, draft: Option<&str>) -> Vec<u32> {
        match draft {
            Some(d) if self.cfg.draft => self.tokenizer.encode(d, false).unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// A full-form plan JSON (the parser's draft for `command`) in the form the model
    /// writes, distances in the unit the command spoke where it names one.
    fn in_form(&self, full: &str, command: &str) -> String {
        match (self.form, Plan::from_json(full)) {
            (PlanForm::Short, Ok(plan)) => short_from_plan_spoken(&plan, command),
            _ => full.to_owned(),
        }
    }

    /// The model's reply in the full form the language stage reads. A short reply that
    /// does not expand is passed on as written: the stage reports it invalid.
    fn expanded(&self, text: String) -> String {
        if self.form == PlanForm::Full {
            return text;
        }
        match expand_short(text.trim()).and_then(|p| p.to_json()) {
            Ok(full) => full,
            Err(_) => text,
        }
    }

    /// One command through the model under the budget, with an optional draft.
    fn run(
        &mut self,
        command: &str,
        draft: Option<&str>,
        cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> ModelAttempt {
        let mut latency = LatencyBreakdown::default();
        let t0 = Instant::now();
        let (ids, mut guide) = match self.prepare(command, t0, &mut latency) {
            Ok(prepared) => prepared,
            Err(e) => return failed(latency, e),
        };
        let draft = draft.map(|d| self.in_form(d, command));
        let opts = self.options(self.draft_tokens(draft.as_deref()));
        let gen = match Generation::new(&self.model, &self.tokenizer, &mut self.state, ids, opts) {
            Ok(g) => g,
            Err(e) => return failed(latency, e.to_string()),
        };
        let gen = match guide.as_mut() {
            Some(g) => gen.with_guide(g),
            None => gen,
        };
        self.pulse.start(self.clock.now());
        let run = stream(
            &mut self.driver,
            (&*self.clock, &self.pulse),
            gen,
            cancel,
            on_text,
        );
        self.pulse.end();
        run.fill(&mut latency, t0);
        let (budget, error) = budget_and_error(run.outcome);
        ModelAttempt {
            text: self.expanded(run.text),
            budget,
            latency,
            error,
        }
    }
}

impl PlanModel for LlmPlanModel {
    fn generate(
        &mut self,
        command: &str,
        cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> ModelAttempt {
        self.run(command, None, cancel, on_text)
    }

    fn generate_drafted(
        &mut self,
        command: &str,
        draft: &str,
        cancel: &Arc<AtomicBool>,
        on_text: &mut dyn FnMut(&str),
    ) -> ModelAttempt {
        self.run(command, Some(draft), cancel, on_text)
    }

    fn budget(&self) -> TokenBudget {
        self.cfg.budget
    }

    fn heldout_accuracy(&self) -> Option<f64> {
        self.heldout_accuracy
    }

    fn describe(&self) -> String {
        self.description.clone()
    }

    fn use_clock(&mut self, clock: Arc<dyn Clock>) {
        self.clock = clock;
    }

    fn use_token_pulse(&mut self, pulse: TokenPulse) {
        self.pulse = pulse;
    }

    fn attach_metrics(&mut self, metrics: &mut Metrics) -> bora_pipeline::Result<()> {
        let gm = GenMetrics {
            ttft: metrics.recorder(Quantity::TimeToFirstToken, "language")?,
            token_gap: metrics.recorder(Quantity::TokenGap, "language")?,
            misses: metrics.counter("budget_misses"),
        };
        let driver = std::mem::replace(
            &mut self.driver,
            GenerationDriver::new(self.cfg.budget, self.cfg.policy),
        );
        self.driver = driver.with_metrics(gm);
        Ok(())
    }
}
