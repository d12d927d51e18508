//! The chat renderer produces exactly what the models' real Jinja templates produce
//! (expected strings rendered with jinja2 from SmolLM2's GGUF template and Gemma 3's
//! instruction-tuned template), and the family is detected from each GGUF file.

use std::path::PathBuf;

use bora_models::registry::{models_dir, resolve_model};
use bora_models::{ChatTemplate, Message};
use candle_core::quantized::gguf_file::Content;

const SMOLLM_SYSTEM: &str = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

fn conversations() -> Vec<(&'static str, Vec<Message>)> {
    vec![
        ("user_only", vec![Message::user("move forward 1 m")]),
        (
            "system_user",
            vec![
                Message::system("You drive a robot.\nAnswer in JSON."),
                Message::user("  turn left  "),
            ],
        ),
        (
            "multi",
            vec![
                Message::system("Be brief."),
                Message::user("stop"),
                Message::assistant("{\"action\":\"stop\"}"),
                Message::user("go back"),
            ],
        ),
    ]
}

/// (conversation, add_generation_prompt, SmolLM2 text, Gemma 3 text without its `<bos>`).
const EXPECTED: &[Expected] = &[
    (
        "user_only",
        true,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nmove forward 1 m<|im_end|>\n<|im_start|>assistant\n",
        "<start_of_turn>user\nmove forward 1 m<end_of_turn>\n<start_of_turn>model\n",
    ),
    (
        "user_only",
        false,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nmove forward 1 m<|im_end|>\n",
        "<start_of_turn>user\nmove forward 1 m<end_of_turn>\n",
    ),
    (
        "system_user",
        true,
        "<|im_start|>system\nYou drive a robot.\nAnswer in JSON.<|im_end|>\n<|im_start|>user\n  turn left  <|im_end|>\n<|im_start|>assistant\n",
        "<start_of_turn>user\nYou drive a robot.\nAnswer in JSON.\n\nturn left<end_of_turn>\n<start_of_turn>model\n",
    ),
    (
        "system_user",
        false,
        "<|im_start|>system\nYou drive a robot.\nAnswer in JSON.<|im_end|>\n<|im_start|>user\n  turn left  <|im_end|>\n",
        "<start_of_turn>user\nYou drive a robot.\nAnswer in JSON.\n\nturn left<end_of_turn>\n",
    ),
    (
        "multi",
        true,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nstop<|im_end|>\n<|im_start|>assistant\n{\"action\":\"stop\"}<|im_end|>\n<|im_start|>user\ngo back<|im_end|>\n<|im_start|>assistant\n",
        "<start_of_turn>user\nBe brief.\n\nstop<end_of_turn>\n<start_of_turn>model\n{\"action\":\"stop\"}<end_of_turn>\n<start_of_turn>user\ngo back<end_of_turn>\n<start_of_turn>model\n",
    ),
    (
        "multi",
        false,
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nstop<|im_end|>\n<|im_start|>assistant\n{\"action\":\"stop\"}<|im_end|>\n<|im_start|>user\ngo back<|im_end|>\n",
        "<start_of_turn>user\nBe brief.\n\nstop<end_of_turn>\n<start_of_turn>model\n{\"action\":\"stop\"}<end_of_turn>\n<start_of_turn>user\ngo back<end_of_turn>\n",
    ),
];

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

type Expected = (&'static str, bool, &'static str, &'static str);

fn check(template: &ChatTemplate, pick: fn(&Expected) -> &'static str) {
    let conversations = conversations();
    for expected in EXPECTED {
        let (name, add_generation_prompt, _, _) = *expected;
        let messages = &conversations
            .iter()
            .find(|(n, _)| *n == name)
            .expect("conversation")
            .1;
        assert_eq!(
            template.render(messages, add_generation_prompt),
            pick(expected),
            "{name}, add_generation_prompt={add_generation_prompt}"
        );
    }
}

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
    check(&template, |e| e.2);
}

#[test]
fn gemma3_renders_gemma_turns() {
    let template = template_of("gemma3-270m");
    assert_eq!(template, ChatTemplate::Gemma);
    assert_eq!(template.end_of_turn(), "<end_of_turn>");
    check(&template, |e| e.3);
}

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
