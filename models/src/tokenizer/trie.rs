//! The token trie llguidance walks to compute masks: every token id's bytes.
//!
//! For the tokenizers bora builds, the bytes come straight from the recipe (byte-level
//! pieces through GPT-2's byte-to-character table; SentencePiece pieces with '▁' as a
//! space and `<0xXX>` as one byte; control tokens marked special), and the environment
//! shares the tokenizer instead of copying it: for Gemma 3's 262k vocabulary that is
//! about 170 MB less than `toktrie_hf_tokenizers::ByteTokenizer`, which clones the whole
//! tokenizer. A tokenizer.json override, whose recipe is unknown, goes through
//! `ByteTokenizer`.

use std::sync::Arc;

use llguidance::toktrie::{TokEnv, TokRxInfo, TokTrie, TokenId, TokenizerEnv};
use tokenizers::Tokenizer;

use super::ModelTokenizer;
use crate::{Error, Result};

/// How a tokenizer's pieces spell bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recipe {
    /// GPT-2 byte-level BPE: every byte is one printable character.
    ByteLevel,
    /// SentencePiece: '▁' is a space, `<0xXX>` is one byte, other text is UTF-8.
    SentencePiece,
    /// Loaded from a tokenizer.json: let `ByteTokenizer` work it out.
    TokenizerJson,
}

/// A token environment sharing the model's tokenizer.
struct SharedEnv {
    hf: Arc<Tokenizer>,
    trie: TokTrie,
}

impl TokenizerEnv for SharedEnv {
    fn tok_trie(&self) -> &TokTrie {
        &self.trie
    }

    fn tokenize_bytes(&self, s: &[u8]) -> Vec<TokenId> {
        self.trie.tokenize_with_greedy_fallback(s, |text| {
            // Tokenizing plain text with the BPE model does not fail; if it ever did,
            // the greedy trie tokenization below is still a valid spelling.
            self.hf
                .encode(text, false)
                .map(|e| e.get_ids().to_vec())
                .unwrap_or_else(|_| self.trie.greedy_tokenize(text.as_bytes()))
        })
    }
}

/// GPT-2's byte-to-character table, inverted: the byte a byte-level character stands for.
fn byte_level_decoder() -> Vec<Option<u8>> {
    let mut table = vec![None; 512];
    let mut next = 256usize;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        if printable {
            table[b as usize] = Some(b);
        } else {
            table[next] = Some(b);
            next += 1;
        }
    }
    table
}

fn byte_fallback(piece: &str) -> Option<u8> {
    let hex = piece.strip_prefix("<0x")?.strip_suffix('>')?;
    if hex.len() == 2 {
        u8::from_str_radix(hex, 16).ok()
    } else {
        None
    }
}

/// The bytes of every token id, special tokens prefixed with the trie's marker.
fn token_bytes(tok: &ModelTokenizer, recipe: Recipe) -> Vec<Vec<u8>> {
    let decoder = byte_level_decoder();
    let mut bytes = vec![Vec::new(); tok.vocab_size];
    for (id, slot) in bytes.iter_mut().enumerate() {
        let id = id as u32;
        let Some(piece) = tok.hf.id_to_token(id) else {
            continue;
        };
        if tok.specials.contains_id(id) {
            slot.push(TokTrie::SPECIAL_TOKEN_MARKER);
            slot.extend_from_slice(piece.as_bytes());
            continue;
        }
        *slot = match recipe {
            Recipe::ByteLevel => piece
                .chars()
                .map(|c| decoder.get(c as usize).copied().flatten())
                .collect::<Option<Vec<u8>>>()
                // A piece outside the byte alphabet can never be produced from text.
                .unwrap_or_default(),
            _ => match byte_fallback(&piece) {
                Some(b) => vec![b],
                None => piece.replace('\u{2581}', " ").into_bytes(),
            },
        };
    }
    bytes
}

/// Builds the token environment for constrained decoding.
pub(crate) fn build_env(tok: &ModelTokenizer) -> Result<TokEnv> {
    let err = |reason: String| Error::Tokenizer {
        path: tok.path.clone(),
        reason,
    };
    let eos: Vec<u32> = tok
        .eos
        .iter()
        .copied()
        .filter(|&id| (id as usize) < tok.vocab_size)
        .collect();
    let Some(&first_eos) = eos.first() else {
        return Err(err(
            "the model declares no end-of-sequence token, so a constrained output could never end"
                .to_string(),
        ));
    };
    if tok.recipe == Recipe::TokenizerJson {
        return build_env_from_json(tok, &eos);
    }
    let info = TokRxInfo {
        vocab_size: tok.vocab_size as u32,
        tok_eos: first_eos,
        tok_bos: tok.bos,
        tok_pad: None,
        tok_unk: tok.specials.id("<unk>"),
        tok_end_of_turn: None,
    };
    let words = token_bytes(tok, tok.recipe);
    let mut trie = TokTrie::from(&info, &words);
    drop(words);
    if eos.len() > 1 {
        trie = trie.with_eos_tokens(&eos);
    }
    Ok(Arc::new(SharedEnv {
        hf: tok.hf.clone(),
        trie,
    }))
}

fn build_env_from_json(tok: &ModelTokenizer, eos: &[u32]) -> Result<TokEnv> {
    let err = |reason: String| Error::Tokenizer {
        path: tok.path.clone(),
        reason,
    };
    // The byte mapping asserts on vocabularies it does not expect (a piece spelled like
    // a byte token, say); a model file must not be able to abort the process.
    let hf = Tokenizer::clone(&tok.hf);
    let mapped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        toktrie_hf_tokenizers::ByteTokenizer::from_tokenizer(hf)
    }))
    .map_err(|_| {
        err("the vocabulary cannot be mapped to bytes for constrained decoding (the mapping rejected a token)".to_string())
    })?;
    let mut byte_tok = mapped.map_err(|e| {
        err(format!(
            "cannot map tokens to bytes for constrained decoding: {e}"
        ))
    })?;
    let n = byte_tok.tokrx_info().vocab_size as usize;
    let eos: Vec<u32> = eos
        .iter()
        .copied()
        .filter(|&id| (id as usize) < n)
        .collect();
    if eos.is_empty() {
        return Err(err(format!(
            "the end-of-sequence ids are outside the {n} tokens of the tokenizer.json"
        )));
    }
    byte_tok.set_eos_tokens(&eos);
    byte_tok
        .into_tok_env(Some(tok.vocab_size.max(n)))
        .map_err(|e| err(format!("cannot build the token trie: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_level_table_covers_every_byte_once() {
        let table = byte_level_decoder();
        let mut seen = [false; 256];
        for b in table.iter().flatten() {
            assert!(!seen[*b as usize], "byte {b} mapped twice");
            seen[*b as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(table['a' as usize], Some(b'a'));
        assert_eq!(table['\u{120}' as usize], Some(b' '), "Ġ is a space");
        assert_eq!(table['\u{10A}' as usize], Some(b'\n'), "Ċ is a newline");
    }

    #[test]
    fn byte_fallback_pieces_are_single_bytes() {
        assert_eq!(byte_fallback("<0x0A>"), Some(b'\n'));
        assert_eq!(byte_fallback("<0xE6>"), Some(0xE6));
        assert_eq!(byte_fallback("<0x0A"), None);
        assert_eq!(byte_fallback("<0x123>"), None);
        assert_eq!(byte_fallback("<table>"), None);
    }
}
