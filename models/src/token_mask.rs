//! The set of tokens a grammar allows next ([`TokenMask`]): computed by
//! [`crate::constrain`], read by [`crate::generate`] to mask logits or to compute only the
//! allowed ones (a module of its own so that neither imports the other).

use llguidance::toktrie::SimpleVob;

/// The set of token ids allowed at one step (a bitset over the vocabulary).
#[derive(Debug, Clone)]
pub struct TokenMask(SimpleVob);

impl TokenMask {
    /// The mask llguidance computed.
    pub(crate) fn new(vob: SimpleVob) -> Self {
        Self(vob)
    }

    /// Whether `id` may come next.
    pub fn is_allowed(&self, id: u32) -> bool {
        (id as usize) < self.0.len() && self.0.is_allowed(id)
    }

    /// How many tokens are allowed.
    pub fn count(&self) -> usize {
        self.0.num_set()
    }

    /// The allowed ids, ascending.
    pub fn allowed(&self) -> Vec<u32> {
        self.0.to_list()
    }

    /// Size of the vocabulary the mask covers.
    pub fn vocab_size(&self) -> usize {
        self.0.len()
    }

    /// Sets every disallowed logit to -inf (ids past the mask's vocabulary included).
    pub fn apply(&self, logits: &mut [f32]) {
        let words = self.0.as_slice();
        for (w, chunk) in logits.chunks_mut(32).enumerate() {
            let bits = words.get(w).copied().unwrap_or(0);
            if bits == u32::MAX {
                continue;
            }
            for (b, logit) in chunk.iter_mut().enumerate() {
                if bits & (1 << b) == 0 {
                    *logit = f32::NEG_INFINITY;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_masks_disallowed_and_out_of_vocabulary_logits() {
        let mut vob = SimpleVob::alloc(40);
        vob.allow_token(1);
        vob.allow_token(33);
        let mask = TokenMask::new(vob);
        let mut logits = vec![1.0f32; 70];
        mask.apply(&mut logits);
        let kept: Vec<usize> = (0..70).filter(|&i| logits[i].is_finite()).collect();
        assert_eq!(kept, vec![1, 33]);
        assert!(mask.is_allowed(33) && !mask.is_allowed(2) && !mask.is_allowed(1000));
        assert_eq!(mask.count(), 2);
        assert_eq!(mask.allowed(), vec![1, 33]);
    }
}
