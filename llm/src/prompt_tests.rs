//! The tuned prompt's split into a cached prefix and the command's part gives the tokens
//! `bora tune` trained on (the whole prompt encoded as one text), for every command of the
//! intent data and for texts that start or end at odd characters.

use super::PromptShape;
use bora_models::registry::resolve_model;
use bora_models::ModelTokenizer;

/// The commands of the intent data files, then edge cases.
fn commands() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/data/intents");
    let mut texts = Vec::new();
    for file in [
        "train.jsonl",
        "dev.jsonl",
        "dev_copy.jsonl",
        "heldout.jsonl",
    ] {
        let path = format!("{dir}/{file}");
        let data = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        for line in data.lines().filter(|l| !l.trim().is_empty()) {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            texts.push(v["text"].as_str().expect("a text field").to_string());
        }
    }
    for edge in [
        "",
        " turn left",
        "  two spaces",
        ":)",
        "::",
        ": colon first",
        "\tstart tab",
        "\nnew line",
        "Input: nested",
        "ünïcode first",
        "123 go",
        "'s go",
        "end space ",
    ] {
        texts.push(edge.to_string());
    }
    texts
}

#[test]
fn the_cached_prefix_and_the_command_give_the_tokens_tune_trained_on() {
    let path = resolve_model("smollm2-135m-instruct")
        .unwrap_or_else(|e| panic!("model not available ({e}); run scripts/setup.sh"));
    let tok = ModelTokenizer::from_gguf_file(&path).expect("tokenizer");
    let shape = PromptShape::tuned();
    let prefix = tok.encode(&shape.prefix, true).expect("prefix encodes");
    let commands = commands();
    assert!(
        commands.len() > 6000,
        "intent data missing: {}",
        commands.len()
    );
    for cmd in &commands {
        let mut split = prefix.clone();
        let part = format!("{}{cmd}{}", shape.head, shape.tail);
        split.extend(tok.encode(&part, false).expect("command encodes"));
        let trained = tok
            .encode(&bora_tune::prompt_for(cmd), false)
            .expect("prompt encodes");
        assert_eq!(split, trained, "command {cmd:?}");
    }
}
