//! A GGUF whose vocabulary cannot make a tokenizer (no merges for a BPE vocabulary, no
//! scores for a SentencePiece one, an unknown tokenizer model or pre-tokenizer, lists of
//! different lengths, ids outside the vocabulary) gives a typed error naming the file and
//! the metadata key; tiny complete vocabularies work; a tokenizer.json beside the file
//! overrides the built tokenizer.

use std::path::{Path, PathBuf};

use bora_models::{Error, ModelTokenizer};
use candle_core::quantized::gguf_file::{self, Value};

fn strings(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.to_string())).collect())
}

fn ints(items: &[i32]) -> Value {
    Value::Array(items.iter().map(|&i| Value::I32(i)).collect())
}

fn floats(items: &[f32]) -> Value {
    Value::Array(items.iter().map(|&f| Value::F32(f)).collect())
}

/// Writes a metadata-only GGUF named `name` into `dir`.
fn write_gguf(dir: &Path, name: &str, metadata: &[(&str, Value)]) -> PathBuf {
    let path = dir.join(name);
    let mut file = std::fs::File::create(&path).expect("create gguf");
    let refs: Vec<(&str, &Value)> = metadata.iter().map(|(k, v)| (*k, v)).collect();
    gguf_file::write(&mut file, &refs, &[]).expect("write gguf");
    path
}

/// A complete byte-level BPE vocabulary: "a", "b", "ab" and one control token.
fn gpt2_vocab() -> Vec<(&'static str, Value)> {
    vec![
        ("general.architecture", Value::String("llama".into())),
        ("tokenizer.ggml.model", Value::String("gpt2".into())),
        ("tokenizer.ggml.pre", Value::String("smollm".into())),
        (
            "tokenizer.ggml.tokens",
            strings(&["a", "b", "ab", "<|end|>"]),
        ),
        ("tokenizer.ggml.token_type", ints(&[1, 1, 1, 3])),
        ("tokenizer.ggml.merges", strings(&["a b"])),
        ("tokenizer.ggml.eos_token_id", Value::U32(3)),
    ]
}

/// A complete SentencePiece vocabulary with scores and byte fallback.
fn spm_vocab() -> Vec<(&'static str, Value)> {
    vec![
        ("general.architecture", Value::String("gemma3".into())),
        ("tokenizer.ggml.model", Value::String("llama".into())),
        (
            "tokenizer.ggml.tokens",
            strings(&[
                "<unk>",
                "<bos>",
                "<eos>",
                "<0x63>",
                "a",
                "b",
                "\u{2581}",
                "ab",
                "\u{2581}ab",
            ]),
        ),
        (
            "tokenizer.ggml.token_type",
            ints(&[2, 3, 3, 6, 1, 1, 1, 1, 1]),
        ),
        (
            "tokenizer.ggml.scores",
            floats(&[0.0, 0.0, 0.0, 0.0, -1.0, -1.0, -1.0, -2.0, -3.0]),
        ),
        ("tokenizer.ggml.add_space_prefix", Value::Bool(false)),
        ("tokenizer.ggml.bos_token_id", Value::U32(1)),
        ("tokenizer.ggml.eos_token_id", Value::U32(2)),
    ]
}

fn without(mut vocab: Vec<(&'static str, Value)>, key: &str) -> Vec<(&'static str, Value)> {
    vocab.retain(|(k, _)| *k != key);
    vocab
}

fn with(
    mut vocab: Vec<(&'static str, Value)>,
    key: &'static str,
    value: Value,
) -> Vec<(&'static str, Value)> {
    vocab.retain(|(k, _)| *k != key);
    vocab.push((key, value));
    vocab
}

/// Builds the tokenizer of `metadata` and returns the metadata key its error names.
fn failing_key(metadata: &[(&str, Value)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write_gguf(dir.path(), "model.gguf", metadata);
    match ModelTokenizer::from_gguf_file(&path) {
        Err(Error::Metadata { path: p, key, .. }) => {
            assert_eq!(p, path, "the error names the file");
            key
        }
        other => panic!("expected a metadata error, got {other:?}"),
    }
}

#[test]
fn bpe_vocabulary_without_merges() {
    let key = failing_key(&without(gpt2_vocab(), "tokenizer.ggml.merges"));
    assert_eq!(key, "tokenizer.ggml.merges");
}

#[test]
fn sentencepiece_vocabulary_without_scores() {
    let key = failing_key(&without(spm_vocab(), "tokenizer.ggml.scores"));
    assert_eq!(key, "tokenizer.ggml.scores");
}

#[test]
fn sentencepiece_vocabulary_that_wants_a_space_prefix() {
    // llama.cpp prepends a space when the key is true or absent; bora does not.
    let key = failing_key(&without(spm_vocab(), "tokenizer.ggml.add_space_prefix"));
    assert_eq!(key, "tokenizer.ggml.add_space_prefix");
    let key = failing_key(&with(
        spm_vocab(),
        "tokenizer.ggml.add_space_prefix",
        Value::Bool(true),
    ));
    assert_eq!(key, "tokenizer.ggml.add_space_prefix");
}

#[test]
fn no_tokenizer_or_an_unknown_one() {
    assert_eq!(
        failing_key(&without(gpt2_vocab(), "tokenizer.ggml.model")),
        "tokenizer.ggml.model"
    );
    assert_eq!(
        failing_key(&with(
            gpt2_vocab(),
            "tokenizer.ggml.model",
            Value::String("bert".into())
        )),
        "tokenizer.ggml.model"
    );
    assert_eq!(
        failing_key(&with(
            gpt2_vocab(),
            "tokenizer.ggml.pre",
            Value::String("qwen2".into())
        )),
        "tokenizer.ggml.pre"
    );
    assert_eq!(
        failing_key(&without(gpt2_vocab(), "tokenizer.ggml.pre")),
        "tokenizer.ggml.pre"
    );
    assert_eq!(
        failing_key(&without(gpt2_vocab(), "tokenizer.ggml.tokens")),
        "tokenizer.ggml.tokens"
    );
}

#[test]
fn inconsistent_lists_and_ids() {
    assert_eq!(
        failing_key(&with(
            gpt2_vocab(),
            "tokenizer.ggml.token_type",
            ints(&[1, 1])
        )),
        "tokenizer.ggml.token_type"
    );
    assert_eq!(
        failing_key(&with(spm_vocab(), "tokenizer.ggml.scores", floats(&[0.0]))),
        "tokenizer.ggml.scores"
    );
    assert_eq!(
        failing_key(&with(
            gpt2_vocab(),
            "tokenizer.ggml.eos_token_id",
            Value::U32(99)
        )),
        "tokenizer.ggml.eos_token_id"
    );
    assert_eq!(
        failing_key(&with(
            gpt2_vocab(),
            "tokenizer.ggml.merges",
            strings(&["ab"])
        )),
        "tokenizer.ggml.merges"
    );
    assert_eq!(
        failing_key(&with(gpt2_vocab(), "tokenizer.ggml.tokens", Value::U32(7))),
        "tokenizer.ggml.tokens"
    );
}

#[test]
fn tiny_complete_vocabularies_work() {
    let dir = tempfile::tempdir().unwrap();
    let bpe =
        ModelTokenizer::from_gguf_file(&write_gguf(dir.path(), "bpe.gguf", &gpt2_vocab())).unwrap();
    assert_eq!(bpe.encode("abab<|end|>", true).unwrap(), vec![2, 2, 3]);
    assert_eq!(bpe.eos_ids(), &[3]);
    assert!(!bpe.add_bos());

    let spm =
        ModelTokenizer::from_gguf_file(&write_gguf(dir.path(), "spm.gguf", &spm_vocab())).unwrap();
    // ' ab' is one piece; 'c' only exists as a byte-fallback token.
    assert_eq!(spm.encode(" abc", false).unwrap(), vec![8, 3]);
    assert_eq!(spm.decode(&[8, 3]).unwrap(), " abc");
    assert_eq!(spm.encode("<bos>", true).unwrap(), vec![1]);
    assert!(
        spm.add_bos(),
        "SentencePiece vocabularies add BOS unless told otherwise"
    );
    assert_eq!(spm.bos_id(), Some(1));
    let err = spm.decode(&[42]).unwrap_err();
    assert!(matches!(err, Error::Tokenizer { .. }), "{err:?}");
}

#[test]
fn tokenizer_json_beside_the_file_overrides_the_built_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_gguf(dir.path(), "model.gguf", &gpt2_vocab());
    // Same pieces, no merges: "ab" stays two tokens when the override is in use.
    let json = r#"{
        "version": "1.0", "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
        "model": {"type": "BPE", "dropout": null, "unk_token": null,
                  "continuing_subword_prefix": null, "end_of_word_suffix": null,
                  "fuse_unk": false, "byte_fallback": false,
                  "vocab": {"a": 0, "b": 1, "ab": 2, "<|end|>": 3}, "merges": []}
    }"#;
    let json_path = dir.path().join("tokenizer.json");
    std::fs::write(&json_path, json).unwrap();
    let tok = ModelTokenizer::from_gguf_file(&path).unwrap();
    assert_eq!(tok.path(), json_path);
    assert_eq!(tok.encode("ab", false).unwrap(), vec![0, 1]);

    // A model-specific file beats the shared one.
    let specific = dir.path().join("model.tokenizer.json");
    std::fs::write(
        &specific,
        json.replace(r#""merges": []"#, r#""merges": ["a b"]"#),
    )
    .unwrap();
    let tok = ModelTokenizer::from_gguf_file(&path).unwrap();
    assert_eq!(tok.path(), specific);
    assert_eq!(tok.encode("ab", false).unwrap(), vec![2]);
    std::fs::remove_file(&specific).unwrap();

    // One made for another vocabulary is refused.
    std::fs::write(&json_path, json.replace(r#""<|end|>": 3"#, r#""<eos>": 3"#)).unwrap();
    match ModelTokenizer::from_gguf_file(&path) {
        Err(Error::Tokenizer { path: p, reason }) => {
            assert_eq!(p, json_path);
            assert!(reason.contains("another model"), "{reason}");
        }
        other => panic!("expected a tokenizer error for a foreign tokenizer.json, got {other:?}"),
    }

    std::fs::write(&json_path, "{ not json").unwrap();
    match ModelTokenizer::from_gguf_file(&path) {
        Err(Error::Tokenizer { path: p, .. }) => assert_eq!(p, json_path),
        other => panic!("expected a tokenizer error naming tokenizer.json, got {other:?}"),
    }
}
