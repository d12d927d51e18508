//! Incremental detokenization for streaming generated text.

use super::ModelTokenizer;
use crate::Result;

/// Turns generated token ids into text as they arrive, one piece per push.
///
/// A piece is only released once it is complete: a UTF-8 character split across tokens
/// (byte-level BPE) or a byte-fallback sequence (`<0xE6><0x9E>...`) is held back until its
/// last byte arrives. Memory stays bounded: only the ids since the last released piece
/// (plus one piece of context) are kept.
pub struct StreamDecoder<'a> {
    tokenizer: &'a ModelTokenizer,
    /// The last released group of ids (context) followed by the ids not yet released.
    ids: Vec<u32>,
    /// How many leading entries of `ids` are context, already released as text.
    context: usize,
}

impl<'a> StreamDecoder<'a> {
    pub(crate) fn new(tokenizer: &'a ModelTokenizer) -> Self {
        StreamDecoder {
            tokenizer,
            ids: Vec::with_capacity(16),
            context: 0,
        }
    }

    /// Adds one generated token; returns the text it completes, if any.
    pub fn push(&mut self, id: u32) -> Result<Option<String>> {
        self.ids.push(id);
        self.release(false)
    }

    /// Ends the stream: returns any text still held back (an incomplete UTF-8 sequence at
    /// the very end comes out as U+FFFD), and resets the decoder for reuse.
    pub fn finish(&mut self) -> Result<Option<String>> {
        let out = self.release(true)?;
        self.ids.clear();
        self.context = 0;
        Ok(out)
    }

    fn release(&mut self, force: bool) -> Result<Option<String>> {
        if self.context == self.ids.len() {
            return Ok(None);
        }
        let before = self.tokenizer.decode(&self.ids[..self.context])?;
        let full = self.tokenizer.decode(&self.ids)?;
        let complete = !full.ends_with('\u{FFFD}');
        if full.len() <= before.len() || !(complete || force) {
            return Ok(None);
        }
        let piece = match full.strip_prefix(before.as_str()) {
            Some(tail) => tail.to_string(),
            // The decoder changed earlier text given more context: release from the same
            // byte offset, snapped back to a character boundary.
            None => {
                let mut at = before.len();
                while !full.is_char_boundary(at) {
                    at -= 1;
                }
                full[at..].to_string()
            }
        };
        // The ids just released become the context of the next piece.
        self.ids.drain(..self.context);
        self.context = self.ids.len();
        Ok(Some(piece))
    }
}
