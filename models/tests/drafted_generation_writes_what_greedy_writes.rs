//! A draft (`GenerateOptions::draft`) only saves decode steps: with greedy sampling the
//! output is token for token what the model writes without one, whether the draft is
//! its own output, a wrong plan, or longer than `max_tokens`; and a verification pass's
//! rows are the logits that one-token decode steps would have produced; and choosing
//! from the logits of the allowed tokens alone (hidden rows) changes no token.

use bora_models::constrain::Constraint;
use bora_models::generate::{encode_prompt, DraftStats, Event, GenerateOptions, Generation, Guide};
use bora_models::registry::resolve_model;
use bora_models::{Model, ModelOptions, ModelTokenizer};
use std::time::Duration;

const PROMPT: &str = "Robot commands and their JSON plans.\n\
Input: move forward one meter\nOutput: {\"plan\":[{\"action\":\"move\",\"distance_m\":1.0}]}\n\
Input: turn left\nOutput: {\"plan\":[{\"action\":\"turn\",\"angle_deg\":90.0}]}\n\
Input: go ahead 2 m, then turn around\nOutput: ";

const SCHEMA: &str = r#"{"type":"object","properties":{"plan":{"type":"array","items":{
  "anyOf":[
   {"type":"object","properties":{"action":{"const":"move"},"distance_m":{"type":"number"}},
    "required":["action","distance_m"],"additionalProperties":false},
   {"type":"object","properties":{"action":{"const":"turn"},"angle_deg":{"type":"number"}},
    "required":["action","angle_deg"],"additionalProperties":false}]}}},
 "required":["plan"],"additionalProperties":false}"#;

fn setup() -> (Model, ModelTokenizer) {
    let path = resolve_model("smollm2-135m-instruct")
        .unwrap_or_else(|e| panic!("model not available ({e}); run scripts/setup.sh"));
    let model = Model::load(
        &path,
        &ModelOptions {
            threads: 0,
            context: 256,
            ..Default::default()
        },
    )
    .expect("model loads");
    let tok = ModelTokenizer::from_gguf_file(&path).expect("tokenizer");
    (model, tok)
}

/// Generates under the schema with `draft`; returns the ids and the draft's stats.
fn run(model: &Model, tok: &ModelTokenizer, draft: Vec<u32>, max: usize) -> (Vec<u32>, DraftStats) {
    run_capped(model, tok, draft, max, None)
}

/// [`run`] with passes capped at `pass_max` (`GenerateOptions::draft_pass_max`).
fn run_capped(
    model: &Model,
    tok: &ModelTokenizer,
    draft: Vec<u32>,
    max: usize,
    pass_max: Option<Duration>,
) -> (Vec<u32>, DraftStats) {
    run_with(model, tok, draft, max, pass_max, false)
}

/// [`run_capped`] with the guide's forced tokens drafted too when `forced`.
fn run_with(
    model: &Model,
    tok: &ModelTokenizer,
    draft: Vec<u32>,
    max: usize,
    pass_max: Option<Duration>,
    forced: bool,
) -> (Vec<u32>, DraftStats) {
    let mut guide = constraint(tok);
    let opts = GenerateOptions {
        max_tokens: max,
        stop_strings: vec!["\n".into()],
        draft,
        draft_pass_max: pass_max,
        forced_draft: forced,
        ..Default::default()
    };
    generate(model, tok, &mut guide, opts)
}

/// The schema's grammar.
fn constraint(tok: &ModelTokenizer) -> Constraint {
    let schema = serde_json::from_str(SCHEMA).expect("schema");
    Constraint::json_schema(tok, &schema).expect("grammar")
}

/// Generates after the prompt under `guide`; returns the ids and the draft's stats.
fn generate(
    model: &Model,
    tok: &ModelTokenizer,
    guide: &mut dyn Guide,
    opts: GenerateOptions,
) -> (Vec<u32>, DraftStats) {
    let mut state = model.new_state().expect("state");
    let prompt = encode_prompt(tok, PROMPT).expect("prompt");
    let mut gen = Generation::new(model, tok, &mut state, prompt, opts)
        .expect("start")
        .with_guide(guide);
    let mut ids = Vec::new();
    for ev in gen.by_ref() {
        if let Event::Token { id, index, .. } = ev.expect("step") {
            assert_eq!(index, ids.len(), "token indices count up by one");
            ids.push(id);
        }
    }
    (ids, gen.draft_stats())
}

#[test]
fn output_is_the_models_own_whatever_the_draft() {
    let (model, tok) = setup();
    let (plain, none) = run(&model, &tok, Vec::new(), 64);
    assert_eq!(none, DraftStats::default(), "no draft, no verification");
    assert!(plain.len() > 8, "the plan takes some tokens: {plain:?}");

    // Its own output as the draft: one verification pass takes every token after the
    // first (which comes from prefill's logits).
    let (own, stats) = run(&model, &tok, plain.clone(), 64);
    assert_eq!(own, plain, "own output as draft");
    assert_eq!(stats.passes, 1, "{stats:?}");
    assert_eq!(stats.accepted, plain.len() - 1, "{stats:?}");

    // A wrong plan as the draft: the model keeps its own tokens.
    let wrong = tok
        .encode(
            r#"{"plan":[{"action":"turn","angle_deg":-45.0},{"action":"move","distance_m":3.0}]}"#,
            false,
        )
        .expect("encode");
    let (out, stats) = run(&model, &tok, wrong, 64);
    assert_eq!(out, plain, "wrong draft");
    assert!(stats.accepted < plain.len() - 1, "{stats:?}");

    // Cut by max_tokens: the drafted run stops at the same token.
    let (cut_plain, _) = run(&model, &tok, Vec::new(), 5);
    let (cut, _) = run(&model, &tok, plain.clone(), 5);
    assert_eq!(cut, cut_plain);
    assert_eq!(cut.len(), 5);

    // A pass limit no row fits in: no verification, every token decoded, same output.
    let tiny = Some(Duration::from_nanos(1));
    let (out, stats) = run_capped(&model, &tok, plain.clone(), 64, tiny);
    assert_eq!(out, plain, "passes capped to nothing");
    assert_eq!(stats, DraftStats::default(), "{stats:?}");
    // A limit every pass fits in: one pass as without a limit.
    let (out, stats) = run_capped(
        &model,
        &tok,
        plain.clone(),
        64,
        Some(Duration::from_secs(60)),
    );
    assert_eq!(out, plain, "generous limit");
    assert_eq!(stats.passes, 1, "{stats:?}");
}

#[test]
fn forced_tokens_are_drafted_and_the_output_stays_the_models() {
    let (model, tok) = setup();
    let (plain, _) = run(&model, &tok, Vec::new(), 64);
    // No caller draft: the grammar's forced tokens (`{"plan":[{"action":"`, ...) alone.
    let (out, stats) = run_with(&model, &tok, Vec::new(), 64, None, true);
    assert_eq!(out, plain, "forced tokens drafted");
    assert!(stats.forced > 0, "{stats:?}");
    assert_eq!(stats.accepted, 0, "{stats:?}");
    println!("forced only: {stats:?} for {} tokens", plain.len());
    // A wrong caller draft, then forced tokens once it is abandoned.
    let wrong = tok
        .encode(r#"{"plan":[{"action":"turn","angle_deg":-45.0}]}"#, false)
        .expect("encode");
    let (out, stats) = run_with(&model, &tok, wrong, 64, None, true);
    assert_eq!(out, plain, "wrong draft, then forced tokens");
    println!("wrong draft then forced: {stats:?}");
    // Capped to nothing: plain decoding.
    let tiny = Some(Duration::from_nanos(1));
    let (out, stats) = run_with(&model, &tok, Vec::new(), 64, tiny, true);
    assert_eq!(out, plain, "forced tokens, passes capped to nothing");
    assert_eq!(stats, DraftStats::default(), "{stats:?}");
}

#[test]
fn verification_rows_are_the_decode_steps_logits() {
    let (model, tok) = setup();
    let prompt = encode_prompt(&tok, PROMPT).expect("prompt");
    let cont = tok
        .encode(r#"{"plan":[{"action":"move""#, false)
        .expect("encode");
    let mut one = model.new_state().expect("state");
    model.forward(&mut one, &prompt).expect("prefill");
    let mut stepped = Vec::new();
    for &t in &cont {
        stepped.push(model.forward(&mut one, &[t]).expect("decode").to_vec());
    }
    let mut all = model.new_state().expect("state");
    model.forward(&mut all, &prompt).expect("prefill");
    let mut every = Vec::new();
    model
        .forward_every(&mut all, &cont, &mut every)
        .expect("verify");
    assert_eq!(all.pos(), one.pos());
    let vocab = stepped[0].len();
    for (i, want) in stepped.iter().enumerate() {
        let got = &every[i * vocab..(i + 1) * vocab];
        let worst = got
            .iter()
            .zip(want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        let argmax = |v: &[f32]| {
            v.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
        };
        assert!(worst < 0.05, "row {i}: logits differ by up to {worst}");
        assert_eq!(argmax(got), argmax(want), "row {i}: greedy choice");
    }
    assert_eq!(all.logits(), &every[(cont.len() - 1) * vocab..]);
    // Rewinding forgets the verified rows: the next forward writes over them.
    all.rewind(all.pos() - 2);
    let again = model
        .forward(&mut all, &cont[cont.len() - 2..])
        .expect("redo");
    let last = &every[(cont.len() - 1) * vocab..];
    let worst = again
        .iter()
        .zip(last)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 0.05, "after rewind: {worst}");
}

/// The schema's grammar, but only as a mask over whole logits (no allowed-token list):
/// the generation computes every logit, as on a backend without hidden rows.
struct MaskOnly(Constraint);

impl Guide for MaskOnly {
    fn mask_logits(&mut self, logits: &mut [f32]) -> bora_models::Result<()> {
        self.0.mask_logits(logits)
    }
    fn commit(&mut self, token: u32) -> bora_models::Result<()> {
        Guide::commit(&mut self.0, token)
    }
    fn is_finished(&self) -> bool {
        Guide::is_finished(&self.0)
    }
    fn forced(&mut self) -> Vec<u32> {
        self.0.forced()
    }
}

#[test]
fn logits_of_the_allowed_tokens_alone_choose_what_all_logits_choose() {
    let (model, tok) = setup();
    let opts = |forced| GenerateOptions {
        max_tokens: 64,
        stop_strings: vec!["\n".into()],
        forced_draft: forced,
        ..Default::default()
    };
    for forced in [false, true] {
        let (whole, _) = generate(&model, &tok, &mut MaskOnly(constraint(&tok)), opts(forced));
        let (sparse, stats) = generate(&model, &tok, &mut constraint(&tok), opts(forced));
        assert!(whole.len() > 8, "{whole:?}");
        assert_eq!(sparse, whole, "forced drafts {forced}: {stats:?}");
    }
}

#[test]
fn hidden_rows_give_the_logits_of_the_forward_pass_bit_for_bit() {
    let (model, tok) = setup();
    assert!(model.has_hidden_rows());
    let prompt = encode_prompt(&tok, PROMPT).expect("prompt");
    let cont = tok
        .encode(r#"{"plan":[{"action":"move""#, false)
        .expect("encode");
    let (mut a, mut b) = (model.new_state().expect("a"), model.new_state().expect("b"));
    let want_last = model.forward(&mut a, &prompt).expect("prefill").to_vec();
    let mut hidden = Vec::new();
    model
        .forward_hidden(&mut b, &prompt, &mut hidden)
        .expect("hidden");
    assert_eq!(b.pos(), a.pos());
    let h = model.config().hidden;
    let vocab = want_last.len();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let mut got = vec![0f32; vocab];
    model
        .logits_of(&hidden[hidden.len() - h..], &mut got)
        .expect("logits");
    assert_eq!(bits(&got), bits(&want_last), "last prompt row");
    // A verification pass: every row, whole or a few tokens at a time.
    let mut every = Vec::new();
    model
        .forward_every(&mut a, &cont, &mut every)
        .expect("every");
    model
        .forward_hidden(&mut b, &cont, &mut hidden)
        .expect("hidden");
    let ids: Vec<u32> = [0u32, 7, 500, 49_151, 7]
        .into_iter()
        .chain(cont.iter().copied())
        .collect();
    for (i, row) in hidden.chunks_exact(h).enumerate() {
        let want = &every[i * vocab..(i + 1) * vocab];
        model.logits_of(row, &mut got).expect("logits");
        assert_eq!(bits(&got), bits(want), "row {i}, whole head");
        let mut some = vec![0f32; ids.len()];
        model.logits_for(row, &ids, &mut some).expect("some");
        let want_some: Vec<f32> = ids.iter().map(|&id| want[id as usize]).collect();
        assert_eq!(bits(&some), bits(&want_some), "row {i}, chosen tokens");
    }
    let mut one = [0f32];
    assert!(model
        .logits_for(&hidden[..h], &[vocab as u32], &mut one)
        .is_err());
}

#[test]
fn a_draft_that_ends_the_grammar_runs_no_row_after_its_last_token() {
    let (model, tok) = setup();
    let (plain, _) = run(&model, &tok, Vec::new(), 64);
    let prompt = encode_prompt(&tok, PROMPT).expect("prompt");
    let mut state = model.new_state().expect("state");
    let mut guide = constraint(&tok);
    let opts = GenerateOptions {
        max_tokens: 64,
        stop_strings: vec!["\n".into()],
        draft: plain.clone(),
        ..Default::default()
    };
    let mut gen = Generation::new(&model, &tok, &mut state, prompt.clone(), opts)
        .expect("start")
        .with_guide(&mut guide);
    let ids: Vec<u32> = gen
        .by_ref()
        .filter_map(|ev| match ev.expect("step") {
            Event::Token { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    let stats = gen.draft_stats();
    drop(gen);
    assert_eq!(ids, plain);
    assert_eq!(
        (stats.passes, stats.accepted),
        (1, plain.len() - 1),
        "{stats:?}"
    );
    // The prompt, then every token but the last: the pass verified the last token from
    // the row before it, and the grammar was complete after it.
    assert_eq!(state.pos(), prompt.len() + plain.len() - 1);
}
