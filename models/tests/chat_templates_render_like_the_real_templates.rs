//! The chat renderer produces exactly what the models' real Jinja templates produce, and
//! the family is detected from each GGUF file. The expected strings are in
//! `models/tests/data/chat_templates/references.json`, rendered with jinja2 by
//! `scripts/chat-template-references.py` from SmolLM2's GGUF template and Gemma 3's
//! instruction-tuned template (`gemma3-it.jinja` beside it); re-run that script (its
//! `--check` says whether the file is current) rather than editing the strings by hand.

use std::path::PathBuf;

use bora_models::registry::{models_dir, resolve_model};
use bora_models::{ChatTemplate, Message};
use candle_core::quantized::gguf_file::Content;
use serde_json::Value;

const SMOLLM_SYSTEM: &str = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

/// The references written by scripts/chat-template-references.py.
fn references() -> Value {
    let text = include_str!("data/chat_templates/references.json");
    serde_json::from_str(text).expect("references.json is JSON")
}

/// Conversation `name` of the references, as bora messages.
fn conversation(refs: &Value, name: &str) -> Vec<Message> {
    let messages = refs["conversations"][name]
        .as_array()
        .unwrap_or_else(|| panic!("no conversation {name:?} in references.json"));
    messages
        .iter()
        .map(|m| {
            let content = m["content"].as_str().expect("content");
            match m["role"].as_str() {
                Some("system") => Message::system(content),
                Some("user") => Message::user(content),
                Some("assistant") => Message::assistant(content),
                other => panic!("role {other:?} in references.json"),
            }
        })
        .collect()
}

fn template_of(name: &str) -> ChatTemplate {
    let path: PathBuf = resolve_model(name).unwrap_or_else(|e| {
        panic!(
            "{e} (model cache: {}); run scripts/setup.sh",
            models_dir().display()
        )
    });
    let mut file = std::io::BufReader::new(std::fs::File::open(&path).expect("open model"));
    let content = Content::read(&mut file).expect("GGUF metadata");
    ChatTemplate::from_gguf(&path, &content).expect("template detected")
}

/// Renders every reference case with `template` and compares it with the case's `model`
/// text ("smollm2" or "gemma3").
fn check(template: &ChatTemplate, model: &str) {
    let refs = references();
    let cases = refs["cases"].as_array().expect("cases");
    // Three conversations, with and without the generation prompt.
    assert_eq!(
        cases.len(),
        6,
        "references.json holds {} cases",
        cases.len()
    );
    for case in cases {
        let name = case["conversation"].as_str().expect("conversation");
        let add_generation_prompt = case["add_generation_prompt"].as_bool().expect("flag");
        let expected = case[model].as_str().expect("expected text");
        assert_eq!(
            template.render(&conversation(&refs, name), add_generation_prompt),
            expected,
            "{name}, add_generation_prompt={add_generation_prompt}"
        );
    }
}

/// SmolLM2's GGUF template is recognised as ChatML with its default system prompt, and
/// renders every reference conversation exactly as jinja2 does.
#[test]
fn smollm2_renders_chatml_with_its_default_system_prompt() {
    let template = template_of("smollm2-135m-instruct");
    assert_eq!(
        template,
        ChatTemplate::ChatMl {
            default_system: Some(SMOLLM_SYSTEM.to_string())
        }
    );
    assert_eq!(template.end_of_turn(), "<|im_end|>");
    check(&template, "smollm2");
}

/// Gemma 3 is recognised from its architecture (the base GGUF has no template) and renders
/// every reference conversation exactly as jinja2 does with the instruction-tuned template.
#[test]
fn gemma3_renders_gemma_turns() {
    let template = template_of("gemma3-270m");
    assert_eq!(template, ChatTemplate::Gemma);
    assert_eq!(template.end_of_turn(), "<end_of_turn>");
    check(&template, "gemma3");
}

/// A template of no known family is a typed error naming the file and the template.
#[test]
fn an_unknown_template_is_a_typed_error() {
    let content = Content {
        magic: candle_core::quantized::gguf_file::VersionedMagic::GgufV3,
        metadata: [(
            "tokenizer.chat_template".to_string(),
            candle_core::quantized::gguf_file::Value::String("[INST] {{ m }} [/INST]".into()),
        )]
        .into_iter()
        .collect(),
        tensor_infos: Default::default(),
        tensor_data_offset: 0,
    };
    let path = PathBuf::from("/models/mistral.gguf");
    match ChatTemplate::from_gguf(&path, &content) {
        Err(bora_models::Error::UnknownChatTemplate { path: p, excerpt }) => {
            assert_eq!(p, path);
            assert_eq!(excerpt, "[INST] {{ m }} [/INST]");
        }
        other => panic!("expected UnknownChatTemplate, got {other:?}"),
    }
}
