//! The tokenizer part of a GGUF file's metadata, read once into plain Rust types
//! (stage one of configuration: mirror the file, with typed errors naming the key).

use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{Content, Value};

use crate::{Error, Result};

/// GGUF token types (llama.cpp's `llama_token_type`).
pub(crate) mod token_type {
    /// An ordinary vocabulary piece.
    pub const NORMAL: i32 = 1;
    /// A control token (`<|im_start|>`, `<bos>`...): special, never produced from text.
    pub const CONTROL: i32 = 3;
    /// A user-defined token ('\n', runs of spaces...): matched in text before the model.
    pub const USER_DEFINED: i32 = 4;
}

/// Tokenizer metadata of one GGUF file.
#[derive(Debug, Clone)]
pub(crate) struct GgufVocab<'a> {
    /// The file it was read from (for error messages).
    pub path: PathBuf,
    /// `tokenizer.ggml.model`: "gpt2" or "llama".
    pub model: String,
    /// `tokenizer.ggml.pre`: the pre-tokenizer recipe ("smollm", "default"...).
    pub pre: Option<String>,
    /// `tokenizer.ggml.tokens`: the piece of every id.
    pub tokens: Vec<&'a str>,
    /// `tokenizer.ggml.token_type`, one per token (all normal when absent).
    pub token_types: Vec<i32>,
    /// `tokenizer.ggml.scores` (SentencePiece vocabularies).
    pub scores: Option<Vec<f32>>,
    /// `tokenizer.ggml.merges` (BPE vocabularies), each "left right".
    pub merges: Option<Vec<&'a str>>,
    /// `tokenizer.ggml.bos_token_id`.
    pub bos: Option<u32>,
    /// `tokenizer.ggml.eos_token_id`.
    pub eos: Option<u32>,
    /// `tokenizer.ggml.eot_token_id`.
    pub eot: Option<u32>,
    /// `tokenizer.ggml.add_bos_token`.
    pub add_bos: Option<bool>,
    /// `tokenizer.ggml.add_space_prefix` (llama.cpp's default for SentencePiece: true).
    pub add_space_prefix: Option<bool>,
}

fn metadata_err(path: &Path, key: &str, reason: impl Into<String>) -> Error {
    Error::Metadata {
        path: path.to_path_buf(),
        key: key.to_string(),
        reason: reason.into(),
    }
}

fn get<'a>(content: &'a Content, key: &str) -> Option<&'a Value> {
    content.metadata.get(key)
}

fn get_string(path: &Path, content: &Content, key: &str) -> Result<Option<String>> {
    match get(content, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(metadata_err(
            path,
            key,
            format!("should be a string, found {:?}", v.value_type()),
        )),
    }
}

fn get_array<'a>(path: &Path, content: &'a Content, key: &str) -> Result<Option<&'a [Value]>> {
    match get(content, key) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(v) => Err(metadata_err(
            path,
            key,
            format!("should be an array, found {:?}", v.value_type()),
        )),
    }
}

fn get_id(path: &Path, content: &Content, key: &str) -> Result<Option<u32>> {
    match get(content, key) {
        None => Ok(None),
        Some(v) => v
            .to_u32()
            .or_else(|_| v.to_i32().map(|x| x as u32))
            .map(Some)
            .map_err(|_| {
                metadata_err(
                    path,
                    key,
                    format!("should be a token id (u32), found {:?}", v.value_type()),
                )
            }),
    }
}

fn get_bool(path: &Path, content: &Content, key: &str) -> Result<Option<bool>> {
    match get(content, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(metadata_err(
            path,
            key,
            format!("should be a bool, found {:?}", v.value_type()),
        )),
    }
}

/// The entries of the string array `key`, borrowed from the file's metadata.
fn string_entries<'a>(path: &Path, key: &str, items: &'a [Value]) -> Result<Vec<&'a str>> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(s) => Ok(s.as_str()),
            other => Err(metadata_err(
                path,
                key,
                format!(
                    "entry {i} should be a string, found {:?}",
                    other.value_type()
                ),
            )),
        })
        .collect()
}

/// The entries of the array `key`, each converted by `convert` (`what` names the type in
/// errors, e.g. "an i32"); there must be one per token (`n` of them).
fn per_token_entries<T>(
    path: &Path,
    key: &str,
    items: &[Value],
    n: usize,
    what: &str,
    convert: impl Fn(&Value) -> Option<T>,
) -> Result<Vec<T>> {
    let entries = items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            convert(v).ok_or_else(|| {
                metadata_err(
                    path,
                    key,
                    format!("entry {i} should be {what}, found {:?}", v.value_type()),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if entries.len() != n {
        return Err(metadata_err(
            path,
            key,
            format!("has {} entries but there are {n} tokens", entries.len()),
        ));
    }
    Ok(entries)
}

/// The optional token id `key`, checked to lie inside a vocabulary of `n` tokens.
fn token_id(path: &Path, content: &Content, key: &str, n: usize) -> Result<Option<u32>> {
    match get_id(path, content, key)? {
        Some(id) if id as usize >= n => Err(metadata_err(
            path,
            key,
            format!("is {id}, outside the vocabulary of {n} tokens"),
        )),
        other => Ok(other),
    }
}

impl<'a> GgufVocab<'a> {
    /// Reads and checks the tokenizer keys of `content` (the metadata of the file `path`).
    pub fn read(path: &Path, content: &'a Content) -> Result<Self> {
        const MODEL: &str = "tokenizer.ggml.model";
        const TOKENS: &str = "tokenizer.ggml.tokens";
        const TYPES: &str = "tokenizer.ggml.token_type";
        const SCORES: &str = "tokenizer.ggml.scores";
        const MERGES: &str = "tokenizer.ggml.merges";

        let model = get_string(path, content, MODEL)?
            .ok_or_else(|| metadata_err(path, MODEL, "is missing: the file has no tokenizer"))?;
        let token_items = get_array(path, content, TOKENS)?
            .ok_or_else(|| metadata_err(path, TOKENS, "is missing: the file has no vocabulary"))?;
        let tokens = string_entries(path, TOKENS, token_items)?;
        if tokens.is_empty() {
            return Err(metadata_err(path, TOKENS, "is empty"));
        }
        let n = tokens.len();
        let token_types = match get_array(path, content, TYPES)? {
            None => vec![token_type::NORMAL; n],
            Some(items) => per_token_entries(path, TYPES, items, n, "an i32", |v| v.to_i32().ok())?,
        };
        let scores = get_array(path, content, SCORES)?
            .map(|items| per_token_entries(path, SCORES, items, n, "an f32", |v| v.to_f32().ok()))
            .transpose()?;
        let merges = get_array(path, content, MERGES)?
            .map(|items| string_entries(path, MERGES, items))
            .transpose()?;
        Ok(GgufVocab {
            path: path.to_path_buf(),
            model,
            pre: get_string(path, content, "tokenizer.ggml.pre")?,
            bos: token_id(path, content, "tokenizer.ggml.bos_token_id", n)?,
            eos: token_id(path, content, "tokenizer.ggml.eos_token_id", n)?,
            eot: token_id(path, content, "tokenizer.ggml.eot_token_id", n)?,
            add_bos: get_bool(path, content, "tokenizer.ggml.add_bos_token")?,
            add_space_prefix: get_bool(path, content, "tokenizer.ggml.add_space_prefix")?,
            tokens,
            token_types,
            scores,
            merges,
        })
    }

    /// Ids of the tokens of one GGUF token type.
    pub fn ids_of_type(&self, ty: i32) -> impl Iterator<Item = u32> + '_ {
        self.token_types
            .iter()
            .enumerate()
            .filter(move |(_, t)| **t == ty)
            .map(|(i, _)| i as u32)
    }

    /// An error about one metadata key of this file.
    pub fn error(&self, key: &str, reason: impl Into<String>) -> Error {
        metadata_err(&self.path, key, reason)
    }
}
