//! Finding special (control) tokens written in text, for encoding with special parsing on.

use std::collections::HashMap;

/// A piece of text split at special tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    /// Ordinary text, tokenized by the model's tokenizer.
    Text(&'a str),
    /// A special token written in the text, with its id.
    Special(u32),
}

/// Leftmost-longest matcher over the special tokens of a vocabulary.
///
/// Cheap for the few-dozen-byte commands it sees: positions whose byte cannot start a
/// special token are skipped with one table lookup; others try each special-token length,
/// longest first (a few dozen hash lookups).
#[derive(Debug, Clone)]
pub(crate) struct SpecialMatcher {
    ids: HashMap<String, u32>,
    /// Distinct byte lengths of the special tokens, longest first.
    lengths: Vec<usize>,
    /// Whether some special token starts with this byte.
    first_byte: [bool; 256],
    /// The ids of all special tokens.
    id_set: std::collections::HashSet<u32>,
}

impl SpecialMatcher {
    /// A matcher for `(token text, id)` pairs; empty texts are ignored.
    pub fn new(tokens: impl IntoIterator<Item = (String, u32)>) -> Self {
        let mut ids = HashMap::new();
        let mut first_byte = [false; 256];
        for (text, id) in tokens {
            if let Some(&b) = text.as_bytes().first() {
                first_byte[b as usize] = true;
                ids.entry(text).or_insert(id);
            }
        }
        let mut lengths: Vec<usize> = ids.keys().map(String::len).collect();
        lengths.sort_unstable_by(|a, b| b.cmp(a));
        lengths.dedup();
        let id_set = ids.values().copied().collect();
        SpecialMatcher {
            ids,
            lengths,
            first_byte,
            id_set,
        }
    }

    /// Whether `id` is one of the special tokens.
    pub fn contains_id(&self, id: u32) -> bool {
        self.id_set.contains(&id)
    }

    /// The id of the special token spelled exactly `text`.
    pub fn id(&self, text: &str) -> Option<u32> {
        self.ids.get(text).copied()
    }

    /// The longest special token starting at byte `at` of `text`: (its id, its length).
    fn match_at(&self, text: &str, at: usize) -> Option<(u32, usize)> {
        let rest = &text.as_bytes()[at..];
        if !rest.first().is_some_and(|&b| self.first_byte[b as usize]) {
            return None;
        }
        self.lengths.iter().find_map(|&len| {
            let end = at + len;
            if end > text.len() || !text.is_char_boundary(end) {
                return None;
            }
            self.ids.get(&text[at..end]).map(|&id| (id, len))
        })
    }

    /// Splits `text` into ordinary text and special tokens, leftmost-longest.
    pub fn split<'a>(&self, text: &'a str) -> Vec<Segment<'a>> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut at = 0;
        while at < text.len() {
            if let Some((id, len)) = self.match_at(text, at) {
                if start < at {
                    out.push(Segment::Text(&text[start..at]));
                }
                out.push(Segment::Special(id));
                at += len;
                start = at;
            } else {
                at += text[at..].chars().next().map_or(1, char::len_utf8);
            }
        }
        if start < text.len() {
            out.push(Segment::Text(&text[start..]));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> SpecialMatcher {
        SpecialMatcher::new([
            ("<|im_start|>".to_string(), 1),
            ("<|im_end|>".to_string(), 2),
            ("<|im".to_string(), 7),
        ])
    }

    #[test]
    fn splits_leftmost_longest() {
        let m = matcher();
        assert_eq!(
            m.split("<|im_start|>user\nhé<|im_end|><|im"),
            vec![
                Segment::Special(1),
                Segment::Text("user\nhé"),
                Segment::Special(2),
                Segment::Special(7),
            ]
        );
    }

    #[test]
    fn text_without_specials_is_one_segment() {
        let m = matcher();
        assert_eq!(m.split("a < b |> c"), vec![Segment::Text("a < b |> c")]);
        assert!(m.split("").is_empty());
    }
}
