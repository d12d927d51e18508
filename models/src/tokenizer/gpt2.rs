//! The gpt2-style recipe (`tokenizer.ggml.model = "gpt2"`, e.g. SmolLM2): byte-level BPE
//! from the file's tokens and merges.
//!
//! Pre-tokenizer: for `pre = "smollm"`, digits split one by one, then byte-level with the
//! GPT-2 regex and no prefix space; for `gpt2`, byte-level alone. Control tokens
//! (type 3) become special added tokens. Other `pre` values use regexes bora does not
//! implement and are rejected rather than tokenized differently from llama.cpp.

use tokenizers::decoders::byte_level::ByteLevel;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{AddedToken, PreTokenizerWrapper, Tokenizer};

use super::vocab::{token_type, GgufVocab};
use crate::{Error, Result};

/// `tokenizer.ggml.pre` values this recipe reproduces.
/// (llama.cpp's `default` pre-tokenizer, also used when the key is absent, splits with a
/// different regex set and is not reproduced.)
pub(crate) const SUPPORTED_PRE: &[&str] = &["smollm", "gpt2"];

/// Builds the byte-level BPE tokenizer of a gpt2-style vocabulary.
pub(crate) fn build(vocab: &GgufVocab<'_>) -> Result<Tokenizer> {
    let supported = SUPPORTED_PRE.join(", ");
    let pre = match vocab.pre.as_deref() {
        Some(pre) if SUPPORTED_PRE.contains(&pre) => pre,
        found => {
            let what = match found {
                Some(pre) => format!("is `{pre}`, a pre-tokenizer bora does not reproduce"),
                None => "is missing (llama.cpp then uses its `default` pre-tokenizer, which bora does not reproduce)".to_string(),
            };
            return Err(vocab.error(
                "tokenizer.ggml.pre",
                format!(
                    "{what}; supported for gpt2 vocabularies: {supported}; \
                     put the model's tokenizer.json beside the file to use it instead"
                ),
            ));
        }
    };
    let merges = vocab.merges.as_ref().ok_or_else(|| {
        vocab.error(
            "tokenizer.ggml.merges",
            "is missing: a gpt2 (BPE) vocabulary needs its merges; the file is incomplete",
        )
    })?;
    let mut ids = Vocab::with_capacity(vocab.tokens.len());
    for (id, token) in vocab.tokens.iter().enumerate() {
        // Keep the first id of a duplicated piece, as llama.cpp's lookup does.
        ids.entry(token.to_string()).or_insert(id as u32);
    }
    let pairs = merges
        .iter()
        .enumerate()
        .map(|(i, merge)| {
            merge
                .split_once(' ')
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| {
                    vocab.error(
                        "tokenizer.ggml.merges",
                        format!("entry {i} ({merge:?}) is not two pieces separated by a space"),
                    )
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let bpe = BPE::builder()
        .vocab_and_merges(ids, pairs)
        .build()
        .map_err(|e| Error::Tokenizer {
            path: vocab.path.clone(),
            reason: format!("BPE from tokens and merges: {e}"),
        })?;

    let mut tokenizer = Tokenizer::new(bpe);
    let byte_level = ByteLevel::new(false, true, true);
    let pre_tokenizer: PreTokenizerWrapper = if pre == "smollm" {
        Sequence::new(vec![Digits::new(true).into(), byte_level.into()]).into()
    } else {
        byte_level.into()
    };
    tokenizer.with_pre_tokenizer(Some(pre_tokenizer));
    tokenizer.with_decoder(Some(byte_level));
    let specials: Vec<AddedToken> = vocab
        .ids_of_type(token_type::CONTROL)
        .map(|id| AddedToken::from(vocab.tokens[id as usize], true))
        .collect();
    tokenizer.add_special_tokens(&specials);
    let user: Vec<AddedToken> = vocab
        .ids_of_type(token_type::USER_DEFINED)
        .map(|id| AddedToken::from(vocab.tokens[id as usize], false))
        .collect();
    tokenizer.add_tokens(&user);
    Ok(tokenizer)
}

/// The bytes that no token of `tokens` spells on its own, as a table indexed by byte.
///
/// Byte-level BPE starts every word as one symbol per byte (GPT-2's byte-to-unicode
/// map); a byte whose symbol is not a token is silently dropped, both by the Hugging Face
/// BPE model (no unknown token) and by llama.cpp. SmolLM2's vocabulary lacks 0x04, 0x06,
/// 0x13, 0x14, 0x16, 0x1D, 0xF1 and 0xF2 (plus bytes never found in UTF-8), so e.g.
/// U+5F680 (F1 9F 9A 80) used to encode to three stray continuation bytes.
pub(crate) fn unrepresentable_bytes(tokens: &[&str]) -> [bool; 256] {
    let pieces: std::collections::HashSet<&str> = tokens.iter().copied().collect();
    let mut missing = [false; 256];
    let mut buf = [0u8; 4];
    for (byte, slot) in missing.iter_mut().enumerate() {
        *slot = !pieces.contains(byte_char(byte as u8).encode_utf8(&mut buf) as &str);
    }
    missing
}

/// GPT-2's byte-to-unicode map: printable Latin-1 bytes stand for themselves, the other
/// bytes, in order, for U+0100 onwards.
fn byte_char(byte: u8) -> char {
    let printable = |b: u8| matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
    if printable(byte) {
        return char::from(byte);
    }
    let rank = (0..byte).filter(|&b| !printable(b)).count() as u32;
    char::from_u32(0x100 + rank).unwrap_or(char::REPLACEMENT_CHARACTER)
}

#[cfg(test)]
mod tests {
    use super::byte_char;

    #[test]
    fn byte_chars_follow_gpt2() {
        assert_eq!(byte_char(b'a'), 'a');
        assert_eq!(byte_char(b' '), '\u{120}');
        assert_eq!(byte_char(0), '\u{100}');
        assert_eq!(byte_char(0xAD), '\u{143}');
        assert_eq!(byte_char(0xF1), 'ñ');
    }
}
