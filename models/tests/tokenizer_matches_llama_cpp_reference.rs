//! The tokenizers built from GGUF metadata reproduce llama.cpp's `llama-tokenize` ids for
//! every line of the shared reference, for both models, and decode back to the same text
//! (whole and streamed token by token).

use std::path::PathBuf;
use std::time::Instant;

use bora_models::registry::{models_dir, resolve_model};
use bora_models::ModelTokenizer;

fn reference_dir() -> PathBuf {
    match std::env::var_os("BORA_REFERENCE_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"),
    }
}

struct Case {
    text: String,
    ids: Vec<u32>,
}

fn reference_cases(model_key: &str) -> Vec<Case> {
    let path = reference_dir().join("tokenize.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read the llama.cpp reference {}: {e}; run scripts/setup.sh (or set BORA_REFERENCE_DIR)",
            path.display()
        )
    });
    let cases: Vec<Case> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("reference line is JSON");
            Case {
                text: v["text"].as_str().expect("text").to_string(),
                ids: v[model_key]
                    .as_array()
                    .expect("ids")
                    .iter()
                    .map(|x| x.as_u64().expect("id") as u32)
                    .collect(),
            }
        })
        .collect();
    assert!(
        cases.len() >= 10,
        "reference {} has only {} lines",
        path.display(),
        cases.len()
    );
    cases
}

fn load(name: &str) -> ModelTokenizer {
    let path = resolve_model(name).unwrap_or_else(|e| {
        panic!(
            "{e} (model cache: {}); run scripts/setup.sh",
            models_dir().display()
        )
    });
    let start = Instant::now();
    let tok = ModelTokenizer::from_gguf_file(&path).expect("tokenizer builds");
    eprintln!(
        "{name}: tokenizer built in {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    tok
}

fn check_model(name: &str, key: &str) {
    let tok = load(name);
    let mut failures = Vec::new();
    for case in reference_cases(key) {
        let ids = tok.encode(&case.text, true).expect("encode");
        if ids != case.ids {
            failures.push(format!(
                "{:?}\n   got {:?}\n  want {:?}",
                case.text, ids, case.ids
            ));
            continue;
        }
        let decoded = tok.decode(&ids).expect("decode");
        if decoded != case.text {
            failures.push(format!("{:?} decodes to {decoded:?}", case.text));
        }
        let mut stream = tok.stream_decoder();
        let mut streamed = String::new();
        for &id in &ids {
            if let Some(piece) = stream.push(id).expect("stream push") {
                assert!(
                    !piece.contains('\u{FFFD}'),
                    "{name}: piece {piece:?} splits a character"
                );
                streamed.push_str(&piece);
            }
        }
        if let Some(rest) = stream.finish().expect("stream finish") {
            streamed.push_str(&rest);
        }
        if streamed != case.text {
            failures.push(format!("{:?} streams as {streamed:?}", case.text));
        }
    }
    assert!(
        failures.is_empty(),
        "{name}: {} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn smollm2_matches_reference() {
    check_model("smollm2-135m-instruct", "smollm2");
}

#[test]
fn gemma3_matches_reference() {
    check_model("gemma3-270m", "gemma3");
}

#[test]
fn special_tokens_are_text_when_parsing_is_off() {
    let tok = load("smollm2-135m-instruct");
    let text = "<|im_start|>user\nhi<|im_end|>";
    let im_start = tok
        .special_id("<|im_start|>")
        .expect("<|im_start|> is special");
    let im_end = tok.special_id("<|im_end|>").expect("<|im_end|> is special");
    let parsed = tok.encode(text, true).unwrap();
    assert_eq!(parsed.first(), Some(&im_start));
    assert_eq!(parsed.last(), Some(&im_end));
    let plain = tok.encode(text, false).unwrap();
    assert!(
        !plain.contains(&im_start) && !plain.contains(&im_end),
        "{plain:?}"
    );
    assert_eq!(tok.decode(&plain).unwrap(), text);
    assert!(tok.is_eos(im_end));
    assert!(!tok.add_bos());
}

#[test]
fn gemma3_special_ids_come_from_metadata() {
    let tok = load("gemma3-270m");
    assert_eq!(tok.bos_id(), Some(2));
    assert!(tok.add_bos());
    let end_of_turn = tok.special_id("<end_of_turn>").expect("<end_of_turn>");
    assert_eq!(tok.eos_ids(), &[1, end_of_turn]);
    assert_eq!(tok.vocab_size(), 262_144);
    let turn = "<start_of_turn>user\nstop<end_of_turn>";
    let start = tok.special_id("<start_of_turn>").unwrap();
    assert_eq!(tok.encode(turn, true).unwrap()[0], start);
    assert!(!tok.encode(turn, false).unwrap().contains(&start));
}

/// Characters outside Gemma 3's vocabulary become byte-fallback tokens (`<0xF0>`...); the
/// stream decoder holds them back until the character is complete.
#[test]
fn gemma3_byte_fallback_streams_whole_characters() {
    let tok = load("gemma3-270m");
    let byte_token = |id: u32| {
        tok.hf()
            .id_to_token(id)
            .is_some_and(|p| p.len() == 6 && p.starts_with("<0x"))
    };
    let candidates = [
        "\u{13000}",
        "\u{1D11E}",
        "\u{E000}",
        "\u{10FFFD}",
        "\u{2FA1D}",
    ];
    let rare = candidates
        .iter()
        .find(|c| tok.encode(c, false).unwrap().into_iter().any(byte_token))
        .expect("one of the candidates falls back to bytes");
    let text = format!("go {rare} now");
    let ids = tok.encode(&text, false).unwrap();
    assert!(
        ids.iter().filter(|&&id| byte_token(id)).count() >= 2,
        "{ids:?}"
    );
    assert_eq!(tok.decode(&ids).unwrap(), text);
    let mut stream = tok.stream_decoder();
    let mut pieces = Vec::new();
    for &id in &ids {
        if let Some(piece) = stream.push(id).unwrap() {
            assert!(!piece.contains('\u{FFFD}'), "{piece:?}");
            pieces.push(piece);
        }
    }
    assert!(stream.finish().unwrap().is_none());
    assert_eq!(pieces.concat(), text);
    assert!(pieces.iter().any(|p| p.contains(*rare)), "{pieces:?}");
}
