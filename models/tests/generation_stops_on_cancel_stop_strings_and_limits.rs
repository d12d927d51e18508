//! The streaming generator ends where it should: on the cancel flag (checked between
//! prefill chunks and tokens), on a stop string (not emitted), at max_tokens; and seeded
//! sampling repeats itself.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bora_models::generate::{encode_prompt, Event, GenerateOptions, Generation, StopReason};
use bora_models::registry::resolve_model;
use bora_models::sampling::Sampling;
use bora_models::{Model, ModelOptions, ModelTokenizer};

const PROMPT: &str = "<|im_start|>user\nList three colors.<|im_end|>\n<|im_start|>assistant\n";

fn setup() -> (Model, ModelTokenizer) {
    let path = resolve_model("smollm2-135m-instruct")
        .unwrap_or_else(|e| panic!("model not available ({e}); run scripts/setup.sh"));
    let model = Model::load(
        &path,
        &ModelOptions {
            threads: 0,
            context: 128,
            ..Default::default()
        },
    )
    .expect("model loads");
    let tok = ModelTokenizer::from_gguf_file(&path).expect("tokenizer");
    (model, tok)
}

/// Runs to the end; returns (prefill events, token ids, text, stop reason).
fn run(
    model: &Model,
    tok: &ModelTokenizer,
    opts: GenerateOptions,
    cancel_after: Option<usize>,
) -> (usize, Vec<u32>, String, StopReason) {
    let mut state = model.new_state().expect("state");
    let prompt = encode_prompt(tok, PROMPT).expect("prompt");
    let flag = opts.cancel.clone();
    let (mut prefills, mut ids, mut text, mut reason) = (0, Vec::new(), String::new(), None);
    for ev in Generation::new(model, tok, &mut state, prompt, opts).expect("start") {
        match ev.expect("step") {
            Event::Prefill { .. } => prefills += 1,
            Event::Token {
                id, text: t, index, ..
            } => {
                assert_eq!(index, ids.len());
                ids.push(id);
                text.push_str(&t);
                if cancel_after == Some(ids.len()) {
                    if let Some(f) = &flag {
                        f.store(true, Ordering::Relaxed);
                    }
                }
            }
            Event::Done {
                reason: r,
                text: t,
                generated,
                ..
            } => {
                assert_eq!(generated, ids.len());
                text.push_str(&t);
                reason = Some(r);
            }
        }
    }
    (
        prefills,
        ids,
        text,
        reason.expect("a Done event ends every generation"),
    )
}

#[test]
fn generation_ends_for_the_right_reason() {
    let (model, tok) = setup();

    // Greedy reference: "1. Red\n2. Blue\n3. Green" (llama.cpp gives the same).
    let greedy = GenerateOptions {
        max_tokens: 24,
        prefill_chunk: 4,
        ..Default::default()
    };
    let (prefills, ids, text, reason) = run(&model, &tok, greedy.clone(), None);
    let n_prompt = encode_prompt(&tok, PROMPT).expect("prompt").len();
    assert_eq!(
        prefills,
        n_prompt.div_ceil(4),
        "one event per prefill chunk"
    );
    assert!(text.starts_with("1. Red\n2. Blue"), "{text:?}");
    assert!(matches!(reason, StopReason::Eos(_)), "{reason:?}");

    // max_tokens.
    let (_, ids3, _, reason) = run(
        &model,
        &tok,
        GenerateOptions {
            max_tokens: 3,
            ..greedy.clone()
        },
        None,
    );
    assert_eq!(
        (ids3.as_slice(), reason),
        (&ids[..3], StopReason::MaxTokens)
    );

    // Stop string: the text before it is emitted, the stop string is not.
    let stop = GenerateOptions {
        stop_strings: vec!["Blue".into()],
        ..greedy.clone()
    };
    let (_, _, text, reason) = run(&model, &tok, stop, None);
    assert_eq!(reason, StopReason::StopString("Blue".into()));
    assert_eq!(text, "1. Red\n2. ");

    // Cancel set before the start: nothing runs.
    let flag = Arc::new(AtomicBool::new(true));
    let (prefills, ids0, _, reason) = run(
        &model,
        &tok,
        GenerateOptions {
            cancel: Some(flag),
            ..greedy.clone()
        },
        None,
    );
    assert_eq!(
        (prefills, ids0.len(), reason),
        (0, 0, StopReason::Cancelled)
    );

    // Cancel set after the second token: the next step stops.
    let flag = Arc::new(AtomicBool::new(false));
    let (_, ids2, _, reason) = run(
        &model,
        &tok,
        GenerateOptions {
            cancel: Some(flag),
            ..greedy.clone()
        },
        Some(2),
    );
    assert_eq!((ids2.len(), reason), (2, StopReason::Cancelled));

    // Seeded top-p sampling is reproducible.
    let sampled = GenerateOptions {
        max_tokens: 12,
        sampling: Sampling::TopP {
            temperature: 1.0,
            top_p: 0.9,
            seed: 1234,
        },
        ..greedy
    };
    let a = run(&model, &tok, sampled.clone(), None).1;
    let b = run(&model, &tok, sampled, None).1;
    assert_eq!(a, b);
}
