//! Tokenizers built from a GGUF file's own metadata, so that one file is the whole model.
//!
//! Two recipes reproduce llama.cpp's tokenization exactly (see DESIGN.md "Models"): byte-
//! level BPE for gpt2-style vocabularies ([`gpt2`]) and derived-merge BPE for llama /
//! SentencePiece vocabularies ([`spm`]). A `tokenizer.json` beside the GGUF file overrides
//! the built tokenizer.
//!
//! Special tokens: [`ModelTokenizer::encode`] with `parse_special = true` turns a control
//! token written in the text (`<|im_start|>`) into its single id, as `llama-tokenize` does;
//! with `false` the same characters are plain text, so user input cannot inject them.

mod gpt2;
mod special;
mod spm;
mod stream;
mod trie;
mod vocab;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use candle_core::quantized::gguf_file;
use llguidance::toktrie::TokEnv;
use llguidance::ParserFactory;
use tokenizers::Tokenizer;

use crate::{Error, Result};
use special::SpecialMatcher;
pub use stream::StreamDecoder;
use vocab::GgufVocab;

/// Name of the file beside a GGUF model that, when present, replaces the built tokenizer.
pub const TOKENIZER_JSON: &str = "tokenizer.json";

/// `tokenizer.ggml.model` values bora builds tokenizers for.
pub const SUPPORTED_TOKENIZER_MODELS: &[&str] = &["gpt2", "llama"];

/// Names of end-of-turn / end-of-text control tokens that also end a generation, as in
/// llama.cpp's end-of-generation set.
const END_OF_GENERATION: &[&str] = &[
    "<|im_end|>",
    "<|endoftext|>",
    "<end_of_turn>",
    "<eos>",
    "</s>",
    "<|eot_id|>",
    "<|end|>",
    "<|end_of_text|>",
];

/// The tokenizer.json that overrides the GGUF file `path`'s own tokenizer, if any:
/// `<file stem>.tokenizer.json` beside it (for a directory holding several models), else
/// `tokenizer.json` beside it.
pub fn tokenizer_json_for(path: &Path) -> Option<PathBuf> {
    let dir = path.parent()?;
    let specific = path
        .file_stem()
        .map(|stem| dir.join(format!("{}.{TOKENIZER_JSON}", stem.to_string_lossy())));
    specific
        .into_iter()
        .chain(std::iter::once(dir.join(TOKENIZER_JSON)))
        .find(|p| p.is_file())
}

/// Refuses a tokenizer.json made for another model: the pieces of the first and last
/// ids and of BOS/EOS must be those of the GGUF's vocabulary.
fn check_override_matches(json: &Path, hf: &Tokenizer, vocab: &GgufVocab<'_>) -> Result<()> {
    let last = vocab.tokens.len() as u32 - 1;
    for id in [Some(0), Some(last), vocab.bos, vocab.eos]
        .into_iter()
        .flatten()
    {
        let ours = vocab.tokens[id as usize];
        let theirs = hf.id_to_token(id);
        if theirs.as_deref() != Some(ours) {
            return Err(Error::Tokenizer {
                path: json.to_path_buf(),
                reason: format!(
                    "belongs to another model: token {id} is {theirs:?} there but {ours:?} in {}; \
                     remove it or put the right one there",
                    vocab.path.display()
                ),
            });
        }
    }
    Ok(())
}

/// A model's tokenizer: text to token ids and back, plus the model's special ids.
pub struct ModelTokenizer {
    hf: Arc<Tokenizer>,
    recipe: trie::Recipe,
    path: PathBuf,
    specials: SpecialMatcher,
    bos: Option<u32>,
    add_bos: bool,
    eos: Vec<u32>,
    vocab_size: usize,
    /// Bytes the byte-level vocabulary cannot spell (see `gpt2::unrepresentable_bytes`);
    /// `None` when every byte has a token.
    unrepresentable: Option<Box<[bool; 256]>>,
    parser_factory: OnceLock<Arc<ParserFactory>>,
}

impl std::fmt::Debug for ModelTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelTokenizer")
            .field("path", &self.path)
            .field("vocab_size", &self.vocab_size)
            .field("bos", &self.bos)
            .field("add_bos", &self.add_bos)
            .field("eos", &self.eos)
            .finish_non_exhaustive()
    }
}

impl ModelTokenizer {
    /// Builds the tokenizer of the GGUF file `path` from its already-read metadata, or
    /// loads `tokenizer.json` from the same directory when that file exists.
    #[tracing::instrument(skip_all, err, fields(path = %path.display()))]
    pub fn from_gguf(path: &Path, content: &gguf_file::Content) -> Result<ModelTokenizer> {
        let vocab = GgufVocab::read(path, content)?;
        let override_path = tokenizer_json_for(path);
        let recipe = match (&override_path, vocab.model.as_str()) {
            (Some(_), _) => trie::Recipe::TokenizerJson,
            (None, "gpt2") => trie::Recipe::ByteLevel,
            (None, _) => trie::Recipe::SentencePiece,
        };
        let mut hf = match &override_path {
            Some(json) => Tokenizer::from_file(json).map_err(|e| Error::Tokenizer {
                path: json.clone(),
                reason: format!("cannot load it: {e}; fix or remove the file to use the GGUF's own tokenizer"),
            })?,
            None => match vocab.model.as_str() {
                "gpt2" => gpt2::build(&vocab)?,
                "llama" => spm::build(&vocab)?,
                other => {
                    return Err(vocab.error(
                        "tokenizer.ggml.model",
                        format!(
                            "is `{other}`, which bora cannot build (supported: {}); put the model's {TOKENIZER_JSON} beside the file",
                            SUPPORTED_TOKENIZER_MODELS.join(", ")
                        ),
                    ))
                }
            },
        };
        if let Some(json) = &override_path {
            check_override_matches(json, &hf, &vocab)?;
        }
        // Special tokens are split out by `SpecialMatcher` when parsing is asked for; the
        // wrapped tokenizer itself always treats them as text.
        hf.set_encode_special_tokens(true);
        let specials = SpecialMatcher::new(
            hf.get_added_tokens_decoder()
                .into_iter()
                .filter(|(_, t)| t.special)
                .map(|(id, t)| (t.content, id)),
        );
        // `get_vocab_size(true)` builds the whole vocabulary map: only ask an override.
        let vocab_size = match override_path {
            Some(_) => vocab.tokens.len().max(hf.get_vocab_size(true)),
            None => vocab.tokens.len(),
        };
        let mut eos: Vec<u32> = vocab.eos.into_iter().chain(vocab.eot).collect();
        for name in END_OF_GENERATION {
            if let Some(id) = specials.id(name) {
                eos.push(id);
            }
        }
        let mut seen = std::collections::HashSet::new();
        eos.retain(|id| seen.insert(*id));
        let unrepresentable = match recipe {
            trie::Recipe::ByteLevel => Some(gpt2::unrepresentable_bytes(&vocab.tokens))
                .filter(|m| m.contains(&true))
                .map(Box::new),
            _ => None,
        };
        Ok(ModelTokenizer {
            hf: Arc::new(hf),
            recipe,
            path: override_path.unwrap_or_else(|| path.to_path_buf()),
            specials,
            bos: vocab.bos,
            add_bos: vocab.add_bos.unwrap_or(vocab.model == "llama"),
            eos,
            vocab_size,
            unrepresentable,
            parser_factory: OnceLock::new(),
        })
    }

    /// Opens the GGUF file `path`, reads and validates its header only (no tensor data)
    /// and builds the tokenizer as [`ModelTokenizer::from_gguf`] does.
    pub fn from_gguf_file(path: &Path) -> Result<ModelTokenizer> {
        let file = crate::gguf::GgufFile::open(path)?;
        Self::from_gguf(path, file.content())
    }

    /// Token ids of `text`; never adds BOS. With `parse_special`, control tokens written
    /// in the text become their ids; without, they are tokenized as plain text (use this
    /// for anything a user typed or said).
    pub fn encode(&self, text: &str, parse_special: bool) -> Result<Vec<u32>> {
        let mut ids = Vec::with_capacity(text.len() / 3 + 1);
        if parse_special {
            for segment in self.specials.split(text) {
                match segment {
                    special::Segment::Special(id) => ids.push(id),
                    special::Segment::Text(t) => self.encode_text(t, &mut ids)?,
                }
            }
        } else {
            self.encode_text(text, &mut ids)?;
        }
        Ok(ids)
    }

    fn encode_text(&self, text: &str, ids: &mut Vec<u32>) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let text = self.representable(text);
        let encoding = self
            .hf
            .encode(text.as_ref(), false)
            .map_err(|e| Error::Tokenizer {
                path: self.path.clone(),
                reason: format!("cannot encode {} bytes of text: {e}", text.len()),
            })?;
        ids.extend_from_slice(encoding.get_ids());
        Ok(())
    }

    /// `text` as the vocabulary can spell it: every character with a byte that no token
    /// spells becomes U+FFFD, so it is encoded as one visible replacement character instead
    /// of losing bytes (which left stray UTF-8 fragments). Decoding what [`Self::encode`]
    /// gives for plain text returns exactly this. Only byte-level vocabularies with gaps
    /// (SmolLM2: U+0004, U+0006, U+0013, U+0014, U+0016, U+001D and the unassigned planes
    /// 4 to 11) change anything; llama.cpp drops those bytes instead.
    pub fn representable<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        let Some(missing) = &self.unrepresentable else {
            return std::borrow::Cow::Borrowed(text);
        };
        if !text.bytes().any(|b| missing[usize::from(b)]) {
            return std::borrow::Cow::Borrowed(text);
        }
        let mut buf = [0u8; 4];
        std::borrow::Cow::Owned(
            text.chars()
                .map(|c| {
                    if c.encode_utf8(&mut buf)
                        .bytes()
                        .any(|b| missing[usize::from(b)])
                    {
                        char::REPLACEMENT_CHARACTER
                    } else {
                        c
                    }
                })
                .collect(),
        )
    }

    /// The text of `ids`, special tokens included (as llama.cpp prints them).
    pub fn decode(&self, ids: &[u32]) -> Result<String> {
        if let Some(bad) = ids.iter().find(|&&id| id as usize >= self.vocab_size) {
            return Err(Error::Tokenizer {
                path: self.path.clone(),
                reason: format!(
                    "cannot decode token id {bad}: the vocabulary has {} tokens",
                    self.vocab_size
                ),
            });
        }
        self.hf.decode(ids, false).map_err(|e| Error::Tokenizer {
            path: self.path.clone(),
            reason: format!("cannot decode {} token ids: {e}", ids.len()),
        })
    }

    /// An incremental decoder for streaming generated tokens as text.
    pub fn stream_decoder(&self) -> StreamDecoder<'_> {
        StreamDecoder::new(self)
    }

    /// The beginning-of-sequence id, if the model has one.
    pub fn bos_id(&self) -> Option<u32> {
        self.bos
    }

    /// Whether a prompt should start with [`Self::bos_id`] (`tokenizer.ggml.add_bos_token`;
    /// when absent, true for SentencePiece vocabularies, as in llama.cpp).
    pub fn add_bos(&self) -> bool {
        self.add_bos && self.bos.is_some()
    }

    /// Ids that end a generation: EOS, then end-of-turn tokens (`<|im_end|>`,
    /// `<end_of_turn>`, ...) present in the vocabulary. Never empty unless the model
    /// declares no EOS and has none of the known end tokens.
    pub fn eos_ids(&self) -> &[u32] {
        &self.eos
    }

    /// Whether `id` ends a generation (one of [`Self::eos_ids`]).
    pub fn is_eos(&self, id: u32) -> bool {
        self.eos.contains(&id)
    }

    /// Number of token ids (the model's logits have at least this many entries).
    pub fn vocab_size(&self) -> usize {
        self.vocab_size
    }

    /// The id of a special (control) token written as text, e.g. `<|im_start|>`.
    pub fn special_id(&self, token: &str) -> Option<u32> {
        self.specials.id(token)
    }

    /// The file the tokenizer came from (the GGUF, or the overriding tokenizer.json).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying `tokenizers` tokenizer. It treats special tokens as plain text;
    /// use [`Self::encode`] to parse them.
    pub fn hf(&self) -> &Tokenizer {
        &self.hf
    }

    /// The token trie environment llguidance needs, built on first use and shared by
    /// every constraint made for this tokenizer.
    pub fn tok_env(&self) -> Result<TokEnv> {
        Ok(self.parser_factory()?.tok_env().clone())
    }

    /// Builds the constrained-decoding machinery now rather than on the first
    /// [`crate::Constraint`]: about 0.2 s for SmolLM2 and 1.5 s for Gemma 3 on a loaded
    /// 2-core x86 machine. Call it at startup so the first command's time to first token
    /// does not pay for it.
    pub fn prepare_constraints(&self) -> Result<()> {
        self.parser_factory().map(|_| ())
    }

    /// llguidance's grammar compiler for this vocabulary (token trie plus the slices it
    /// precomputes), built on first use (see [`Self::prepare_constraints`]) and shared by
    /// every constraint made for this tokenizer.
    pub(crate) fn parser_factory(&self) -> Result<Arc<ParserFactory>> {
        if let Some(factory) = self.parser_factory.get() {
            return Ok(factory.clone());
        }
        let env = self.build_tok_env()?;
        let mut factory = ParserFactory::new_simple(&env).map_err(|e| Error::Tokenizer {
            path: self.path.clone(),
            reason: format!("cannot prepare the vocabulary for constrained decoding: {e}"),
        })?;
        // Grammar warnings go to the error values, not to stderr.
        factory.quiet();
        Ok(self
            .parser_factory
            .get_or_init(|| Arc::new(factory))
            .clone())
    }

    fn build_tok_env(&self) -> Result<TokEnv> {
        trie::build_env(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn tokenizer_can_be_shared_between_threads() {
        assert_send_sync::<ModelTokenizer>();
    }
}
