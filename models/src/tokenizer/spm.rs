//! The llama/SentencePiece recipe (`tokenizer.ggml.model = "llama"`, e.g. Gemma 3): the
//! file has scores but no merges, so the merges are derived.
//!
//! For every normal token (type 1) and every split point where both halves are normal
//! tokens, a merge (left, right), ranked by the merged token's score, highest first (ties:
//! left id, then right id): 513,511 merges for Gemma 3. BPE with byte fallback and
//! `<unk>`; a normalizer replacing ' ' with '▁' (no prefix space); user-defined tokens
//! (type 4) as non-special added tokens matched before normalisation; control tokens
//! (type 3) as special tokens. Decoder: '▁' -> ' ', byte fallback, fuse.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use tokenizers::decoders::byte_fallback::ByteFallback;
use tokenizers::decoders::fuse::Fuse;
use tokenizers::decoders::sequence::Sequence;
use tokenizers::models::bpe::{Vocab, BPE};
use tokenizers::normalizers::replace::Replace;
use tokenizers::{AddedToken, Tokenizer};

use super::vocab::{token_type, GgufVocab};
use crate::{Error, Result};

/// SentencePiece's word-boundary marker, which stands for a space inside pieces.
const SPACE_MARK: &str = "\u{2581}";

/// A fast non-cryptographic hasher (the Fx hash of rustc) for the vocabulary lookups
/// done while deriving merges: about 1.5 million for Gemma 3, where SipHash costs
/// several hundred milliseconds.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Derives BPE merges from a scored vocabulary: `(left, right)` token ids, best first.
///
/// Only normal tokens take part, as in llama.cpp's SentencePiece tokenizer, which joins
/// adjacent symbols whenever the joined text is a normal vocabulary piece, best score first.
pub(crate) fn derive_merges(tokens: &[&str], types: &[i32], scores: &[f32]) -> Vec<(u32, u32)> {
    let mut normal: FastMap<&str, u32> = FastMap::default();
    normal.reserve(tokens.len());
    normal.extend(
        tokens
            .iter()
            .zip(types)
            .enumerate()
            .filter(|(_, (_, ty))| **ty == token_type::NORMAL)
            .map(|(id, (piece, _))| (*piece, id as u32)),
    );
    let mut ranked: Vec<(f32, u32, u32)> = Vec::with_capacity(tokens.len() * 2);
    for (id, (piece, ty)) in tokens.iter().zip(types).enumerate() {
        if *ty != token_type::NORMAL {
            continue;
        }
        for (split, _) in piece.char_indices().skip(1) {
            let (left, right) = piece.split_at(split);
            if let Some(&l) = normal.get(left) {
                if let Some(&r) = normal.get(right) {
                    ranked.push((scores[id], l, r));
                }
            }
        }
    }
    ranked.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    ranked.into_iter().map(|(_, l, r)| (l, r)).collect()
}

/// Builds the SentencePiece-style BPE tokenizer of a llama-style vocabulary.
pub(crate) fn build(vocab: &GgufVocab<'_>) -> Result<Tokenizer> {
    let scores = vocab.scores.as_ref().ok_or_else(|| {
        vocab.error(
            "tokenizer.ggml.scores",
            "is missing: a llama (SentencePiece) vocabulary needs its token scores; the file is incomplete",
        )
    })?;
    if vocab.add_space_prefix != Some(false) {
        return Err(vocab.error(
            "tokenizer.ggml.add_space_prefix",
            format!(
                "is {}: llama.cpp then prepends a space to text, which bora's SentencePiece \
                 recipe does not reproduce; put the model's tokenizer.json beside the file",
                match vocab.add_space_prefix {
                    Some(_) => "true",
                    None => "absent (llama.cpp's default is true)",
                }
            ),
        ));
    }
    let merges = derive_merges(&vocab.tokens, &vocab.token_types, scores);
    let pairs: Vec<(String, String)> = merges
        .iter()
        .map(|&(l, r)| {
            (
                vocab.tokens[l as usize].to_string(),
                vocab.tokens[r as usize].to_string(),
            )
        })
        .collect();
    let mut ids = Vocab::with_capacity(vocab.tokens.len());
    for (id, token) in vocab.tokens.iter().enumerate() {
        ids.entry(token.to_string()).or_insert(id as u32);
    }
    let mut builder = BPE::builder().byte_fallback(true).fuse_unk(true);
    if ids.contains_key("<unk>") {
        builder = builder.unk_token("<unk>".to_string());
    }
    let bpe = builder
        .vocab_and_merges(ids, pairs)
        .build()
        .map_err(|e| Error::Tokenizer {
            path: vocab.path.clone(),
            reason: format!("BPE from derived SentencePiece merges: {e}"),
        })?;

    let mut tokenizer = Tokenizer::new(bpe);
    let replace = |from: &str, to: &str| {
        Replace::new(from, to).map_err(|e| Error::Tokenizer {
            path: vocab.path.clone(),
            reason: format!("replace {from:?} with {to:?}: {e}"),
        })
    };
    tokenizer.with_normalizer(Some(replace(" ", SPACE_MARK)?));
    tokenizer.with_decoder(Some(Sequence::new(vec![
        replace(SPACE_MARK, " ")?.into(),
        ByteFallback::new().into(),
        Fuse::new().into(),
    ])));
    let specials: Vec<AddedToken> = vocab
        .ids_of_type(token_type::CONTROL)
        .map(|id| AddedToken::from(vocab.tokens[id as usize], true))
        .collect();
    tokenizer.add_special_tokens(&specials);
    let user: Vec<AddedToken> = vocab
        .ids_of_type(token_type::USER_DEFINED)
        .map(|id| AddedToken::from(vocab.tokens[id as usize], false).normalized(false))
        .collect();
    tokenizer.add_tokens(&user);
    Ok(tokenizer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_are_ranked_by_merged_score_then_ids() {
        let tokens = ["a", "b", "c", "ab", "bc", "abc", "<x>"];
        let types = [1, 1, 1, 1, 1, 1, 3];
        let scores = [0.0, 0.0, 0.0, -1.0, -0.5, -0.5, 0.0];
        let merges = derive_merges(&tokens, &types, &scores);
        // bc (-0.5) and abc (-0.5: a+bc, ab+c) tie on score; left id breaks the tie.
        assert_eq!(merges, vec![(0, 4), (1, 2), (3, 2), (0, 1)]);
    }

    #[test]
    fn non_normal_tokens_take_no_part() {
        let tokens = ["a", "b", "ab"];
        assert!(derive_merges(&tokens, &[1, 3, 1], &[0.0, 0.0, 0.0]).is_empty());
        assert!(derive_merges(&tokens, &[1, 1, 4], &[0.0, 0.0, 0.0]).is_empty());
    }
}
