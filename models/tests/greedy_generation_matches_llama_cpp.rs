//! Greedy continuations of the reference prompts match llama.cpp's (`llama-simple`) text
//! for at least the first 16 generated tokens, on both models, through the streaming
//! generator with a small prefill chunk (so chunking is exercised too).

use std::path::PathBuf;

use bora_models::generate::{encode_prompt, Event, GenerateOptions, Generation, StopReason};
use bora_models::registry::resolve_model;
use bora_models::{Model, ModelOptions, ModelTokenizer};

/// Tokens that must match llama.cpp exactly.
const MUST_MATCH: usize = 16;

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

fn check_model(name: &str, key: &str) {
    let path = resolve_model(name)
        .unwrap_or_else(|e| panic!("model {name} not available ({e}); run scripts/setup.sh"));
    let model = Model::load(
        &path,
        &ModelOptions {
            context: 256,
            ..Default::default()
        },
    )
    .expect("model loads");
    let tok = ModelTokenizer::from_gguf_file(&path).expect("tokenizer loads");
    let cases = cases(key);
    assert!(!cases.is_empty(), "no {key} lines in greedy.jsonl");
    for case in cases {
        let mut state = model.new_state().expect("state");
        let prompt = encode_prompt(&tok, &case.prompt).expect("prompt encodes");
        let opts = GenerateOptions {
            max_tokens: case.n_predict,
            prefill_chunk: 7,
            ..Default::default()
        };
        let gen =
            Generation::new(&model, &tok, &mut state, prompt, opts).expect("generation starts");
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
    check_model("smollm2-135m-instruct", "smollm2");
}

#[test]
fn gemma3_greedy_matches_llama_cpp() {
    check_model("gemma3-270m", "gemma3");
}
