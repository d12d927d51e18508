//! Whatever a sampler picks among the allowed tokens, constrained output parses as JSON
//! and matches the schema (for both models' vocabularies), a Lark grammar is honoured,
//! and bad grammars or disallowed tokens are typed errors. Prints the mask time per token.

use std::time::Instant;

use bora_models::registry::{models_dir, resolve_model};
use bora_models::{Constraint, ModelTokenizer};
use rand::{rngs::StdRng, Rng, SeedableRng};
use serde_json::{json, Value};

const MAX_TOKENS: usize = 400;

fn load(name: &str) -> ModelTokenizer {
    let path = resolve_model(name).unwrap_or_else(|e| {
        panic!(
            "{e} (model cache: {}); run scripts/setup.sh",
            models_dir().display()
        )
    });
    ModelTokenizer::from_gguf_file(&path).expect("tokenizer builds")
}

fn plan_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "plan": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "anyOf": [
                        {
                            "type": "object",
                            "properties": {
                                "action": { "const": "move" },
                                "distance_m": { "type": "number", "minimum": -5, "maximum": 5 }
                            },
                            "required": ["action", "distance_m"],
                            "additionalProperties": false
                        },
                        {
                            "type": "object",
                            "properties": {
                                "action": { "const": "turn" },
                                "angle_deg": { "type": "integer", "minimum": -180, "maximum": 180 }
                            },
                            "required": ["action", "angle_deg"],
                            "additionalProperties": false
                        },
                        {
                            "type": "object",
                            "properties": { "action": { "const": "stop" } },
                            "required": ["action"],
                            "additionalProperties": false
                        }
                    ]
                }
            }
        },
        "required": ["plan"],
        "additionalProperties": false
    })
}

/// Checks `value` against [`plan_schema`] by hand; returns what is wrong.
fn schema_violation(value: &Value) -> Option<String> {
    let obj = value.as_object()?;
    if obj.len() != 1 {
        return Some(format!(
            "top level has keys {:?}",
            obj.keys().collect::<Vec<_>>()
        ));
    }
    let Some(plan) = obj.get("plan").and_then(Value::as_array) else {
        return Some("no plan array".into());
    };
    if plan.is_empty() || plan.len() > 3 {
        return Some(format!("plan has {} steps", plan.len()));
    }
    for step in plan {
        let Some(step) = step.as_object() else {
            return Some(format!("step {step} is not an object"));
        };
        let keys: Vec<&str> = step.keys().map(String::as_str).collect();
        let ok = match step.get("action").and_then(Value::as_str) {
            Some("move") => {
                keys.len() == 2
                    && step["distance_m"]
                        .as_f64()
                        .is_some_and(|d| (-5.0..=5.0).contains(&d))
            }
            Some("turn") => {
                keys.len() == 2
                    && step["angle_deg"]
                        .as_i64()
                        .is_some_and(|a| (-180..=180).contains(&a))
            }
            Some("stop") => keys.len() == 1,
            _ => false,
        };
        if !ok {
            return Some(format!("bad step {step:?}"));
        }
    }
    None
}

/// Runs a constraint to completion, choosing each token with `pick` among the allowed
/// ones; returns the text and the mask times in microseconds.
fn run(
    tok: &ModelTokenizer,
    mut constraint: Constraint,
    mut pick: impl FnMut(&[u32]) -> u32,
) -> (String, Vec<u64>) {
    let mut ids = Vec::new();
    let mut times = Vec::new();
    for _ in 0..MAX_TOKENS {
        let start = Instant::now();
        let mask = constraint.compute_mask().expect("mask");
        times.push(start.elapsed().as_micros() as u64);
        let allowed = mask.allowed();
        assert!(
            !allowed.is_empty(),
            "empty mask after {:?}",
            tok.decode(&ids)
        );
        let id = pick(&allowed);
        assert!(mask.is_allowed(id));
        if tok.is_eos(id) {
            break;
        }
        constraint.commit(id).expect("commit an allowed token");
        ids.push(id);
        if constraint.is_finished() {
            break;
        }
    }
    let text = tok.decode(&ids).expect("decode");
    assert!(
        constraint.is_finished() || constraint.is_accepting(),
        "not finished after {MAX_TOKENS} tokens: {text:?}"
    );
    assert_eq!(constraint.mask_stats().count as usize, times.len());
    (text, times)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn random_plans_always_parse(name: &str) {
    let tok = load(name);
    let start = Instant::now();
    tok.prepare_constraints().expect("token trie");
    let prepared = start.elapsed();
    let first = Constraint::json_schema(&tok, &plan_schema()).expect("schema compiles");
    eprintln!(
        "{name}: token trie in {:.0} ms, then the first constraint in {:.1} ms",
        prepared.as_secs_f64() * 1e3,
        (start.elapsed() - prepared).as_secs_f64() * 1e3
    );
    let mut all_times = Vec::new();
    let mut constraint = Some(first);
    for seed in 0..12u64 {
        let c = match constraint.take() {
            Some(c) => c,
            None => Constraint::json_schema(&tok, &plan_schema()).expect("schema compiles"),
        };
        let mut rng = StdRng::seed_from_u64(seed);
        let (text, times) = run(&tok, c, |allowed| {
            allowed[rng.random_range(0..allowed.len())]
        });
        let value: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{name} seed {seed}: {text:?} is not JSON: {e}"));
        if let Some(why) = schema_violation(&value) {
            panic!("{name} seed {seed}: {text} breaks the schema: {why}");
        }
        all_times.extend(times);
    }
    all_times.sort_unstable();
    eprintln!(
        "{name}: mask time per token over {} tokens: p50 {} us, p99 {} us, max {} us",
        all_times.len(),
        percentile(&all_times, 0.5),
        percentile(&all_times, 0.99),
        all_times[all_times.len() - 1]
    );
}

#[test]
fn smollm2_random_plans_parse_and_match_the_schema() {
    random_plans_always_parse("smollm2-135m-instruct");
}

#[test]
fn gemma3_random_plans_parse_and_match_the_schema() {
    random_plans_always_parse("gemma3-270m");
}

#[test]
fn lark_grammar_limits_the_output_to_its_language() {
    let tok = load("smollm2-135m-instruct");
    let grammar = r#"start: "yes" | "no" | "stop now""#;
    for seed in 0..6u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let c = Constraint::lark(&tok, grammar).expect("grammar compiles");
        let (text, _) = run(&tok, c, |allowed| {
            allowed[rng.random_range(0..allowed.len())]
        });
        assert!(
            ["yes", "no", "stop now"].contains(&text.as_str()),
            "{text:?}"
        );
    }
}

#[test]
fn bad_grammars_and_disallowed_tokens_are_typed_errors() {
    let tok = load("smollm2-135m-instruct");
    match Constraint::lark(&tok, "start: undefined_rule") {
        Err(bora_models::Error::ConstraintGrammar { source_kind, .. }) => {
            assert_eq!(source_kind, "Lark grammar")
        }
        other => panic!("expected ConstraintGrammar, got {other:?}"),
    }
    let mut c = Constraint::json_schema(&tok, &json!({"type": "object"})).expect("schema");
    let mask = c.compute_mask().unwrap();
    let x = tok.encode("x", false).unwrap()[0];
    assert!(!mask.is_allowed(x), "an object cannot start with x");
    match c.commit(x) {
        Err(bora_models::Error::ConstraintStep { token, .. }) => assert_eq!(token, Some(x)),
        other => panic!("expected ConstraintStep, got {other:?}"),
    }
}

/// A deterministic token choice among the allowed ids (ascending).
type Pick = fn(&[u32]) -> u32;

/// The plan schema with every value bounded (integers only), so that even a sampler that
/// always takes the lowest or highest allowed id must finish.
fn bounded_plan_schema() -> Value {
    let mut schema = plan_schema();
    schema["properties"]["plan"]["items"]["anyOf"][0]["properties"]["distance_m"] =
        json!({ "type": "integer", "minimum": -5, "maximum": 5 });
    schema
}

#[test]
fn extreme_samplers_still_produce_valid_plans() {
    for name in ["smollm2-135m-instruct", "gemma3-270m"] {
        let tok = load(name);
        let samplers: [(&str, Pick); 2] = [
            ("lowest id", |allowed| allowed[0]),
            ("highest id", |allowed| allowed[allowed.len() - 1]),
        ];
        for (label, pick) in samplers {
            let c = Constraint::json_schema(&tok, &bounded_plan_schema()).expect("schema");
            let (text, _) = run(&tok, c, pick);
            let value: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name} {label}: {text:?} is not JSON: {e}"));
            if let Some(why) = schema_violation(&value) {
                panic!("{name} {label}: {text} breaks the schema: {why}");
            }
            eprintln!("{name} {label}: {text}");
        }
    }
}

/// bora spells every token's bytes from its recipe instead of cloning the tokenizer into
/// `toktrie_hf_tokenizers::ByteTokenizer`; both must agree on every id (except that
/// ByteTokenizer also treats non-special added tokens spelled `<...>`, such as Gemma's
/// `<table>`, as special).
#[test]
fn token_bytes_agree_with_toktrie_hf_tokenizers() {
    for name in ["smollm2-135m-instruct", "gemma3-270m"] {
        let tok = load(name);
        let env = tok.tok_env().expect("token environment");
        let ours = env.tok_trie();
        let theirs = toktrie_hf_tokenizers::ByteTokenizer::from_tokenizer(tok.hf().clone())
            .expect("ByteTokenizer")
            .token_bytes();
        assert_eq!(ours.vocab_size(), tok.vocab_size());
        let added = tok.hf().get_added_tokens_decoder();
        let mut differ = Vec::new();
        for (id, want) in theirs.iter().enumerate() {
            let got = ours.token(id as u32);
            let marked_by_name = added.get(&(id as u32)).is_some_and(|t| {
                !t.special && t.content.starts_with('<') && t.content.ends_with('>')
            });
            if got != want.as_slice() && !(marked_by_name && want[1..] == *got) {
                differ.push((id, String::from_utf8_lossy(got).into_owned()));
            }
        }
        assert!(
            differ.is_empty(),
            "{name}: {} ids differ, e.g. {:?}",
            differ.len(),
            &differ[..differ.len().min(5)]
        );
    }
}
