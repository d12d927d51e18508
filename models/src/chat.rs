//! Chat templates: turning a conversation into the prompt text a model was trained on.
//!
//! Two families are rendered by small, tested code rather than a general Jinja engine:
//! ChatML (`<|im_start|>role ... <|im_end|>`, SmolLM2, Qwen) and Gemma's turns
//! (`<start_of_turn>user ... <end_of_turn>`). The family is detected from the GGUF's
//! `tokenizer.chat_template`; a file without a template (Gemma 3 base models ship none)
//! falls back to its architecture's family; anything else is [`Error::UnknownChatTemplate`].
//!
//! The rendered text contains control tokens, so encode it with special parsing on, and
//! put user text only into [`Message::content`]: it is copied verbatim, so a user who types
//! `<|im_end|>` could close a turn. The language stage should therefore encode user
//! content separately with parsing off, or reject such text before rendering.

use std::path::Path;

use candle_core::quantized::gguf_file::{Content, Value};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model (the system prompt).
    System,
    /// The person (here: the robot's operator).
    User,
    /// The model's earlier answers (Gemma calls this role `model`).
    Assistant,
}

impl Role {
    /// The role's name as ChatML writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks.
    pub role: Role,
    /// What is said, verbatim.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant (model) message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A chat template family bora can render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatTemplate {
    /// ChatML: `<|im_start|>{role}\n{content}<|im_end|>\n` per message.
    ChatMl {
        /// System prompt the template inserts when the conversation does not start with
        /// one (SmolLM2's template says "You are a helpful AI assistant named SmolLM...").
        default_system: Option<String>,
    },
    /// Gemma: `<start_of_turn>{user|model}\n{content, trimmed}<end_of_turn>\n` per
    /// message; a system message is prepended to the first user turn, followed by a
    /// blank line.
    Gemma,
}

const IM_START: &str = "<|im_start|>";
const IM_END: &str = "<|im_end|>";
const START_OF_TURN: &str = "<start_of_turn>";
const END_OF_TURN: &str = "<end_of_turn>";

impl ChatTemplate {
    /// Detects the template family of a GGUF file from its metadata.
    pub fn from_gguf(path: &Path, content: &Content) -> Result<ChatTemplate> {
        let string = |key: &str| match content.metadata.get(key) {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        };
        Self::detect(
            string("tokenizer.chat_template"),
            string("general.architecture"),
        )
        .ok_or_else(|| Error::UnknownChatTemplate {
            path: path.to_path_buf(),
            excerpt: match string("tokenizer.chat_template") {
                Some(t) => t.chars().take(80).collect(),
                None => "(no tokenizer.chat_template, and the architecture has no known default)"
                    .to_string(),
            },
        })
    }

    /// Detects the family from a template's text, or, when there is none, from the model
    /// architecture (`gemma*` -> Gemma). `None` when neither says.
    pub fn detect(template: Option<&str>, architecture: Option<&str>) -> Option<ChatTemplate> {
        match template {
            Some(t) if t.contains(IM_START) => Some(ChatTemplate::ChatMl {
                default_system: chatml_default_system(t),
            }),
            Some(t) if t.contains(START_OF_TURN) => Some(ChatTemplate::Gemma),
            Some(_) => None,
            None => match architecture {
                Some(arch) if arch.starts_with("gemma") => Some(ChatTemplate::Gemma),
                _ => None,
            },
        }
    }

    /// Renders `messages` as the template does, then, with `add_generation_prompt`, the
    /// opening of the model's turn.
    ///
    /// Gemma's template starts with the BOS token; it is left out here because the
    /// caller adds the BOS id when [`crate::ModelTokenizer::add_bos`] says so (two BOS
    /// tokens would change the output). Role order is not checked (Gemma's template
    /// raises on non-alternating turns; bora's prompts are built by code).
    pub fn render(&self, messages: &[Message], add_generation_prompt: bool) -> String {
        let mut out = String::with_capacity(
            messages.iter().map(|m| m.content.len() + 32).sum::<usize>() + 128,
        );
        match self {
            ChatTemplate::ChatMl { default_system } => {
                if let (Some(system), Some(first)) = (default_system, messages.first()) {
                    if first.role != Role::System {
                        push_chatml(&mut out, "system", system);
                    }
                }
                for m in messages {
                    push_chatml(&mut out, m.role.as_str(), &m.content);
                }
                if add_generation_prompt {
                    out.push_str(IM_START);
                    out.push_str("assistant\n");
                }
            }
            ChatTemplate::Gemma => {
                let (prefix, turns) = match messages.split_first() {
                    Some((first, rest)) if first.role == Role::System => {
                        (Some(first.content.as_str()), rest)
                    }
                    _ => (None, messages),
                };
                for (i, m) in turns.iter().enumerate() {
                    out.push_str(START_OF_TURN);
                    out.push_str(match m.role {
                        Role::Assistant => "model",
                        other => other.as_str(),
                    });
                    out.push('\n');
                    if let (0, Some(system)) = (i, prefix) {
                        out.push_str(system);
                        out.push_str("\n\n");
                    }
                    out.push_str(m.content.trim());
                    out.push_str(END_OF_TURN);
                    out.push('\n');
                }
                if add_generation_prompt {
                    out.push_str(START_OF_TURN);
                    out.push_str("model\n");
                }
            }
        }
        out
    }

    /// The control token that closes a turn (generation should stop there).
    pub fn end_of_turn(&self) -> &'static str {
        match self {
            ChatTemplate::ChatMl { .. } => IM_END,
            ChatTemplate::Gemma => END_OF_TURN,
        }
    }
}

fn push_chatml(out: &mut String, role: &str, content: &str) {
    out.push_str(IM_START);
    out.push_str(role);
    out.push('\n');
    out.push_str(content);
    out.push_str(IM_END);
    out.push('\n');
}

/// The literal system prompt a ChatML template writes when the conversation has none:
/// the text between `<|im_start|>system` + newline and `<|im_end|>` in a string literal.
fn chatml_default_system(template: &str) -> Option<String> {
    let marker = "<|im_start|>system";
    let start = template.find(marker)? + marker.len();
    let rest = &template[start..];
    let rest = rest
        .strip_prefix('\n')
        .or_else(|| rest.strip_prefix("\\n"))?;
    let text = &rest[..rest.find(IM_END)?];
    // A Jinja expression (`' + message['content'] + '`) is not a literal default.
    if text.contains('\'') || text.contains('"') || text.contains("{{") || text.contains("{%") {
        return None;
    }
    Some(text.replace("\\n", "\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_system_is_read_from_the_template_literal() {
        let t = "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nBe nice<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role']}}";
        assert_eq!(chatml_default_system(t).as_deref(), Some("Be nice"));
        let escaped = "{{ '<|im_start|>system\\nLine one\\nLine two<|im_end|>\\n' }}";
        assert_eq!(
            chatml_default_system(escaped).as_deref(),
            Some("Line one\nLine two")
        );
        let generic =
            "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>'}}";
        assert_eq!(chatml_default_system(generic), None);
    }

    #[test]
    fn detection_prefers_the_template_then_the_architecture() {
        assert_eq!(
            ChatTemplate::detect(Some("{{'<|im_start|>' + m}}"), Some("gemma3")),
            Some(ChatTemplate::ChatMl {
                default_system: None
            })
        );
        assert_eq!(
            ChatTemplate::detect(Some("<start_of_turn>"), None),
            Some(ChatTemplate::Gemma)
        );
        assert_eq!(
            ChatTemplate::detect(None, Some("gemma3")),
            Some(ChatTemplate::Gemma)
        );
        assert_eq!(ChatTemplate::detect(None, Some("llama")), None);
        assert_eq!(
            ChatTemplate::detect(Some("[INST] {{ m }} [/INST]"), Some("llama")),
            None
        );
    }

    #[test]
    fn gemma_drops_a_lone_system_message_as_its_template_does() {
        let out = ChatTemplate::Gemma.render(&[Message::system("rules")], true);
        assert_eq!(out, "<start_of_turn>model\n");
    }
}
