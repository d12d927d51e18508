//! Greedy continuations of the reference prompts against llama.cpp's (`llama-simple`).
//!
//! Two checks. Along the reference continuation (teacher forcing), every one of the
//! first 16 reference tokens is bora's greedy choice or within [`NEAR_TIE`] logits of it,
//! and at least [`MIN_EXACT`] of them are exactly its choice: both models. Free-running
//! through the streaming generator with a small prefill chunk (so chunking is exercised
//! too), the generated tokens equal llama.cpp's up to the first near tie teacher forcing
//! found, and there bora's own choice: SmolLM2. (With the x86 kernels summing each
//! block exactly, as the portable reference does, instead of in llama.cpp's eight AVX2
//! lanes, its second prompt meets one near tie, at token 9.) gemma 3's reference has five positions where llama.cpp's own top two
//! tokens are within 0.05 logit, so no implementation that is not llama.cpp's exact build
//! on the exact CPU can promise them: llama.cpp 0c1e570 built for this project's AVX2
//! machine continues gemma's third prompt differently from the reference (made on an
//! AVX-512 machine), and the same llama.cpp with an f32 instead of an f16 KV cache picks
//! a different token at 5 of gemma's 48 positions (`bench/logits-vs-llama.sh`).

use std::path::PathBuf;

use bora_models::generate::{encode_prompt, Event, GenerateOptions, Generation, StopReason};
use bora_models::registry::resolve_model;
use bora_models::{Model, ModelOptions, ModelTokenizer};

/// Reference tokens checked per prompt.
const MUST_MATCH: usize = 16;

/// How far (logits) below bora's top logit a reference token may be and still count as
/// reproduced: a near tie. Measured by `bench/logits-vs-llama.sh` over these prompts:
/// bora's logits sit 0.22 (SmolLM2) and 0.26 (gemma 3) RMS from llama.cpp's, max 1.4-1.7;
/// llama.cpp moves as far from itself (0.24 RMS, max 1.5) when only its KV cache type
/// changes. Every flip measured against the reference was below 0.15.
const NEAR_TIE: f32 = 0.3;

/// Fraction of reference positions (all prompts of a model) where the reference token
/// must be bora's exact greedy choice. llama.cpp against itself (f32 vs f16 KV cache):
/// 43 of gemma's 48; bora: 46-47 of 48.
const MIN_EXACT: f64 = 0.9;

fn reference_dir() -> PathBuf {
    match std::env::var_os("BORA_REFERENCE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"),
    }
}

struct Case {
    prompt: String,
    continuation: String,
    n_predict: usize,
}

fn cases(model_key: &str) -> Vec<Case> {
    let path = reference_dir().join("greedy.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; run scripts/setup.sh or set BORA_REFERENCE_DIR",
            path.display()
        )
    });
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("greedy.jsonl line is JSON");
            if v["model"] != model_key {
                return None;
            }
            let prompt = v["prompt"].as_str().expect("prompt").to_string();
            let out = v["output_with_prompt"]
                .as_str()
                .expect("output_with_prompt");
            let start = out.find(&prompt).expect("output starts with the prompt") + prompt.len();
            let continuation = out[start..]
                .strip_suffix('\n')
                .unwrap_or(&out[start..])
                .to_string();
            let n_predict = v["n_predict"].as_u64().expect("n_predict") as usize;
            Some(Case {
                prompt,
                continuation,
                n_predict,
            })
        })
        .collect()
}

/// Where free running may leave a reference continuation: the first position whose
/// reference token is a near tie rather than bora's choice, and that choice.
struct FirstTie {
    at: usize,
    choice: u32,
}

/// Teacher forcing along each reference continuation: every reference token is bora's
/// argmax or within [`NEAR_TIE`] of it, and [`MIN_EXACT`] of them are its argmax.
/// Returns each case's first near tie, if any.
fn check_teacher_forced(model: &Model, tok: &ModelTokenizer, key: &str) -> Vec<Option<FirstTie>> {
    let (mut exact, mut total) = (0usize, 0usize);
    let mut ties = Vec::new();
    for case in cases(key) {
        let mut tie = None;
        let ids = tok
            .encode(&case.continuation, false)
            .expect("continuation encodes");
        assert_eq!(
            tok.decode(&ids).expect("decode"),
            case.continuation,
            "{key}: continuation does not round-trip"
        );
        let mut state = model.new_state().expect("state");
        let prompt = encode_prompt(tok, &case.prompt).expect("prompt encodes");
        let mut logits = Vec::new();
        for chunk in prompt.chunks(7) {
            logits = model.forward(&mut state, chunk).expect("prefill").to_vec();
        }
        for (i, &want) in ids.iter().take(MUST_MATCH).enumerate() {
            let top = (0..logits.len())
                .max_by(|&a, &b| logits[a].total_cmp(&logits[b]))
                .expect("logits");
            let below = logits[top] - logits[want as usize];
            assert!(
                below <= NEAR_TIE,
                "{key}: prompt {:?}, reference token {i} ({:?}) is {below:.3} logits below \
                 bora's choice {:?}: more than a near tie ({NEAR_TIE})",
                case.prompt,
                tok.decode(&[want]).unwrap_or_default(),
                tok.decode(&[top as u32]).unwrap_or_default()
            );
            if top != want as usize && tie.is_none() {
                eprintln!(
                    "{key}: prompt {:?}: near tie at token {i}, {below:.3} logits",
                    case.prompt
                );
                tie = Some(FirstTie {
                    at: i,
                    choice: top as u32,
                });
            }
            exact += usize::from(top == want as usize);
            total += 1;
            logits = model
                .forward(&mut state, &[want])
                .expect("decode step")
                .to_vec();
        }
        ties.push(tie);
    }
    // Issue #21: with no reference lines the ratio below held with 0 of 0.
    assert!(
        total >= MUST_MATCH,
        "{key}: only {total} reference positions checked; greedy.jsonl has too few {key} lines"
    );
    assert!(
        exact as f64 >= MIN_EXACT * total as f64,
        "{key}: reference token is the greedy choice at only {exact} of {total} positions"
    );
    ties
}

fn load(name: &str) -> (Model, ModelTokenizer) {
    let path = resolve_model(name)
        .unwrap_or_else(|e| panic!("model {name} not available ({e}); run scripts/setup.sh"));
    let model = Model::load(
        &path,
        &ModelOptions {
            threads: 0,
            context: 256,
            ..Default::default()
        },
    )
    .expect("model loads");
    let tok = ModelTokenizer::from_gguf_file(&path).expect("tokenizer loads");
    (model, tok)
}

/// Free-running greedy generation equals llama.cpp's tokens up to each case's first
/// near tie, and bora's teacher-forced choice there; without a tie, llama.cpp's text.
fn check_free_running(model: &Model, tok: &ModelTokenizer, key: &str, ties: &[Option<FirstTie>]) {
    let cases = cases(key);
    assert!(!cases.is_empty(), "no {key} lines in greedy.jsonl");
    for (case, tie) in cases.into_iter().zip(ties) {
        let mut state = model.new_state().expect("state");
        let prompt = encode_prompt(tok, &case.prompt).expect("prompt encodes");
        let opts = GenerateOptions {
            max_tokens: case.n_predict,
            prefill_chunk: 7,
            ..Default::default()
        };
        let gen = Generation::new(model, tok, &mut state, prompt, opts).expect("generation starts");
        let mut text = String::new();
        let mut ids = Vec::new();
        let mut reason = None;
        for ev in gen {
            match ev.expect("generation step") {
                Event::Token { id, text: t, .. } => {
                    ids.push(id);
                    text.push_str(&t);
                }
                Event::Done {
                    reason: r, text: t, ..
                } => {
                    text.push_str(&t);
                    reason = Some(r);
                }
                Event::Prefill { .. } => {}
            }
        }
        if let Some(tie) = tie {
            let want = tok.encode(&case.continuation, false).expect("encodes");
            assert_eq!(
                ids.get(..=tie.at),
                Some(&[&want[..tie.at], &[tie.choice]].concat()[..]),
                "{key}: prompt {:?}: free running left llama.cpp's tokens before the near tie \
                 at {}, or took another token there than teacher forcing chose",
                case.prompt,
                tie.at
            );
            continue;
        }
        let first = tok
            .decode(&ids[..ids.len().min(MUST_MATCH)])
            .expect("decode");
        assert!(
            case.continuation.starts_with(&first),
            "{key}: prompt {:?}\n first {MUST_MATCH} tokens gave {first:?}\n llama.cpp gave {:?}",
            case.prompt,
            case.continuation
        );
        if matches!(reason, Some(StopReason::Eos(_))) {
            assert_eq!(
                text, case.continuation,
                "{key}: stopped at EOS with different text"
            );
        }
        if reason == Some(StopReason::MaxTokens) {
            assert_eq!(ids.len(), case.n_predict);
        }
    }
}

#[test]
fn smollm2_greedy_matches_llama_cpp() {
    let (model, tok) = load("smollm2-135m-instruct");
    let ties = check_teacher_forced(&model, &tok, "smollm2");
    check_free_running(&model, &tok, "smollm2", &ties);
}

#[test]
fn gemma3_greedy_matches_llama_cpp_up_to_near_ties() {
    let (model, tok) = load("gemma3-270m");
    check_teacher_forced(&model, &tok, "gemma3");
}
